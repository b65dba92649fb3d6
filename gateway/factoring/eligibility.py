"""Can this document be assigned to the factor under this client's contract?

These are the factor's eligibility rules (brief §1.5): the seller must be the
client, the debtor must be one the factor knows, the currency covered, the
due date neither past nor beyond the contract's maximum term, the amount
positive and not beyond what the contract deems plausible for one document.
Each failure is an issue on the document; the acknowledgement tells the
client which rule and which value.

The seller is the client only when *every* identifier it is given names the
client: a SIREN of one company beside the VAT number of another could be an
invoice of someone else's sent through this client's channel, and the factor
would buy a receivable that is not the client's to sell.

The debtor is found by SIREN, then by VAT number. A client may have hundreds
of debtors and a batch 100,000 rows, so the rules run in a context built once
per client per batch, :class:`Eligibility`: it holds the client's debtor lookup
tables and remembers what it worked out about each party (parsers share one
party object between the rows of one seller or debtor). The module-level
functions build a throwaway context for one document; a caller that checks
many documents builds one :class:`Eligibility` and calls its methods.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gateway.factoring.financeable import is_already_paid
from gateway.model import Invoice, Issue, Party, PartyId
from gateway.settings import ClientSettings, DebtorSettings
from gateway.text import escape_controls
from gateway.validation.document import IdKind

_ID_NOISE = re.compile(r"[\s.\-/]")
_FRENCH_VAT = re.compile(r"FR[0-9A-Z]{2}([0-9]{9})")
_VAT_COUNTRY = re.compile(r"[A-Z]{2}")


def compact_id(value: str) -> str:
    """The form identifiers are compared in: no blanks, dots, dashes or slashes; upper case.

    >>> compact_id(" fr 40 303.265.045 ")
    'FR40303265045'
    """
    return _ID_NOISE.sub("", value).upper()


@dataclass(frozen=True, slots=True)
class _DebtorIndex:
    """The client's debtors by compacted SIREN and by compacted VAT number."""

    by_siren: dict[str, DebtorSettings]
    by_vat: dict[str, DebtorSettings]
    client_siren: str

    @classmethod
    def of(cls, client: ClientSettings) -> _DebtorIndex:
        by_siren: dict[str, DebtorSettings] = {}
        by_vat: dict[str, DebtorSettings] = {}
        for debtor in client.debtors:
            if debtor.siren:
                by_siren.setdefault(compact_id(debtor.siren), debtor)
            if debtor.vat_id:
                vat = compact_id(debtor.vat_id)
                by_vat.setdefault(vat, debtor)
        # A debtor set up with its French VAT number only is still found by the SIREN inside it.
        for debtor in client.debtors:
            if debtor.vat_id and not debtor.siren:
                match = _FRENCH_VAT.fullmatch(compact_id(debtor.vat_id))
                if match:
                    by_siren.setdefault(match.group(1), debtor)
        return cls(by_siren, by_vat, compact_id(client.siren))


@dataclass(frozen=True, slots=True)
class _Claim:
    """One identifier of a party and the SIREN it names (``None``: a VAT number of another country)."""

    words: str  # "SIREN", "SIRET", "VAT number"
    term: str  # the business term it came in: BT-29, BT-30, BT-31
    value: str  # compacted
    siren: str | None


@dataclass(frozen=True, slots=True)
class _PartyFacts:
    """What the rules need to know about one party, worked out once per party object and context."""

    sirens: tuple[str, ...]  # the SIRENs a debtor is looked up by (:meth:`Party.siren_candidates`)
    siren_sources: tuple[tuple[IdKind, str], ...]  # the same, each with the identifier it comes from
    claims: tuple[_Claim, ...]  # identifier by identifier, as the seller check reads them
    conflicts: tuple[str, ...]  # one sentence per identifier that names another company
    siren: str | None  # the one SIREN all identifiers agree on; None without SIREN or when they disagree
    legal_key: str | None  # see :func:`seller_legal_key`

    @property
    def claimed_sirens(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.siren for c in self.claims if c.siren is not None))


def _work_out_facts(party: Party) -> _PartyFacts:
    claims = _claims(party)
    reference = next((c for c in claims if c.siren is not None), None)
    conflicts: tuple[str, ...] = ()
    if reference is not None:
        conflicts = tuple(_conflict(c, reference) for c in claims if c.siren != reference.siren)
    siren = reference.siren if reference is not None and not conflicts else None
    legal_key = _legal_key(party, reference, conflicts)
    sources = _siren_sources(party)
    sirens = tuple(dict.fromkeys(siren for _, siren in sources))
    return _PartyFacts(sirens, sources, claims, conflicts, siren, legal_key)


