"""UBL 2.1 parser: exact extraction from small hand-written invoices and credit notes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

import gateway.parsers.ubl as ubl
from gateway.limits import Limits
from gateway.model import DocumentKind, Invoice, Note, Party, PartyId, PaymentInstructions, Severity

LIMITS = Limits()

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">"""

SELLER = """
  <cac:AccountingSupplierParty><cac:Party>
    <cbc:EndpointID schemeID="0225">123456782_FACT</cbc:EndpointID>
    <cac:PartyIdentification><cbc:ID schemeID="0009">12345678200017</cbc:ID></cac:PartyIdentification>
    <cac:PartyIdentification><cbc:ID>SUP-42</cbc:ID></cac:PartyIdentification>
    <cac:PartyName><cbc:Name>Atelier Dupont</cbc:Name></cac:PartyName>
    <cac:PostalAddress><cac:Country><cbc:IdentificationCode>FR</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyTaxScheme><cbc:CompanyID>FR32123456782</cbc:CompanyID>
      <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
    <cac:PartyLegalEntity><cbc:RegistrationName>Atelier Dupont SARL</cbc:RegistrationName>
      <cbc:CompanyID schemeID="0002">123456782</cbc:CompanyID></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party>
    <cac:PostalAddress><cac:Country><cbc:IdentificationCode>BE</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyTaxScheme><cbc:CompanyID>FR11987654321</cbc:CompanyID>
      <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
    <cac:PartyTaxScheme><cbc:CompanyID>LOCAL-TAX-1</cbc:CompanyID>
      <cac:TaxScheme><cbc:ID>TAX</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
    <cac:PartyLegalEntity><cbc:RegistrationName>Client Martin SA</cbc:RegistrationName>
      <cbc:CompanyID schemeID="0002">987654321</cbc:CompanyID></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingCustomerParty>"""

FACTORED_INVOICE = (
    HEADER.format(root="Invoice")
    + """
  <cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>
  <cbc:ID>FA-2026-0042</cbc:ID>
  <cbc:IssueDate>2026-03-02</cbc:IssueDate>
  <cbc:DueDate>2026-04-30</cbc:DueDate>
  <cbc:InvoiceTypeCode>393</cbc:InvoiceTypeCode>
  <cbc:Note>#ACC#Cette créance a été cédée à Factor Bank SA, à qui le paiement doit être fait.</cbc:Note>
  <cbc:Note>#pmt#Indemnité forfaitaire de 40 EUR.</cbc:Note>
  <cbc:Note>Merci de votre confiance.</cbc:Note>
  <cbc:DocumentCurrencyCode>USD</cbc:DocumentCurrencyCode>
  <cbc:TaxCurrencyCode>EUR</cbc:TaxCurrencyCode>
  <cbc:BuyerReference>DEPT-7</cbc:BuyerReference>
  <cac:OrderReference><cbc:ID>PO-778</cbc:ID></cac:OrderReference>"""
    + SELLER
    + """
  <cac:PayeeParty>
    <cac:PartyIdentification><cbc:ID schemeID="0009">55512345600021</cbc:ID></cac:PartyIdentification>
    <cac:PartyName><cbc:Name>Factor Bank SA</cbc:Name></cac:PartyName>
    <cac:PartyLegalEntity><cbc:CompanyID schemeID="0002">555123456</cbc:CompanyID></cac:PartyLegalEntity>
  </cac:PayeeParty>
  <cac:PaymentMeans>
    <cbc:PaymentMeansCode name="Virement SEPA">58</cbc:PaymentMeansCode>
    <cbc:PaymentID>FA-2026-0042</cbc:PaymentID>
    <cac:PayeeFinancialAccount>
      <cbc:ID>FR7630006000011234567890189</cbc:ID>
      <cbc:Name>Factor Bank SA - cessions</cbc:Name>
      <cac:FinancialInstitutionBranch><cbc:ID>AGRIFRPPXXX</cbc:ID></cac:FinancialInstitutionBranch>
    </cac:PayeeFinancialAccount>
  </cac:PaymentMeans>
  <cac:PaymentMeans><cbc:PaymentMeansCode>49</cbc:PaymentMeansCode></cac:PaymentMeans>
  <cac:PaymentTerms><cbc:Note>Paiement à 60 jours.</cbc:Note></cac:PaymentTerms>
  <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">183.40</cbc:TaxAmount></cac:TaxTotal>
  <cac:TaxTotal><cbc:TaxAmount currencyID="USD">200.00</cbc:TaxAmount></cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="USD">1010.00</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="USD">1000.00</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="USD">1200.00</cbc:TaxInclusiveAmount>
    <cbc:AllowanceTotalAmount currencyID="USD">20.00</cbc:AllowanceTotalAmount>
    <cbc:ChargeTotalAmount currencyID="USD">10.00</cbc:ChargeTotalAmount>
    <cbc:PrepaidAmount currencyID="USD">100.00</cbc:PrepaidAmount>
    <cbc:PayableRoundingAmount currencyID="USD">0.004</cbc:PayableRoundingAmount>
    <cbc:PayableAmount currencyID="USD">1100.004</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:InvoiceLine>
    <cbc:ID>1</cbc:ID>
    <cbc:InvoicedQuantity unitCode="C62">1</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="USD">1010.00</cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>Travaux</cbc:Name></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="USD">1010.00</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>
</Invoice>"""
)

