"""Worked example 1 of factoring.md §1.6 (remittance 42), shared by the factoring-engine tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from gateway.factoring.advance import AdvanceTerms
from gateway.model import AssignedLine

D = Decimal
EXAMPLE_TERMS = AdvanceTerms(
    advance_rate=D("0.90"),
    fee_rate=D("0.0035"),
    fee_vat_rate=D("0.20"),
    financing_rate=D("0.04"),
    day_count="ACT/360",
)


def line(
    no: int,
    number: str,
    type_code: str,
    due: date | None,
    amount: str,
    guaranteed: str,
    currency: str = "EUR",
) -> AssignedLine:
    return AssignedLine(
        line_no=no,
        number=number,
        type_code=type_code,
        issue_date=date(2025, 3, 5),
        due_date=due,
        debtor_id="D",
        debtor_name=None,
        currency=currency,
        amount=D(amount),
        guaranteed=D(guaranteed),
        non_guaranteed=D(amount) - D(guaranteed),
    )


REMITTANCE_42 = (
    line(1, "AV-0007", "381", None, "-1200.00", "-1200.00"),
    line(2, "F-1001", "380", date(2025, 5, 4), "12000.00", "11200.00"),
    line(3, "F-1002", "380", date(2025, 4, 30), "24000.00", "24000.00"),
    line(4, "F-1003", "380", date(2025, 6, 5), "6000.00", "0.00"),
)