def _siren_sources(party: Party) -> tuple[tuple[IdKind, str], ...]:
    """:meth:`Party.siren_candidates`, in the same order, each with the identifier it comes from."""
    found: list[tuple[IdKind, str]] = []
    ids: list[tuple[IdKind, PartyId]] = [("legal", party.legal_id)] if party.legal_id else []
    ids += [("identifier", pid) for pid in party.identifiers]
    for kind, pid in ids:
        digits = re.sub(r"\D", "", pid.value)
        if pid.scheme in ("0002", None) and len(digits) == 9:
            found.append((kind, digits))
        elif pid.scheme in ("0009", None) and len(digits) == 14:
            found.append((kind, digits[:9]))
    if party.vat_id:
        vat = re.sub(r"[\s.-]", "", party.vat_id).upper()
        if vat.startswith("FR") and len(vat) == 13:
            found.append(("vat", vat[4:]))
    return tuple(found)


def _claims(party: Party) -> tuple[_Claim, ...]:
    """The SIREN each identifier names: legal id (BT-30) first, then identifiers (BT-29), then VAT (BT-31).

    As in :meth:`Party.siren_candidates`, 9 digits under scheme 0002 are a
    SIREN and 14 digits under 0009 a SIRET. A number *without* scheme is read
    the same way only when the VAT number is not another country's: a
    Norwegian organisation number has 9 digits too, and calling it a SIREN
    would make the message wrong (the document is refused either way).
    """
    vat = compact_id(party.vat_id) if party.vat_id else ""
    french = _FRENCH_VAT.fullmatch(vat)
    foreign = french is None and _VAT_COUNTRY.match(vat) is not None and not vat.startswith("FR")
    found: list[_Claim] = []
    ids = [(party.legal_id, "BT-30")] if party.legal_id is not None else []
    ids += [(pid, "BT-29") for pid in party.identifiers]
    for pid, term in ids:
        claim = _company_number_claim(pid, term, schemeless=not foreign)
        if claim is not None:
            found.append(claim)
    if french is not None:
        found.append(_Claim("VAT number", "BT-31", vat, french.group(1)))
    elif foreign:
        found.append(_Claim("VAT number", "BT-31", vat, None))
    return tuple(found)


def _company_number_claim(pid: PartyId, term: str, *, schemeless: bool) -> _Claim | None:
    digits = compact_id(pid.value)
    if not (digits.isdigit() and digits.isascii()) or (pid.scheme is None and not schemeless):
        return None
    if pid.scheme in ("0002", None) and len(digits) == 9:
        return _Claim("SIREN", term, digits, digits)
    if pid.scheme in ("0009", None) and len(digits) == 14:
        return _Claim("SIRET", term, digits, digits[:9])
    return None


def _conflict(claim: _Claim, reference: _Claim) -> str:
    """``The seller's VAT number FR40303265045 (BT-31) belongs to SIREN 303265045, but its SIREN is …``."""
    if reference.words == "SIREN":
        theirs = f"its SIREN is {reference.value} ({reference.term})"
    else:
        theirs = (
            f"its {reference.words} {reference.value} ({reference.term}) belongs to SIREN {reference.siren}"
        )
    value = escape_controls(claim.value)
    if claim.siren is None:
        return f"The seller's {claim.words} {value} ({claim.term}) is not a French one, but {theirs}."
    if claim.words == "SIREN":
        return f"The seller is also given SIREN {value} ({claim.term}), but {theirs}."
    return f"The seller's {claim.words} {value} ({claim.term}) belongs to SIREN {claim.siren}, but {theirs}."


def _legal_key(party: Party, reference: _Claim | None, conflicts: tuple[str, ...]) -> str | None:
    if conflicts:
        return None
    if reference is not None:
        return reference.siren
    if party.vat_id and compact_id(party.vat_id):
        return f"VAT:{compact_id(party.vat_id)}"
    legal = party.legal_id
    if legal is not None and compact_id(legal.value):
        return f"{legal.scheme or ''}:{compact_id(legal.value)}"
    return None


