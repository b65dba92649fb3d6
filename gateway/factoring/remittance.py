"""A remittance (bordereau de cession) and its control sums.

The control sums are what the factor's back office checks the file against
(counts and totals per document type, per currency, takeaway 8), so they are
computed here once, from the very lines that are written, and every writer
and the ledger use this one function rather than adding up on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from gateway.model import CREDIT_NOTE_TYPE_CODES, AssignedLine, CurrencyTotals, Remittance
from gateway.money import money_context

_ZERO = Decimal("0.00")


def remittance_totals(lines: Sequence[AssignedLine]) -> tuple[CurrencyTotals, ...]:
    """Counts and sums per currency, sorted by currency code.

    Invoice totals are positive and credit-note totals negative or zero, as
    the lines carry them; ``net_total`` is their sum. The sums run in the money
    context, so they are exact for any remittance the limits allow.
    """
    with money_context():
        sums, counts = _sums(lines)
        return tuple(
            CurrencyTotals(
                currency=currency,
                invoice_count=counts[currency][0],
                invoice_total=invoice_total,
                credit_note_count=counts[currency][1],
                credit_note_total=credit_note_total,
                net_total=invoice_total + credit_note_total,
                guaranteed_total=guaranteed_total,
                non_guaranteed_total=non_guaranteed_total,
            )
            for currency, (
                invoice_total,
                credit_note_total,
                guaranteed_total,
                non_guaranteed_total,
            ) in sorted(sums.items())
        )


def _sums(lines: Sequence[AssignedLine]) -> tuple[dict[str, list[Decimal]], dict[str, list[int]]]:
    """Per currency: the sums [invoices, credit notes, guaranteed, non-guaranteed] and the counts."""
    sums: dict[str, list[Decimal]] = {}
    counts: dict[str, list[int]] = {}
    for line in lines:
        figures = sums.get(line.currency)
        if figures is None:
            figures = sums[line.currency] = [_ZERO, _ZERO, _ZERO, _ZERO]
            counts[line.currency] = [0, 0]
        if line.type_code in CREDIT_NOTE_TYPE_CODES:
            figures[1] += line.amount
            counts[line.currency][1] += 1
        else:
            figures[0] += line.amount
            counts[line.currency][0] += 1
        figures[2] += line.guaranteed
        figures[3] += line.non_guaranteed
    return sums, counts


def build_remittance(
    client_id: str,
    number: int,
    business_date: date,
    source_name: str,
    envelope_id: int,
    lines: Sequence[AssignedLine],
) -> Remittance:
    """The remittance of one envelope, with its control sums."""
    kept = tuple(lines)
    return Remittance(
        client_id=client_id,
        number=number,
        business_date=business_date,
        source_name=source_name,
        envelope_id=envelope_id,
        lines=kept,
        totals=remittance_totals(kept),
    )
