"""CII parser: exact extraction from a small hand-written factored invoice, and the XSD its profile picks.

The hand-written invoice claims the French EXTENDED-CTC-FR profile, so it is checked
against the full D22B schema, which lets odd values through to the extraction (a date
format 610, a missing currency) for these tests to see how they are reported.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import gateway.parsers.cii as cii
from gateway.limits import Limits
from gateway.model import EInvoiceFacts, Invoice, Note, Party, PartyId, PaymentInstructions
from gateway.parsers.profiles import profile_of

LIMITS = Limits()
CTC_FR = "urn:cen.eu:en16931:2017#conformant#urn.cpro.gouv.fr:1p0:extended-ctc-fr"
BRAVO = Path(__file__).resolve().parents[2] / "samples" / "demo" / "batches" / "bravo" / "bravo_B-2001.xml"

FACTORED_CII = """<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
  xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
  xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
  <rsm:ExchangedDocumentContext>
    <ram:BusinessProcessSpecifiedDocumentContextParameter><ram:ID>B1</ram:ID></ram:BusinessProcessSpecifiedDocumentContextParameter>
    <ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>urn:cen.eu:en16931:2017#conformant#urn.cpro.gouv.fr:1p0:extended-ctc-fr</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>
  </rsm:ExchangedDocumentContext>
  <rsm:ExchangedDocument>
    <ram:ID>F-2026-118</ram:ID>
    <ram:TypeCode>393</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">20260315</udt:DateTimeString></ram:IssueDateTime>
    <ram:IncludedNote>
      <ram:Content>Créance cédée à Factor Bank SA (subrogation).</ram:Content>
      <ram:SubjectCode>acc</ram:SubjectCode>
    </ram:IncludedNote>
    <ram:IncludedNote><ram:Content>Sans escompte.</ram:Content></ram:IncludedNote>
  </rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>
    <ram:ApplicableHeaderTradeAgreement>
      <ram:BuyerReference>SERV-ACHATS</ram:BuyerReference>
      <ram:SellerTradeParty>
        <ram:ID>S-001</ram:ID>
        <ram:GlobalID schemeID="0009">12345678200017</ram:GlobalID>
        <ram:Name>Atelier Dupont SARL</ram:Name>
        <ram:SpecifiedLegalOrganization>
          <ram:ID schemeID="0002">123456782</ram:ID>
          <ram:TradingBusinessName>Atelier Dupont</ram:TradingBusinessName>
        </ram:SpecifiedLegalOrganization>
        <ram:PostalTradeAddress><ram:CountryID>FR</ram:CountryID></ram:PostalTradeAddress>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="FC">123/456</ram:ID></ram:SpecifiedTaxRegistration>
        <ram:SpecifiedTaxRegistration>
          <ram:ID schemeID="VA">FR32123456782</ram:ID>
        </ram:SpecifiedTaxRegistration>
      </ram:SellerTradeParty>
      <ram:BuyerTradeParty>
        <ram:Name>Client Martin SA</ram:Name>
        <ram:SpecifiedLegalOrganization>
          <ram:ID schemeID="0002">987654321</ram:ID>
        </ram:SpecifiedLegalOrganization>
        <ram:PostalTradeAddress><ram:CountryID>FR</ram:CountryID></ram:PostalTradeAddress>
      </ram:BuyerTradeParty>
      <ram:BuyerOrderReferencedDocument><ram:IssuerAssignedID>PO-991</ram:IssuerAssignedID></ram:BuyerOrderReferencedDocument>
    </ram:ApplicableHeaderTradeAgreement>
    <ram:ApplicableHeaderTradeDelivery/>
    <ram:ApplicableHeaderTradeSettlement>
      <ram:PaymentReference>F-2026-118</ram:PaymentReference>
      <ram:TaxCurrencyCode>EUR</ram:TaxCurrencyCode>
      <ram:InvoiceCurrencyCode>CHF</ram:InvoiceCurrencyCode>
      <ram:PayeeTradeParty>
        <ram:GlobalID schemeID="0009">55512345600021</ram:GlobalID>
        <ram:Name>Factor Bank SA</ram:Name>
        <ram:SpecifiedLegalOrganization>
          <ram:ID schemeID="0002">555123456</ram:ID>
        </ram:SpecifiedLegalOrganization>
      </ram:PayeeTradeParty>
      <ram:SpecifiedTradeSettlementPaymentMeans>
        <ram:TypeCode>58</ram:TypeCode>
        <ram:Information>Virement au factor</ram:Information>
        <ram:PayeePartyCreditorFinancialAccount>
          <ram:IBANID>FR7630006000011234567890189</ram:IBANID>
          <ram:AccountName>Factor Bank SA - cessions</ram:AccountName>
        </ram:PayeePartyCreditorFinancialAccount>
        <ram:PayeeSpecifiedCreditorFinancialInstitution><ram:BICID>AGRIFRPPXXX</ram:BICID></ram:PayeeSpecifiedCreditorFinancialInstitution>
      </ram:SpecifiedTradeSettlementPaymentMeans>
      <ram:SpecifiedTradeSettlementPaymentMeans>
        <ram:TypeCode>30</ram:TypeCode>
        <ram:PayeePartyCreditorFinancialAccount><ram:ProprietaryID>LOCAL-ACC-9</ram:ProprietaryID></ram:PayeePartyCreditorFinancialAccount>
      </ram:SpecifiedTradeSettlementPaymentMeans>
      <ram:SpecifiedTradePaymentTerms>
        <ram:Description>60 jours fin de mois.</ram:Description>
        <ram:DueDateDateTime>
          <udt:DateTimeString format="102">20260531</udt:DateTimeString>
        </ram:DueDateDateTime>
      </ram:SpecifiedTradePaymentTerms>
      <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
        <ram:LineTotalAmount>1000.00</ram:LineTotalAmount>
        <ram:ChargeTotalAmount>0.00</ram:ChargeTotalAmount>
        <ram:AllowanceTotalAmount>0.00</ram:AllowanceTotalAmount>
        <ram:TaxBasisTotalAmount>1000.00</ram:TaxBasisTotalAmount>
        <ram:TaxTotalAmount currencyID="EUR">213.50</ram:TaxTotalAmount>
        <ram:TaxTotalAmount currencyID="CHF">200.00</ram:TaxTotalAmount>
        <ram:RoundingAmount>-0.01</ram:RoundingAmount>
        <ram:GrandTotalAmount>1200.00</ram:GrandTotalAmount>
        <ram:TotalPrepaidAmount>0.00</ram:TotalPrepaidAmount>
        <ram:DuePayableAmount>1199.99</ram:DuePayableAmount>
      </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
      <ram:InvoiceReferencedDocument><ram:IssuerAssignedID>F-2025-990</ram:IssuerAssignedID></ram:InvoiceReferencedDocument>
    </ram:ApplicableHeaderTradeSettlement>
  </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>
