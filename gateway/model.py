"""The canonical model: frozen value objects named after EN 16931 business terms.

Every parser produces these objects and every writer consumes them, so a new
format never reaches the factoring rules except through this vocabulary.
Money is always ``Decimal`` (never float); an amount's currency is the
document currency BT-5 unless a type says otherwise (:class:`Money`).
Field comments give the business term (``BT-nn``) or group (``BG-nn``).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from gateway.money import CENT as CENT  # re-exported: CENT lived here first
from gateway.money import money_context, negated

#: UNTDID 1001 codes that make a document a credit note (it reduces what the
#: debtor owes). 396 and 502 are the French "factored" credit notes.
CREDIT_NOTE_TYPE_CODES = frozenset({"381", "396", "502", "261", "262", "81", "83", "532"})
#: UNTDID 1001 codes accepted as invoices. 393/501 are factored invoices,
#: 384/472/473 corrective invoices, 389 self-billed, 386 prepayment.
INVOICE_TYPE_CODES = frozenset({"380", "383", "384", "386", "389", "393", "472", "473", "501", "751"})


#: Which rules found an issue. The first four are official artefacts and answer "is this a
#: conformant e-invoice?" (``XSD``: the syntax's schema; ``EN16931``: the CEN rules, or the EXTENDED-CTC-FR
#: ones; ``Factur-X``: the Factur-X profile rules, which carry the EN 16931 rules for CII; ``BR-FR``: the
#: French Flux 2 rules); ``gateway`` rules answer "can the factor finance it?".
ISSUE_SOURCES = ("XSD", "EN16931", "Factur-X", "BR-FR", "gateway")


class Severity(enum.Enum):
    """How an issue weighs: ``FATAL`` rejects what it is attached to."""

    FATAL = "fatal"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding about a file or a document, shown to people as is.

    ``code`` is stable (an official rule id such as ``BR-CO-15`` or a gateway
    code such as ``GW-DUPLICATE-INVOICE``); ``message`` is plain language for
    the client's accounting staff; ``location`` says where (``line 12``,
    ``column due_date``, an XPath); ``source`` says which rules found it
    (:data:`ISSUE_SOURCES`).
    """

    code: str
    message: str
    severity: Severity = Severity.FATAL
    location: str | None = None
    source: str = "gateway"  # one of ISSUE_SOURCES: which rules found it

    @property
    def is_fatal(self) -> bool:
        return self.severity is Severity.FATAL

    def to_dict(self) -> dict[str, str | None]:
        """The one JSON shape of an issue: acknowledgements, reasons, ``validate``, the ledger."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "location": self.location,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Money:
    """An amount with its currency; arithmetic refuses to mix currencies and runs in the
    money context (:mod:`gateway.money`)."""

    amount: Decimal
    currency: str

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        with money_context():
            return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        with money_context():
            return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(negated(self.amount), self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} and {other.currency} amounts")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal("0.00"), currency)


class DocumentKind(enum.Enum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


@dataclass(frozen=True, slots=True)
class PartyId:
    """An identifier with its scheme: ISO 6523 ICD (``0002`` SIREN, ``0009``
    SIRET, ``0088`` GLN…), ``VA`` for VAT, or ``None`` when the file gives none."""

    value: str
    scheme: str | None = None


@dataclass(frozen=True, slots=True)
class Party:
    """Seller (BG-4), buyer (BG-7) or payee (BG-10)."""

    name: str | None = None  # BT-27 / BT-44 / BT-59
    trading_name: str | None = None  # BT-28 / BT-45
    identifiers: tuple[PartyId, ...] = ()  # BT-29 / BT-46 / BT-60
    legal_id: PartyId | None = None  # BT-30 / BT-47 / BT-61
    vat_id: str | None = None  # BT-31 / BT-48
    country: str | None = None  # BT-40 / BT-55

    def siren_candidates(self) -> tuple[str, ...]:
        """SIRENs this party claims, from its legal id, SIRETs and French VAT id.

        Values are compacted (digits only) but not checksum-validated: callers
        validate with python-stdnum and report what fails.
        """
        found: list[str] = []
        ids = ((self.legal_id,) if self.legal_id else ()) + self.identifiers
        for pid in ids:
            digits = re.sub(r"\D", "", pid.value)
            if pid.scheme in ("0002", None) and len(digits) == 9:
                found.append(digits)
            elif pid.scheme in ("0009", None) and len(digits) == 14:
                found.append(digits[:9])
        if self.vat_id:
            vat = re.sub(r"[\s.-]", "", self.vat_id).upper()
            if vat.startswith("FR") and len(vat) == 13:
                found.append(vat[4:])
        return tuple(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class PaymentInstructions:
    """BG-16: how the debtor is asked to pay. In notified factoring the
    account (BT-84) must be the factor's."""

    means_code: str | None = None  # BT-81
    means_text: str | None = None  # BT-82
    remittance_information: str | None = None  # BT-83
    account_id: str | None = None  # BT-84 (IBAN or proprietary)
    account_name: str | None = None  # BT-85
    bic: str | None = None  # BT-86