class Eligibility:
    """The eligibility rules of one client's contract, for one batch of documents.

    Build it once per client per batch (:meth:`check` every document of the batch
    with it), not once per document: it holds the client's debtor lookup tables,
    and the facts worked out about each party object, so that a seller shared by
    100,000 rows is looked at once. It reads the client's settings when it is
    built; settings changed later need a new context.
    """

    def __init__(self, client: ClientSettings) -> None:
        self.client = client
        self._debtors = _DebtorIndex.of(client)
        # Keyed by identity: hashing and comparing whole parties on every row would cost more
        # than the look-up saves. Each entry keeps its party alive, so while this context lives
        # no other party can be given the same id (and the context lives for one batch only).
        self._facts: dict[int, tuple[Party, _PartyFacts]] = {}

    def check(self, invoice: Invoice, business_date: date) -> list[Issue]:
        """Every reason the factor would refuse ``invoice`` from this client; empty when eligible."""
        issues: list[Issue] = []
        location = invoice.location
        client = self.client
        contract = client.contract

        self._check_seller(invoice, issues)

        if invoice.currency not in contract.currencies:
            issues.append(
                Issue(
                    "GW-CURRENCY-NOT-ALLOWED",
                    f"The currency {escape_controls(invoice.currency)} is not covered by the factoring "
                    f"contract of {client.name}, which covers {', '.join(contract.currencies)}.",
                    location=location,
                )
            )

        if not invoice.is_credit_note:
            _check_due_date(invoice, contract.max_term_days, business_date, issues)

        if self.resolve_debtor(invoice) is None:
            issues.append(
                Issue(
                    "GW-DEBTOR-UNKNOWN",
                    _unknown_debtor_message(invoice, client, self._facts_of(invoice.buyer).sirens),
                    location=location,
                )
            )

        amount = invoice.receivable_amount
        if amount is not None and amount <= 0 and not is_already_paid(invoice):  # GW-ALREADY-PAID says why
            issues.append(
                Issue(
                    "GW-AMOUNT-NOT-POSITIVE",
                    f"The amount of this {_kind(invoice)} is {amount:.2f}; only a positive amount can be "
                    "assigned (a credit note is sent with type code 381 or 396 and a positive amount).",
                    location=location,
                )
            )
        if amount is not None and abs(amount) > contract.max_invoice_amount:
            issues.append(
                Issue(
                    "GW-AMOUNT-IMPLAUSIBLE",
                    f"The amount {_grouped(abs(amount))} {escape_controls(invoice.currency)} is above the "
                    f"{_grouped(contract.max_invoice_amount)} the contract of {client.name} allows for one "
                    "document; check the amount (a misplaced decimal point?), or ask the factor to raise "
                    "the contract's limit.",
                    location=location,
                )
            )
        return issues

    def resolve_debtor(self, invoice: Invoice) -> DebtorSettings | None:
        """The client's debtor this document is on: by the buyer's SIRENs, else by its VAT number."""
        return self.debtor_match(invoice)[0]

    def debtor_match(self, invoice: Invoice) -> tuple[DebtorSettings | None, IdKind | None]:
        """:meth:`resolve_debtor`, and which of the buyer's identifiers found the debtor (``None``
        when none did): the one whose checksum failure refuses the document (see
        :func:`gateway.validation.document.check_document`)."""
        debtors = self._debtors
        buyer = invoice.buyer
        for kind, siren in self._facts_of(buyer).siren_sources:
            debtor = debtors.by_siren.get(siren)
            if debtor is not None:
                return debtor, kind
        if buyer.vat_id:
            debtor = debtors.by_vat.get(compact_id(buyer.vat_id))
            if debtor is not None:
                return debtor, "vat"
        return None, None

    def seller_legal_key(self, party: Party) -> str | None:
        """The seller's legal identity in the ledger's business key: see :func:`seller_legal_key`."""
        return self._facts_of(party).legal_key

    def _facts_of(self, party: Party) -> _PartyFacts:
        hit = self._facts.get(id(party))
        if hit is not None:
            return hit[1]
        facts = _work_out_facts(party)
        self._facts[id(party)] = (party, facts)
        return facts

    def _check_seller(self, invoice: Invoice, issues: list[Issue]) -> None:
        """The seller's identifiers must agree, and the SIREN they agree on must be the client's."""
        client = self.client
        seller = self._facts_of(invoice.seller)
        if seller.conflicts:
            issues.append(
                Issue(
                    "GW-SELLER-IDS-DISAGREE",
                    " ".join(seller.conflicts) + " All the seller's identifiers must name the same company, "
                    f"otherwise the factor cannot tell whose receivable this {_kind(invoice)} is.",
                    location=invoice.location,
                )
            )
        if seller.siren == self._debtors.client_siren:
            return
        if seller.conflicts:
            message = (
                f"The seller of this {_kind(invoice)} cannot be recognised as {client.name} "
                f"(SIREN {client.siren}), the client this channel belongs to: its identifiers do not all "
                "name the same company."
            )
        else:
            sirens = seller.claimed_sirens
            given = f"SIREN {', '.join(sirens)}" if sirens else "no SIREN"
            message = (
                f"The seller of this {_kind(invoice)} ({given}) is not {client.name} (SIREN {client.siren}), "
                "the client this channel belongs to."
            )
        issues.append(Issue("GW-SELLER-NOT-CLIENT", message, location=invoice.location))


