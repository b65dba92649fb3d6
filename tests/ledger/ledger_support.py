"""Helpers shared by the ledger tests (imported by name: conftest puts this folder on sys.path)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from gateway.ledger import DebtorFacts, DocumentRecord
from gateway.model import Issue, Verdict, normalise_invoice_number


def document(
    position: int,
    number: str | None = None,
    amount: str | None = "100.00",
    *,
    verdict: Verdict = Verdict.ACCEPTED,
    line_no: int | None = None,
    type_code: str = "380",
    issue_date: date = date(2025, 3, 1),
    seller_key: str = "123456789",
    debtor_id: str = "ALPHA",
    currency: str = "EUR",
    guaranteed: str | None = None,
    issues: tuple[Issue, ...] = (),
) -> DocumentRecord:
    """A document record as the pipeline would hand it over (accepted by default)."""
    number = number if number is not None else f"F-{position:06d}"
    value = Decimal(amount) if amount is not None else None
    accepted = verdict is Verdict.ACCEPTED
    guaranteed_value = Decimal(guaranteed) if guaranteed is not None else value
    return DocumentRecord(
        position=position,
        location=f"line {position + 1}",
        number=number,
        normalised_number=normalise_invoice_number(number),
        seller_key=seller_key,
        issue_date=issue_date,
        due_date=date(2025, 5, 1),
        type_code=type_code,
        currency=currency,
        amount=value,
        debtor_id=debtor_id,
        debtor_name=f"{debtor_id} SA",
        preceding_invoice=None,
        verdict=verdict,
        issues=issues,
        line_no=(line_no if line_no is not None else position) if accepted else None,
        guaranteed=guaranteed_value if accepted else None,
        non_guaranteed=(value - guaranteed_value)
        if accepted and value is not None and guaranteed_value is not None
        else None,
    )


def debtor(debtor_id: str, limit: str, opening: str = "0.00", *, name: str | None = None) -> DebtorFacts:
    """A debtor as the configuration describes it (EUR approval)."""
    return DebtorFacts(
        debtor_id, name or f"{debtor_id} SA", None, None, Decimal(limit), "EUR", Decimal(opening)
    )