@dataclass(frozen=True, slots=True)
class Note:
    """BT-21 subject code (UNTDID 4451, ``ACC`` = factor assignment clause) and BT-22 text."""

    text: str
    subject_code: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentTotals:
    """BG-22. Every field may be absent in a file; validation says which are required."""

    line_net: Decimal | None = None  # BT-106
    allowances: Decimal | None = None  # BT-107
    charges: Decimal | None = None  # BT-108
    tax_exclusive: Decimal | None = None  # BT-109
    tax: Decimal | None = None  # BT-110
    tax_inclusive: Decimal | None = None  # BT-112 (TTC, "grand total")
    prepaid: Decimal | None = None  # BT-113
    rounding: Decimal | None = None  # BT-114
    amount_due: Decimal | None = None  # BT-115


@dataclass(frozen=True, slots=True)
class Invoice:
    """An invoice or a credit note (BT-3 decides) as the factor needs it.

    ``location`` tells where the document sits in its file (``line 7`` for a
    CSV row, ``/Invoice`` for a UBL root) so acknowledgements can point at it.
    """

    number: str  # BT-1
    issue_date: date  # BT-2
    type_code: str  # BT-3
    currency: str  # BT-5
    seller: Party  # BG-4
    buyer: Party  # BG-7
    totals: DocumentTotals  # BG-22
    due_date: date | None = None  # BT-9
    tax_currency: str | None = None  # BT-6
    buyer_reference: str | None = None  # BT-10
    purchase_order_reference: str | None = None  # BT-13
    payment_terms: str | None = None  # BT-20
    notes: tuple[Note, ...] = ()  # BG-1 (BT-21/22)
    specification_id: str | None = None  # BT-24
    preceding_invoices: tuple[str, ...] = ()  # BT-25
    payee: Party | None = None  # BG-10
    payment_instructions: tuple[PaymentInstructions, ...] = ()  # BG-16
    location: str | None = None

    @property
    def kind(self) -> DocumentKind:
        if self.type_code in CREDIT_NOTE_TYPE_CODES:
            return DocumentKind.CREDIT_NOTE
        return DocumentKind.INVOICE

    @property
    def is_credit_note(self) -> bool:
        return self.type_code in CREDIT_NOTE_TYPE_CODES

    @property
    def receivable_amount(self) -> Decimal | None:
        """What the debtor owes: BT-115, else BT-112. Positive for both kinds."""
        if self.totals.amount_due is not None:
            return self.totals.amount_due
        return self.totals.tax_inclusive

    @property
    def signed_amount(self) -> Decimal:
        """The receivable with the sign a remittance uses: credit notes negative.

        Only the sign changes (:func:`~gateway.money.negated`), so no context can round the amount.
        """
        amount = self.receivable_amount or Decimal("0.00")
        return negated(amount.copy_abs()) if self.is_credit_note else amount


def normalise_invoice_number(number: str) -> str:
    """Canonical form for duplicate detection: upper-case letters and digits only.

    Factors' layouts blank or strip punctuation (``VE/00066`` and ``VE_00066``
    reach the factor as the same reference), so the gateway treats them as the
    same receivable.

    >>> normalise_invoice_number(" ve/00066 ")
    'VE00066'
    """
    return re.sub(r"[^0-9A-Z]", "", number.upper())


