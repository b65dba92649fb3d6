"""The client current account: worked example 1's statement (factoring.md §1.7), and a property test that no
money appears or vanishes whatever remittances, drawings and recourse happen."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from factoring_examples import EXAMPLE_TERMS, REMITTANCE_42, line
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.factoring.account import (
    CLIENT_ACCOUNTS,
    Account,
    DrawingRefused,
    Movement,
    MovementKind,
    UnbalancedMovement,
    drawing,
    position,
    recourse,
    remittance_movements,
    running_balance,
)
from gateway.factoring.advance import compute_advances

D = Decimal
BOOKED, FUNDED = date(2025, 3, 10), date(2025, 3, 11)


def example_1() -> list[Movement]:
    (statement,) = compute_advances(REMITTANCE_42, EXAMPLE_TERMS, FUNDED)
    return list(remittance_movements(statement, "42", BOOKED))


def test_worked_example_1_statement() -> None:
    movements = example_1()
    movements.append(drawing(movements, "TRF-1", D("30243.12"), FUNDED, "EUR"))
    shown = [
        (m.kind.value, m.booking_date.day, m.on(Account.CURRENT))
        for m in movements
        if m.kind not in (MovementKind.RESERVE, MovementKind.NON_FINANCED)
    ]
    assert shown == [
        ("remittance-invoices", 10, D("42000.00")),
        ("remittance-credit-notes", 10, D("-1200.00")),
        ("fee", 10, D("-147.00")),
        ("fee-vat", 10, D("-29.40")),
        ("financing-commission", 11, D("-180.48")),
        ("drawing", 11, D("-30243.12")),
    ]
    closing = position(movements, FUNDED, "EUR")
    assert (closing.balance, closing.available, closing.reserve, closing.non_financed) == (
        D("10200.00"),
        D("0.00"),
        D("3400.00"),
        D("6800.00"),
    )
    assert running_balance(movements)[-1][1] == D("10200.00")


def test_availability_before_funding_and_drawing_refusals() -> None:
    movements = example_1()
    on_booking_day = position(movements, BOOKED, "EUR")
    assert on_booking_day.available == D("30423.60")  # the commission is booked on the funding date
    with pytest.raises(
        DrawingRefused, match=r"30243\.13 EUR is more than the 30243\.12 EUR available"
    ) as refused:
        drawing(movements, "TRF-1", D("30243.13"), FUNDED, "EUR")
    assert refused.value.code == "GW-DRAWING-OVER-AVAILABILITY"
    with pytest.raises(DrawingRefused) as refused:
        drawing(movements, "TRF-1", D("0"), FUNDED, "EUR")
    assert refused.value.code == "GW-DRAWING-NOT-POSITIVE"
    assert position(movements, FUNDED, "USD").balance == 0


def test_recourse_of_an_unfinanced_invoice_debits_the_client() -> None:
    (statement,) = compute_advances(REMITTANCE_42, EXAMPLE_TERMS, FUNDED)
    movements = list(remittance_movements(statement, "42", BOOKED))
    f1003 = next(share for share in statement.lines if share.number == "F-1003")
    movements.append(recourse(f1003, date(2025, 7, 20), "EUR"))
    after = position(movements, date(2025, 7, 20), "EUR")
    assert (after.balance, after.non_financed, after.reserve) == (D("34443.12"), D("800.00"), D("3400.00"))


def test_a_movement_that_does_not_balance_is_refused() -> None:
    with pytest.raises(UnbalancedMovement, match=r"add up to 0\.01"):
        Movement(
            MovementKind.FEE,
            "x",
            BOOKED,
            BOOKED,
            "EUR",
            ((Account.FEES, D("1.00")), (Account.CURRENT, D("-0.99"))),
        )


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[str, object]]:
    steps: list[tuple[str, object]] = []
    for r in range(draw(st.integers(1, 6))):
        lines = []
        for no in range(1, draw(st.integers(1, 5)) + 1):
            amount = draw(st.decimals(min_value=D("-5000"), max_value=D("90000"), places=2)) or D("1.00")
            guaranteed = (amount * draw(st.decimals(min_value=0, max_value=1, places=2))).quantize(D("0.01"))
            due = FUNDED + timedelta(days=draw(st.integers(0, 120)))
            lines.append(
                line(no, f"R{r}-{no}", "381" if amount < 0 else "380", due, str(amount), str(guaranteed))
            )
        steps.append(("remittance", lines))
        steps.append(("draw", draw(st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2))))
        if draw(st.booleans()):
            steps.append(("recourse", draw(st.integers(0, len(lines) - 1))))
    return steps


@settings(max_examples=150, deadline=None)
@given(histories())
def test_no_money_appears_or_vanishes(history: list[tuple[str, object]]) -> None:
    movements: list[Movement] = []
    last_lines = ()
    for n, (step, value) in enumerate(history):
        if step == "remittance":
            assert isinstance(value, list)
            (statement,) = compute_advances(value, EXAMPLE_TERMS, FUNDED)
            last_lines = statement.lines
            movements.extend(remittance_movements(statement, str(n), BOOKED))
        elif step == "draw":
            assert isinstance(value, Decimal)
            before = position(movements, FUNDED, "EUR").available
            try:
                movements.append(drawing(movements, f"T{n}", value, FUNDED, "EUR"))
            except DrawingRefused:
                assert value > before or value <= 0
            else:
                assert value <= before
        else:
            assert isinstance(value, int)
            movements.append(recourse(last_lines[value], FUNDED, "EUR"))
    everything = {account: sum((m.on(account) for m in movements), D(0)) for account in Account}
    assert sum(everything.values(), D(0)) == 0  # every movement balances, so the books do
    client = position(movements, FUNDED, "EUR")
    assert client.balance == client.available + client.reserve + client.non_financed
    assert client.balance == sum((everything[a] for a in CLIENT_ACCOUNTS), D(0))
    factor_side = sum((everything[a] for a in Account if a not in CLIENT_ACCOUNTS), D(0))
    assert client.balance == -factor_side