"""


def parse_one(xml: str) -> Invoice:
    result = cii.parse(xml.encode("utf-8"), LIMITS)
    assert result.format == "cii"
    assert result.issues == (), result.issues
    assert len(result.documents) == 1
    return result.documents[0]


def test_header_terms() -> None:
    invoice = parse_one(FACTORED_CII)
    assert invoice.number == "F-2026-118"
    assert invoice.type_code == "393"
    assert invoice.issue_date == date(2026, 3, 15)
    assert invoice.due_date == date(2026, 5, 31)
    assert invoice.currency == "CHF"
    assert invoice.tax_currency == "EUR"
    assert invoice.buyer_reference == "SERV-ACHATS"
    assert invoice.purchase_order_reference == "PO-991"
    assert invoice.payment_terms == "60 jours fin de mois."
    assert invoice.specification_id == CTC_FR
    assert invoice.preceding_invoices == ("F-2025-990",)
    assert invoice.location == "/rsm:CrossIndustryInvoice"


def test_notes_with_subject_codes() -> None:
    assert parse_one(FACTORED_CII).notes == (
        Note("Créance cédée à Factor Bank SA (subrogation).", "ACC"),
        Note("Sans escompte."),
    )


def test_parties_with_siren_scheme_0002() -> None:
    invoice = parse_one(FACTORED_CII)
    assert invoice.seller == Party(
        name="Atelier Dupont SARL",
        trading_name="Atelier Dupont",
        identifiers=(PartyId("S-001"), PartyId("12345678200017", "0009")),
        legal_id=PartyId("123456782", "0002"),
        vat_id="FR32123456782",  # the FC tax number is not the VAT id
        country="FR",
    )
    assert invoice.buyer == Party(
        name="Client Martin SA", legal_id=PartyId("987654321", "0002"), country="FR"
    )
    assert invoice.buyer.siren_candidates() == ("987654321",)


def test_payee_and_payment_instructions() -> None:
    invoice = parse_one(FACTORED_CII)
    assert invoice.payee == Party(
        name="Factor Bank SA",
        identifiers=(PartyId("55512345600021", "0009"),),
        legal_id=PartyId("555123456", "0002"),
    )
    assert invoice.payment_instructions == (
        PaymentInstructions(
            means_code="58",
            means_text="Virement au factor",
            remittance_information="F-2026-118",
            account_id="FR7630006000011234567890189",
            account_name="Factor Bank SA - cessions",
            bic="AGRIFRPPXXX",
        ),
        PaymentInstructions(means_code="30", remittance_information="F-2026-118", account_id="LOCAL-ACC-9"),
    )


def test_totals_exact_and_tax_in_the_invoice_currency() -> None:
    totals = parse_one(FACTORED_CII).totals
    assert (totals.line_net, totals.charges, totals.allowances) == (
        Decimal("1000.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert totals.tax_exclusive == Decimal("1000.00")
    assert totals.tax == Decimal("200.00")
    assert totals.rounding == Decimal("-0.01")
    assert totals.tax_inclusive == Decimal("1200.00")
    assert totals.prepaid == Decimal("0.00")
    assert totals.amount_due == Decimal("1199.99")


@pytest.mark.parametrize(
    ("replacement", "why"),
    [
        ('<udt:DateTimeString format="102">20261345</udt:DateTimeString>', "'20261345' is not a date"),
        ('<udt:DateTimeString format="102">2026-03-15</udt:DateTimeString>', "'2026-03-15' is not a date"),
        ('<udt:DateTimeString format="610">202603</udt:DateTimeString>', "the date format is '610'"),
    ],
)
def test_unreadable_issue_date_is_fatal_and_names_the_term(replacement: str, why: str) -> None:
    xml = FACTORED_CII.replace('<udt:DateTimeString format="102">20260315</udt:DateTimeString>', replacement)
    result = cii.parse(xml.encode(), LIMITS)
    assert result.documents == ()
    codes = [i.code for i in result.issues]
    assert codes == ["GW-VALUE-INVALID", "GW-REQUIRED-MISSING"]
    invalid = result.issues[0]
    path = "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString"
    assert invalid.location == path
    assert invalid.message.startswith(f"The issue date (BT-2) at {path} (line 12) cannot be read: {why}")


def test_unreadable_due_date_rejects_the_document() -> None:
    xml = FACTORED_CII.replace(">20260531<", ">20260231<")
    result = cii.parse(xml.encode(), LIMITS)
    assert result.documents == ()
    [issue] = result.issues
    assert issue.code == "GW-VALUE-INVALID" and "(BT-9)" in issue.message


def test_missing_currency_is_fatal() -> None:
    xml = FACTORED_CII.replace("<ram:InvoiceCurrencyCode>CHF</ram:InvoiceCurrencyCode>", "")
    result = cii.parse(xml.encode(), LIMITS)
    assert result.documents == ()
    [issue] = result.issues
    assert issue.code == "GW-REQUIRED-MISSING"
    assert issue.message == "The invoice currency code (BT-5) is missing."


def test_schema_error_stops_before_extraction() -> None:
    xml = FACTORED_CII.replace("<ram:TypeCode>393</ram:TypeCode>", "<ram:Unknown>1</ram:Unknown>")
    result = cii.parse(xml.encode(), LIMITS)
    assert result.documents == ()
    assert {i.code for i in result.issues} == {"GW-XSD-INVALID"}
    assert result.issues[0].message.startswith("The element ram:Unknown is not allowed at this position")


def test_ubl_file_is_not_read_as_cii() -> None:
    result = cii.parse(b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>', LIMITS)
    assert [i.code for i in result.issues] == ["GW-FORMAT-UNKNOWN"]


def test_the_facts_and_the_tree_travel_with_the_result() -> None:
    result = cii.parse(FACTORED_CII.encode(), LIMITS)
    assert result.einvoice == EInvoiceFacts("cii", "CII D22B", CTC_FR, "extended-ctc-fr")
    assert result.xml is not None and result.xml.tag.endswith("}CrossIndustryInvoice")


def test_the_profile_picks_the_xsd() -> None:
    """The demo invoice claims EN 16931: without its one line it is still CII D22B, but not
    Factur-X EN 16931, whose XSD requires a line (BG-25); as EXTENDED-CTC-FR it passes."""
    data = BRAVO.read_bytes()
    start, end = (
        data.index(b"<ram:IncludedSupplyChainTradeLineItem>"),
        data.index(b"<ram:ApplicableHeaderTradeAgreement>"),
    )
    no_line = data[:start] + data[end:]
    assert cii.parse(data, LIMITS).einvoice == EInvoiceFacts(
        "cii", "CII D16B", "urn:cen.eu:en16931:2017", "en16931"
    )
    refused = cii.parse(no_line, LIMITS)
    assert refused.documents == () and refused.xml is None
    assert (
        refused.issues[0].code == "GW-XSD-INVALID"
        and "Factur-X EN 16931 (CII D16B)" in refused.issues[0].message
    )
    assert refused.issues[0].source == "XSD"
    assert refused.einvoice == EInvoiceFacts("cii", "CII D16B", "urn:cen.eu:en16931:2017", "en16931")
    ctc_fr = cii.parse(no_line.replace(b"urn:cen.eu:en16931:2017<", CTC_FR.encode() + b"<"), LIMITS)
    assert len(ctc_fr.documents) == 1 and ctc_fr.einvoice is not None and ctc_fr.einvoice.label == "CII D22B"


@pytest.mark.parametrize(
    ("guideline", "schema", "label"),
    [
        ("urn:factur-x.eu:1p0:minimum", "cii-minimum", "CII D16B"),
        ("urn:zugferd.de:2p0:basicwl", "cii-basicwl", "CII D16B"),
        ("urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic", "cii-basic", "CII D16B"),
        ("urn:cen.eu:en16931:2017", "cii-en16931", "CII D16B"),
        ("urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended", "cii-extended", "CII D16B"),
        ("urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0", "cii-en16931", "CII D16B"),
        (CTC_FR, "cii-d22b", "CII D22B"),
        ("urn:ferd:CrossIndustryDocument:invoice:1p0:comfort", "cii-d22b", "CII D22B"),
        ("urn:example:unknown", "cii-d22b", "CII D22B"),
        (None, "cii-d22b", "CII D22B"),
    ],
)
def test_schema_for_each_profile(guideline: str | None, schema: str, label: str) -> None:
    assert cii.schema_for(profile_of(guideline)) == (schema, label)


def test_an_unparseable_cii_file_still_says_it_is_cii() -> None:
    result = cii.parse(FACTORED_CII.encode()[:400], LIMITS)
    assert [i.code for i in result.issues] == ["GW-XML-MALFORMED"]
    assert result.einvoice == EInvoiceFacts("cii", "CII") and result.xml is None