@dataclass(frozen=True, slots=True)
class RejectedRecord:
    """A record the parser could not turn into an :class:`Invoice` (a bad CSV row)."""

    location: str
    issues: tuple[Issue, ...]
    number: str | None = None


@dataclass(frozen=True, slots=True)
class EInvoiceFacts:
    """What an e-invoice file is, as its parser read it: the syntax and profile choose the
    official rule sets that judge it (a CSV batch has none)."""

    syntax: str  # "ubl-invoice" | "ubl-creditnote" | "cii" | "zugferd1"
    label: str  # for people and reports: "UBL 2.1 Invoice", "CII D16B", "CII D22B", "ZUGFeRD 1.0"
    guideline_id: str | None = None  # BT-24 as written in the file
    profile: str | None = None  # BT-24 read: minimum, basicwl, basic, en16931, extended, extended-ctc-fr,
    #                             xrechnung, peppol, zugferd1; None when not recognised
    container: str | None = None  # "pdf" (Factur-X / ZUGFeRD), "sbdh" (UBL in an SBDH envelope), None
    attachment: str | None = None  # the XML's file name inside a PDF


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What a parser returns: documents, records it had to reject, and issues
    about the file as a whole (a fatal one rejects the whole file).

    ``xml`` is the parsed invoice XML (an lxml root element) of an e-invoice that passed its XSD,
    handed on so that the official rule sets run on the same tree; the examination drops it."""

    format: str
    documents: tuple[Invoice, ...] = ()
    rejected: tuple[RejectedRecord, ...] = ()
    issues: tuple[Issue, ...] = ()
    einvoice: EInvoiceFacts | None = None
    xml: object | None = field(default=None, compare=False, repr=False)

    @property
    def file_rejected(self) -> bool:
        return any(i.is_fatal for i in self.issues)


class Verdict(enum.Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class AssignedLine:
    """One document of a remittance, with the split of §1.5–1.6 of the brief.

    Amounts are signed (credit notes negative); ``guaranteed`` +
    ``non_guaranteed`` == ``amount``.
    """

    line_no: int
    number: str
    type_code: str
    issue_date: date
    due_date: date | None
    debtor_id: str
    debtor_name: str | None
    currency: str
    amount: Decimal
    guaranteed: Decimal
    non_guaranteed: Decimal
    preceding_invoice: str | None = None


@dataclass(frozen=True, slots=True)
class CurrencyTotals:
    """Control sums of a remittance for one currency."""

    currency: str
    invoice_count: int
    invoice_total: Decimal
    credit_note_count: int
    credit_note_total: Decimal  # negative or zero
    net_total: Decimal
    guaranteed_total: Decimal
    non_guaranteed_total: Decimal


@dataclass(frozen=True, slots=True)
class Remittance:
    """A bordereau de cession: the accepted documents of one envelope."""

    client_id: str
    number: int
    business_date: date
    source_name: str
    envelope_id: int
    lines: tuple[AssignedLine, ...]
    totals: tuple[CurrencyTotals, ...]


@dataclass(frozen=True, slots=True)
class Parties:
    """Who a remittance or an acknowledgement is between, as the formats read by people name them
    (the XLSX and PDF bordereau, the French CSV); the machine CSV and JSON carry the client id only.

    Built by the flow from the configuration (:class:`gateway.settings.ClientSettings`,
    :class:`gateway.settings.FactorSettings`), never read from the client's file.
    """

    client_name: str
    client_siren: str
    factor_name: str
    factor_siren: str
    factor_iban: str  # the account debtors pay into (notified contracts)


@dataclass(frozen=True, slots=True)
class AcknowledgementLine:
    """One document (or unreadable record) of an envelope and what became of it."""

    location: str
    number: str | None
    type_code: str | None
    verdict: Verdict
    amount: Decimal | None = None
    currency: str | None = None
    issues: tuple[Issue, ...] = ()


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """What the client gets back for one file: every document, accepted or rejected."""

    client_id: str
    envelope_id: int
    source_name: str
    business_date: date
    verdict: Verdict  # REJECTED when the file as a whole was refused
    remittance_number: int | None
    file_issues: tuple[Issue, ...] = ()
    lines: tuple[AcknowledgementLine, ...] = field(default=())