def seller_legal_key(party: Party) -> str | None:
    """The seller's legal identity in the ledger's business key, the same whichever client sends it.

    A receivable belongs to its seller, so duplicates are found across all
    clients by this key: the one SIREN all the seller's identifiers agree on
    (9 digits, as the keys of assigned receivables already are); for a seller
    without SIREN, its VAT number as ``VAT:DE136695976``; else its legal id
    as ``scheme:value`` (compacted). ``None`` when the seller has none of
    these, or when its identifiers name different companies: such a document
    is refused (GW-SELLER-IDS-DISAGREE), never keyed.

    Needs no client, so no context: for many documents, :meth:`Eligibility.seller_legal_key`
    remembers the answer per party.

    >>> seller_legal_key(Party(legal_id=PartyId("732 829 320", "0002"), vat_id="FR44732829320"))
    '732829320'
    >>> seller_legal_key(Party(vat_id="de 136 695 976"))
    'VAT:DE136695976'
    >>> seller_legal_key(Party(legal_id=PartyId("HRB 1234", "0204")))
    '0204:HRB1234'
    >>> seller_legal_key(Party(legal_id=PartyId("732829320", "0002"), vat_id="FR40303265045")) is None
    True
    """
    return _work_out_facts(party).legal_key


def resolve_debtor(invoice: Invoice, client: ClientSettings) -> DebtorSettings | None:
    """:meth:`Eligibility.resolve_debtor` for one document (builds the client's tables each call)."""
    return Eligibility(client).resolve_debtor(invoice)


def check_eligibility(invoice: Invoice, client: ClientSettings, business_date: date) -> list[Issue]:
    """:meth:`Eligibility.check` for one document (builds the client's tables each call)."""
    return Eligibility(client).check(invoice, business_date)


def _grouped(amount: Decimal) -> str:
    """``10,000,000.00``: a large amount people can read at a glance (never rounded)."""
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -2:
        return f"{amount:,.2f}"
    return f"{amount:,f}"


def _check_due_date(invoice: Invoice, max_term_days: int, business_date: date, issues: list[Issue]) -> None:
    """Due-date rules; credit notes are not financed, so they are spared."""
    location = invoice.location
    due = invoice.due_date
    if due is None:
        issues.append(
            Issue(
                "GW-DUE-DATE-MISSING",
                "The invoice has no due date (BT-9); the factor cannot finance an invoice without one.",
                location=location,
            )
        )
        return
    if due < business_date:
        issues.append(
            Issue(
                "GW-DUE-DATE-PAST",
                f"The due date {due.isoformat()} is already past (business date "
                f"{business_date.isoformat()}); an invoice due in the past cannot be assigned.",
                location=location,
            )
        )
    term = (due - invoice.issue_date).days
    if term > max_term_days:
        issues.append(
            Issue(
                "GW-DUE-DATE-BEYOND-TERM",
                f"The due date {due.isoformat()} is {term} days after the issue date "
                f"{invoice.issue_date.isoformat()}; the contract allows at most {max_term_days} days.",
                location=location,
            )
        )


def _unknown_debtor_message(invoice: Invoice, client: ClientSettings, sirens: tuple[str, ...]) -> str:
    buyer = invoice.buyer
    sought: list[str] = []
    if sirens:
        sought.append(f"SIREN {', '.join(sirens)}")
    if buyer.vat_id:
        sought.append(f"VAT number {escape_controls(compact_id(buyer.vat_id))}")
    name = f"the buyer {escape_controls(buyer.name)}" if buyer.name else "the buyer"
    if not sought:
        return (
            f"{name[0].upper()}{name[1:]} has neither a SIREN nor a VAT number, so it cannot be matched "
            f"to a debtor of {client.name} approved by the factor."
        )
    return (
        f"No debtor of {client.name} known to the factor has the {' or the '.join(sought)} of {name}; "
        "ask the factor to set this debtor up before assigning documents on it."
    )


def _kind(invoice: Invoice) -> str:
    return "credit note" if invoice.is_credit_note else "invoice"