CREDIT_NOTE = (
    HEADER.format(root="CreditNote")
    + """
  <cbc:ID>AV-2026-0007</cbc:ID>
  <cbc:IssueDate>2026-03-10+01:00</cbc:IssueDate>
  <cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cac:BillingReference><cac:InvoiceDocumentReference>
    <cbc:ID>FA-2026-0042</cbc:ID><cbc:IssueDate>2026-03-02</cbc:IssueDate>
  </cac:InvoiceDocumentReference></cac:BillingReference>
  <cac:BillingReference><cac:InvoiceDocumentReference>
    <cbc:ID>FA-2026-0043</cbc:ID>
  </cac:InvoiceDocumentReference></cac:BillingReference>"""
    + SELLER
    + """
  <cac:PaymentMeans>
    <cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>
    <cbc:PaymentDueDate>2026-04-10</cbc:PaymentDueDate>
  </cac:PaymentMeans>
  <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">20.00</cbc:TaxAmount></cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">100.00</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">100.00</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">120.00</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="EUR">120.00</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:CreditNoteLine>
    <cbc:ID>1</cbc:ID>
    <cbc:CreditedQuantity unitCode="C62">1</cbc:CreditedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">100.00</cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>Retour</cbc:Name></cac:Item>
  </cac:CreditNoteLine>
</CreditNote>"""
)


def parse_one(xml: str, limits: Limits = LIMITS) -> Invoice:
    result = ubl.parse(xml.encode("utf-8"), limits)
    assert result.format == "ubl"
    assert result.issues == (), result.issues
    assert len(result.documents) == 1
    return result.documents[0]


def test_factored_invoice_header_terms() -> None:
    invoice = parse_one(FACTORED_INVOICE)
    assert invoice.number == "FA-2026-0042"
    assert invoice.issue_date == date(2026, 3, 2)
    assert invoice.due_date == date(2026, 4, 30)
    assert invoice.type_code == "393"
    assert invoice.kind is DocumentKind.INVOICE
    assert invoice.currency == "USD"
    assert invoice.tax_currency == "EUR"
    assert invoice.buyer_reference == "DEPT-7"
    assert invoice.purchase_order_reference == "PO-778"
    assert invoice.payment_terms == "Paiement à 60 jours."
    assert invoice.specification_id == "urn:cen.eu:en16931:2017"
    assert invoice.preceding_invoices == ()
    assert invoice.location == "/Invoice"


def test_notes_carry_the_subject_code_prefix() -> None:
    assert parse_one(FACTORED_INVOICE).notes == (
        Note("Cette créance a été cédée à Factor Bank SA, à qui le paiement doit être fait.", "ACC"),
        Note("Indemnité forfaitaire de 40 EUR.", "PMT"),
        Note("Merci de votre confiance."),
    )


def test_parties_with_identifier_schemes() -> None:
    invoice = parse_one(FACTORED_INVOICE)
    assert invoice.seller == Party(
        name="Atelier Dupont SARL",
        trading_name="Atelier Dupont",
        identifiers=(PartyId("12345678200017", "0009"), PartyId("SUP-42")),
        legal_id=PartyId("123456782", "0002"),
        vat_id="FR32123456782",
        country="FR",
    )
    assert invoice.seller.siren_candidates() == ("123456782",)
    assert invoice.buyer == Party(
        name="Client Martin SA",
        legal_id=PartyId("987654321", "0002"),
        vat_id="FR11987654321",  # the TAX scheme entry (BT-32 style) is not the VAT id
        country="BE",
    )


def test_payee_is_the_factor_with_its_account() -> None:
    invoice = parse_one(FACTORED_INVOICE)
    assert invoice.payee == Party(
        name="Factor Bank SA",
        identifiers=(PartyId("55512345600021", "0009"),),
        legal_id=PartyId("555123456", "0002"),
    )
    assert invoice.payment_instructions == (
        PaymentInstructions(
            means_code="58",
            means_text="Virement SEPA",
            remittance_information="FA-2026-0042",
            account_id="FR7630006000011234567890189",
            account_name="Factor Bank SA - cessions",
            bic="AGRIFRPPXXX",
        ),
        PaymentInstructions(means_code="49"),
    )


def test_totals_are_exact_decimals_and_tax_is_in_the_document_currency() -> None:
    totals = parse_one(FACTORED_INVOICE).totals
    assert totals.line_net == Decimal("1010.00")
    assert totals.allowances == Decimal("20.00")
    assert totals.charges == Decimal("10.00")
    assert totals.tax_exclusive == Decimal("1000.00")
    assert totals.tax == Decimal("200.00")  # BT-110 in USD, not the EUR BT-111
    assert totals.tax_inclusive == Decimal("1200.00")
    assert totals.prepaid == Decimal("100.00")
    assert totals.rounding == Decimal("0.004")
    assert totals.amount_due == Decimal("1100.004")
    assert str(totals.amount_due) == "1100.004"


