"""OASIS UBL 2.1 Invoice and CreditNote (ISO/IEC 19845) → one :class:`Invoice`.

Three gates, in order, each stopping the file with issues rather than raising:
the hardened XML parse (:mod:`gateway.parsers.xml_safety`), the UBL 2.1 XSD
(:mod:`gateway.parsers.xsd`), then extraction of the EN 16931 terms a factor
needs (XPaths from EN 16931-3-2 / the CEN UBL binding). Business checks (sums,
SIREN checksums, due dates…) belong to :mod:`gateway.validation.document`.

Two UBL quirks matter here: a CreditNote keeps BT-9 in
``cac:PaymentMeans/cbc:PaymentDueDate`` and BT-3 in ``cbc:CreditNoteTypeCode``;
and BT-21 has no element, so the subject code rides as a ``#ACC#`` prefix
inside ``cbc:Note`` (the French convention; Peppol notes carry none).

A document that arrives in a Peppol SBDH envelope (:mod:`gateway.parsers.sbdh`) is
taken out of it first; the rest is the same, and ``einvoice.container`` says
``sbdh``. The profile comes from ``cbc:CustomizationID`` (BT-24): EN 16931,
EXTENDED-CTC-FR, Peppol BIS Billing 3.0, XRechnung (:mod:`gateway.parsers.profiles`);
the XSD is UBL 2.1 whatever the profile.
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
    ParseResult,
    Party,
    PaymentInstructions,
)
from gateway.parsers import sbdh
from gateway.parsers.base import NO_OPTIONS, SNIFF_BYTES, ParserOptions
from gateway.parsers.profiles import profile_of
from gateway.parsers.xml_document import Identified, guideline_id, parse_invoice_file, wrong_root
from gateway.parsers.xml_fields import Field, FieldReader, field, split_subject_code
from gateway.parsers.xml_safety import RootElement, sniff_root

FORMAT = "ubl"
#: Per-channel options this format understands (``parser_options`` of a channel): none yet.
OPTIONS: frozenset[str] = frozenset()

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NAMESPACES = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}


@dataclass(frozen=True, slots=True)
class _PartyFields:
    node: Field
    name: Field
    trading_name: Field | None
    identifiers: Field
    legal_id: Field
    vat_id: Field
    country: Field


def _party_fields(
    base: str, relative: str, role: str, bts: tuple[str, str, str, str, str, str], *, payee: bool = False
) -> _PartyFields:
    """Fields of one party; a payee (BG-10) has only a name in ``cac:PartyName``."""
    path = f"{base}/{relative}"

    def fld(bt: str, label: str, rel: str) -> Field:
        return field(bt, f"{role} {label}", rel, NAMESPACES, base=path)

    name_bt, trading_bt, id_bt, legal_bt, vat_bt, country_bt = bts
    return _PartyFields(
        node=field(bts[0], role, relative, NAMESPACES, base=base),
        name=fld(
            name_bt,
            "name",
            "cac:PartyName/cbc:Name" if payee else "cac:PartyLegalEntity/cbc:RegistrationName",
        ),
        trading_name=None if payee else fld(trading_bt, "trading name", "cac:PartyName/cbc:Name"),
        identifiers=fld(id_bt, "identifier", "cac:PartyIdentification/cbc:ID"),
        legal_id=fld(legal_bt, "legal registration identifier", "cac:PartyLegalEntity/cbc:CompanyID"),
        vat_id=fld(vat_bt, "VAT identifier", "cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']/cbc:CompanyID"),
        country=fld(country_bt, "country code", "cac:PostalAddress/cac:Country/cbc:IdentificationCode"),
    )


@dataclass(frozen=True, slots=True)
class _PaymentFields:
    node: Field
    code: Field
    text: Field
    remittance: Field
    account_id: Field
    account_name: Field
    bic: Field


@dataclass(frozen=True, slots=True)
class _DocumentFields:
    """Every precompiled XPath for one root (``/Invoice`` or ``/CreditNote``)."""

    root: str
    schema: str
    number: Field
    issue_date: Field
    type_code: Field
    currency: Field
    tax_currency: Field
    due_date: Field
    buyer_reference: Field
    order_reference: Field
    payment_terms: Field
    notes: Field
    specification_id: Field
    preceding_invoices: Field
    seller: _PartyFields
    buyer: _PartyFields
    payee: _PartyFields
    payment: _PaymentFields
    line_net: Field
    allowances: Field
    charges: Field
    tax_exclusive: Field
    tax: Field
    tax_inclusive: Field
    prepaid: Field
    rounding: Field
    amount_due: Field

    @classmethod
    def build(cls, root: str, schema: str, type_code: str, due_date: str) -> _DocumentFields:
        def fld(bt: str, label: str, rel: str, *, free_text: bool = False) -> Field:
            return field(bt, label, rel, NAMESPACES, base=root, free_text=free_text)

        means = f"{root}/cac:PaymentMeans"

        def pay(bt: str, label: str, rel: str) -> Field:
            return field(bt, label, rel, NAMESPACES, base=means)

        total = "cac:LegalMonetaryTotal/cbc:"
        return cls(
            root=root,
            schema=schema,
            number=fld("BT-1", "invoice number", "cbc:ID"),
            issue_date=fld("BT-2", "issue date", "cbc:IssueDate"),
            type_code=fld("BT-3", "document type code", type_code),
            currency=fld("BT-5", "invoice currency code", "cbc:DocumentCurrencyCode"),
            tax_currency=fld("BT-6", "VAT accounting currency code", "cbc:TaxCurrencyCode"),
            due_date=fld("BT-9", "payment due date", due_date),
            buyer_reference=fld("BT-10", "buyer reference", "cbc:BuyerReference"),
            order_reference=fld("BT-13", "purchase order reference", "cac:OrderReference/cbc:ID"),
            payment_terms=fld("BT-20", "payment terms", "cac:PaymentTerms/cbc:Note", free_text=True),
            notes=fld("BT-22", "invoice note", "cbc:Note", free_text=True),
            specification_id=fld("BT-24", "specification identifier", "cbc:CustomizationID"),
            preceding_invoices=fld(
                "BT-25",
                "preceding invoice reference",
                "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID",
            ),
            seller=_party_fields(
                root,
                "cac:AccountingSupplierParty/cac:Party",
                "seller",
                ("BT-27", "BT-28", "BT-29", "BT-30", "BT-31", "BT-40"),
            ),
            buyer=_party_fields(
                root,
                "cac:AccountingCustomerParty/cac:Party",
                "buyer",
                ("BT-44", "BT-45", "BT-46", "BT-47", "BT-48", "BT-55"),
            ),
            payee=_party_fields(
                root,
                "cac:PayeeParty",
                "payee",
                ("BT-59", "BG-10", "BT-60", "BT-61", "BG-10", "BG-10"),
                payee=True,
            ),
            payment=_PaymentFields(
                node=fld("BG-16", "payment instructions", "cac:PaymentMeans"),
                code=pay("BT-81", "payment means type code", "cbc:PaymentMeansCode"),
                text=pay("BT-82", "payment means text", "cbc:PaymentMeansCode/@name"),
                remittance=pay("BT-83", "remittance information", "cbc:PaymentID"),
                account_id=pay("BT-84", "payment account identifier", "cac:PayeeFinancialAccount/cbc:ID"),
                account_name=pay("BT-85", "payment account name", "cac:PayeeFinancialAccount/cbc:Name"),
                bic=pay(
                    "BT-86",
                    "payment service provider identifier",
                    "cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID",
                ),
            ),
            line_net=fld("BT-106", "sum of invoice line net amounts", total + "LineExtensionAmount"),
            allowances=fld("BT-107", "sum of allowances", total + "AllowanceTotalAmount"),
            charges=fld("BT-108", "sum of charges", total + "ChargeTotalAmount"),
            tax_exclusive=fld("BT-109", "total without VAT", total + "TaxExclusiveAmount"),
            tax=fld("BT-110", "total VAT amount", "cac:TaxTotal/cbc:TaxAmount"),
            tax_inclusive=fld("BT-112", "total with VAT", total + "TaxInclusiveAmount"),
            prepaid=fld("BT-113", "paid amount", total + "PrepaidAmount"),
            rounding=fld("BT-114", "rounding amount", total + "PayableRoundingAmount"),
            amount_due=fld("BT-115", "amount due for payment", total + "PayableAmount"),
        )


_INVOICE = _DocumentFields.build("/Invoice", "ubl-invoice", "cbc:InvoiceTypeCode", "cbc:DueDate")
_CREDIT_NOTE = _DocumentFields.build(
    "/CreditNote", "ubl-creditnote", "cbc:CreditNoteTypeCode", "cac:PaymentMeans/cbc:PaymentDueDate"
)
_BY_ROOT = {f"{{{INVOICE_NS}}}Invoice": _INVOICE, f"{{{CREDIT_NOTE_NS}}}CreditNote": _CREDIT_NOTE}
#: (namespace, local name) of a UBL root → its syntax, which is also its XSD's key.
_SYNTAXES: dict[tuple[str | None, str], str] = {
    (INVOICE_NS, "Invoice"): "ubl-invoice",
    (CREDIT_NOTE_NS, "CreditNote"): "ubl-creditnote",
}
LABELS = {"ubl-invoice": "UBL 2.1 Invoice", "ubl-creditnote": "UBL 2.1 CreditNote"}
_CUSTOMIZATION = etree.XPath("cbc:CustomizationID", namespaces=NAMESPACES)


def _syntax(root: RootElement | None) -> str | None:
    return _SYNTAXES.get((root.namespace, root.local_name)) if root is not None else None


def sniff(head: bytes, name: str) -> bool:
    """A UBL Invoice-2 or CreditNote-2 root element in the first bytes, bare or as the one document
    of an SBDH envelope; the name is not trusted."""
    return _syntax(sniff_root(head)) is not None or _syntax(sbdh.sniff_payload(head)) is not None


def facts_from_head(data: bytes) -> EInvoiceFacts | None:
    """What a UBL file that cannot be parsed still says about itself: its root, and its envelope."""
    head = data[:SNIFF_BYTES]
    bare = _syntax(sniff_root(head))
    if bare is not None:
        return EInvoiceFacts(bare, LABELS[bare])
    wrapped = _syntax(sbdh.sniff_payload(head))
    return EInvoiceFacts(wrapped, LABELS[wrapped], container="sbdh") if wrapped is not None else None


def identify(root: etree._Element) -> Identified | Issue:
    """A UBL Invoice or CreditNote, bare or in an SBDH envelope; anything else: why not."""
    container = None
    document = root
    if root.tag == sbdh.ROOT_TAG:
        unwrapped = sbdh.unwrap(root)
        if isinstance(unwrapped, Issue):
            return unwrapped
        document, container = unwrapped, "sbdh"
    fields = _BY_ROOT.get(str(document.tag))
    if fields is None:
        return wrong_root(document, "a UBL 2.1 Invoice or CreditNote", "UBL")
    guideline = guideline_id(document, _CUSTOMIZATION)
    facts = EInvoiceFacts(fields.schema, LABELS[fields.schema], guideline, profile_of(guideline), container)
    return Identified(document, facts, fields.schema)


def _party(reader: FieldReader, root: etree._Element, fields: _PartyFields) -> Party | None:
    node = reader.node(root, fields.node)
    if node is None:
        return None
    legal_ids = reader.identifiers(node, fields.legal_id)
    return Party(
        name=reader.text(node, fields.name),
        trading_name=reader.text(node, fields.trading_name) if fields.trading_name else None,
        identifiers=reader.identifiers(node, fields.identifiers),
        legal_id=legal_ids[0] if legal_ids else None,
        vat_id=reader.text(node, fields.vat_id),
        country=reader.text(node, fields.country),
    )


def _payment_instructions(
    reader: FieldReader, root: etree._Element, fields: _PaymentFields
) -> tuple[PaymentInstructions, ...]:
    return tuple(
        PaymentInstructions(
            means_code=reader.text(means, fields.code),
            means_text=reader.text(means, fields.text),
            remittance_information=reader.text(means, fields.remittance),
            account_id=reader.text(means, fields.account_id),
            account_name=reader.text(means, fields.account_name),
            bic=reader.text(means, fields.bic),
        )
        for means in reader.nodes(root, fields.node)
    )


def _totals(
    reader: FieldReader, root: etree._Element, f: _DocumentFields, currency: str | None
) -> DocumentTotals:
    return DocumentTotals(
        line_net=reader.amount(root, f.line_net),
        allowances=reader.amount(root, f.allowances),
        charges=reader.amount(root, f.charges),
        tax_exclusive=reader.amount(root, f.tax_exclusive),
        tax=reader.amount(root, f.tax, currency) if currency else None,
        tax_inclusive=reader.amount(root, f.tax_inclusive),
        prepaid=reader.amount(root, f.prepaid),
        rounding=reader.amount(root, f.rounding),
        amount_due=reader.amount(root, f.amount_due),
    )


def _extract(root: etree._Element, f: _DocumentFields, reader: FieldReader) -> Invoice | None:
    """Read every term (so all bad values are reported at once), then build the invoice."""
    number = reader.text(root, f.number)
    issue_date = reader.iso_date(root, f.issue_date)
    type_code = reader.text(root, f.type_code)
    currency = reader.text(root, f.currency)
    for required, value in (
        (f.number, number),
        (f.issue_date, issue_date),
        (f.type_code, type_code),
        (f.currency, currency),
    ):
        reader.require(required, value)
    seller = _party(reader, root, f.seller) or Party()
    buyer = _party(reader, root, f.buyer) or Party()
    payee = _party(reader, root, f.payee)
    totals = _totals(reader, root, f, currency)
    due_date = reader.iso_date(root, f.due_date)
    payment_terms = reader.texts(root, f.payment_terms)
    notes = tuple(split_subject_code(note) for note in reader.texts(root, f.notes))
    instructions = _payment_instructions(reader, root, f.payment)
    tax_currency = reader.text(root, f.tax_currency)
    buyer_reference = reader.text(root, f.buyer_reference)
    order_reference = reader.text(root, f.order_reference)
    specification_id = reader.text(root, f.specification_id)
    preceding = tuple(reader.texts(root, f.preceding_invoices))
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
        location=f.root,
    )


def parse(data: bytes, limits: Limits, options: ParserOptions = NO_OPTIONS) -> ParseResult:
    """One UBL file → one :class:`Invoice`, or fatal issues and no document."""
    return parse_invoice_file(
        data,
        limits,
        format_id=FORMAT,
        identify=identify,
        extract=lambda document, reader: _extract(document, _BY_ROOT[str(document.tag)], reader),
        facts_from_head=facts_from_head,
    )
