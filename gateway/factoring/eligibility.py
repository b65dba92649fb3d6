"""Can this document be assigned to the factor under this client's contract?

These are the factor's eligibility rules (brief §1.5): the seller must be the
client, the debtor must be one the factor knows, the currency covered, the
due date neither past nor beyond the contract's maximum term, the amount
positive. Each failure is an issue on the document; the acknowledgement
tells the client which rule and which value.

The debtor is found by SIREN, then by VAT number. A client may have hundreds
of debtors and a batch 100,000 rows, so each client's lookup tables are
built once and reused for as long as that same settings object is in use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from gateway.model import Invoice, Issue, Party
from gateway.settings import ClientSettings, DebtorSettings

_ID_NOISE = re.compile(r"[\s.\-/]")
_FRENCH_VAT = re.compile(r"FR[0-9A-Z]{2}(\d{9})")


def compact_id(value: str) -> str:
    """The form identifiers are compared in: no blanks, dots, dashes or slashes; upper case.

    >>> compact_id(" fr 40 303.265.045 ")
    'FR40303265045'
    """
    return _ID_NOISE.sub("", value).upper()


@dataclass(frozen=True, slots=True)
class _DebtorIndex:
    by_siren: dict[str, DebtorSettings]
    by_vat: dict[str, DebtorSettings]
    client_siren: str


_indexes: dict[int, tuple[ClientSettings, _DebtorIndex]] = {}
_MAX_INDEXES = 64


def _index(client: ClientSettings) -> _DebtorIndex:
    """The client's debtor lookup, built once per settings object.

    Keyed by identity: hashing a whole ClientSettings on every row would cost
    more than the lookup. The cache holds the object itself, so its id cannot
    be reused by another object while the entry lives.
    """
    cached = _indexes.get(id(client))
    if cached is not None and cached[0] is client:
        return cached[1]
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
    index = _DebtorIndex(by_siren, by_vat, compact_id(client.siren))
    if len(_indexes) >= _MAX_INDEXES:
        _indexes.clear()
    _indexes[id(client)] = (client, index)
    return index


_candidates: dict[int, tuple[Party, tuple[str, ...]]] = {}
_MAX_CANDIDATES = 65536


def _siren_candidates(party: Party) -> tuple[str, ...]:
    """``party.siren_candidates()``, remembered per party object.

    Parsers share one Party object between the rows of the same debtor, so
    identity is the cheap key (hashing and comparing parties costs more than
    the lookup saves); the entry holds the party so its id stays its own.
    """
    hit = _candidates.get(id(party))
    if hit is not None and hit[0] is party:
        return hit[1]
    found = party.siren_candidates()
    if len(_candidates) >= _MAX_CANDIDATES:
        _candidates.clear()
    _candidates[id(party)] = (party, found)
    return found


def resolve_debtor(invoice: Invoice, client: ClientSettings) -> DebtorSettings | None:
    """The client's debtor this document is on: by the buyer's SIRENs, else by its VAT number."""
    index = _index(client)
    buyer = invoice.buyer
    for siren in _siren_candidates(buyer):
        debtor = index.by_siren.get(siren)
        if debtor is not None:
            return debtor
    if buyer.vat_id:
        return index.by_vat.get(compact_id(buyer.vat_id))
    return None


def check_eligibility(invoice: Invoice, client: ClientSettings, business_date: date) -> list[Issue]:
    """Every reason the factor would refuse ``invoice`` from ``client``; empty when eligible."""
    issues: list[Issue] = []
    location = invoice.location
    index = _index(client)
    contract = client.contract

    seller_sirens = _siren_candidates(invoice.seller)
    if index.client_siren not in seller_sirens:
        given = f"SIREN {', '.join(seller_sirens)}" if seller_sirens else "no SIREN"
        issues.append(
            Issue(
                "GW-SELLER-NOT-CLIENT",
                f"The seller of this {_kind(invoice)} ({given}) is not {client.name} (SIREN {client.siren}), "
                "the client this channel belongs to.",
                location=location,
            )
        )

    if invoice.currency not in contract.currencies:
        issues.append(
            Issue(
                "GW-CURRENCY-NOT-ALLOWED",
                f"The currency {invoice.currency} is not covered by the factoring contract of {client.name}, "
                f"which covers {', '.join(contract.currencies)}.",
                location=location,
            )
        )

    if not invoice.is_credit_note:
        _check_due_date(invoice, contract.max_term_days, business_date, issues)

    if resolve_debtor(invoice, client) is None:
        issues.append(
            Issue(
                "GW-DEBTOR-UNKNOWN",
                _unknown_debtor_message(invoice, client),
                location=location,
            )
        )

    amount = invoice.receivable_amount
    if amount is not None and amount <= 0:
        issues.append(
            Issue(
                "GW-AMOUNT-NOT-POSITIVE",
                f"The amount of this {_kind(invoice)} is {amount:.2f}; only a positive amount can be "
                "assigned (a credit note is sent with type code 381 or 396 and a positive amount).",
                location=location,
            )
        )
    return issues


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


def _unknown_debtor_message(invoice: Invoice, client: ClientSettings) -> str:
    buyer = invoice.buyer
    sought: list[str] = []
    sirens = _siren_candidates(buyer)
    if sirens:
        sought.append(f"SIREN {', '.join(sirens)}")
    if buyer.vat_id:
        sought.append(f"VAT number {compact_id(buyer.vat_id)}")
    name = f"the buyer {buyer.name}" if buyer.name else "the buyer"
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