def test_credit_note_terms() -> None:
    credit_note = parse_one(CREDIT_NOTE)
    assert credit_note.number == "AV-2026-0007"
    assert credit_note.type_code == "381"
    assert credit_note.is_credit_note
    assert credit_note.issue_date == date(2026, 3, 10)  # the zone of an xsd:date is ignored
    assert credit_note.due_date == date(2026, 4, 10)  # BT-9 from PaymentMeans/PaymentDueDate
    assert credit_note.preceding_invoices == ("FA-2026-0042", "FA-2026-0043")
    assert credit_note.payee is None
    assert credit_note.location == "/CreditNote"
    assert credit_note.totals.tax == Decimal("20.00")
    assert credit_note.signed_amount == Decimal("-120.00")


def test_missing_invoice_number_is_fatal_and_yields_no_document() -> None:
    result = ubl.parse(
        FACTORED_INVOICE.replace("<cbc:ID>FA-2026-0042</cbc:ID>", "<cbc:ID> </cbc:ID>").encode(), LIMITS
    )
    assert result.documents == ()
    assert result.file_rejected
    [issue] = result.issues
    assert issue.code == "GW-REQUIRED-MISSING"
    assert issue.message == "The invoice number (BT-1) is missing."
    assert issue.location == "/Invoice/cbc:ID"


def test_missing_type_code_and_currency_are_both_reported() -> None:
    xml = FACTORED_INVOICE.replace("<cbc:InvoiceTypeCode>393</cbc:InvoiceTypeCode>", "").replace(
        "<cbc:DocumentCurrencyCode>USD</cbc:DocumentCurrencyCode>", ""
    )
    result = ubl.parse(xml.encode(), LIMITS)
    assert result.documents == ()
    assert [(i.code, i.location) for i in result.issues] == [
        ("GW-REQUIRED-MISSING", "/Invoice/cbc:InvoiceTypeCode"),
        ("GW-REQUIRED-MISSING", "/Invoice/cbc:DocumentCurrencyCode"),
    ]


def test_a_value_longer_than_the_cap_is_fatal_with_its_business_term() -> None:
    result = ubl.parse(FACTORED_INVOICE.encode(), Limits(max_field_chars=20))
    assert result.documents == ()
    codes = {(i.code, i.location) for i in result.issues}
    assert ("GW-VALUE-INVALID", "/Invoice/cbc:CustomizationID") in codes
    message = next(i.message for i in result.issues if i.location == "/Invoice/cbc:CustomizationID")
    assert "specification identifier (BT-24)" in message and "more than 20" in message
    # free-text notes and payment terms are not capped
    assert not any(i.location and i.location.endswith("cbc:Note") for i in result.issues)


def test_schema_errors_reject_the_file_with_a_line_and_a_plain_message() -> None:
    xml = FACTORED_INVOICE.replace(
        "<cbc:IssueDate>2026-03-02</cbc:IssueDate>", "<cbc:IssueDate>02/03/2026</cbc:IssueDate>"
    )
    result = ubl.parse(xml.encode(), LIMITS)
    assert result.documents == ()
    [issue] = result.issues
    assert issue.code == "GW-XSD-INVALID" and issue.severity is Severity.FATAL
    assert issue.location == "line 7"
    assert issue.message == "The element cbc:IssueDate holds '02/03/2026', which is not a date (YYYY-MM-DD)."


def test_misplaced_element_names_what_was_expected() -> None:
    xml = FACTORED_INVOICE.replace("<cbc:BuyerReference>DEPT-7</cbc:BuyerReference>", "").replace(
        "<cac:PaymentTerms>", "<cbc:BuyerReference>DEPT-7</cbc:BuyerReference><cac:PaymentTerms>"
    )
    [issue] = ubl.parse(xml.encode(), LIMITS).issues
    assert issue.code == "GW-XSD-INVALID"
    assert issue.message.startswith(
        "The element cbc:BuyerReference is not allowed at this position by the UBL 2.1 Invoice schema."
    )


def test_a_non_ubl_root_is_reported_not_raised() -> None:
    result = ubl.parse(b'<?xml version="1.0"?>\n<Order xmlns="urn:example"/>', LIMITS)
    [issue] = result.issues
    assert (issue.code, issue.location) == ("GW-FORMAT-UNKNOWN", "line 2")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "GW-FILE-EMPTY"),
        (b"<Invoice>", "GW-XML-MALFORMED"),
        (b'<!DOCTYPE Invoice [<!ENTITY x "y">]><Invoice/>', "GW-XML-DOCTYPE"),
    ],
)
def test_unreadable_files_become_issues(data: bytes, code: str) -> None:
    result = ubl.parse(data, LIMITS)
    assert result.documents == ()
    assert [i.code for i in result.issues] == [code]


def test_utf16_file_with_bom_parses_like_utf8() -> None:
    utf16 = FACTORED_INVOICE.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    result = ubl.parse(utf16, LIMITS)
    assert result.documents == ubl.parse(FACTORED_INVOICE.encode(), LIMITS).documents
