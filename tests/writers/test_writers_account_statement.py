"""The current-account statement: worked example 1 (factoring.md §1.7) section by section, periods that open
on a carried balance, and a statement that does not add up is never written."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from decimal import Decimal

import pytest
from factoring_examples import EXAMPLE_TERMS, REMITTANCE_42

from gateway.errors import DeliveryError
from gateway.factoring.account import Account, Movement, drawing, remittance_movements
from gateway.factoring.advance import compute_advances
from gateway.writers import account_statement
from gateway.writers.account_statement import Period

MARCH = Period("acme", "EUR", date(2025, 3, 1), date(2025, 3, 31), 3)


def example_1() -> list[Movement]:
    (statement,) = compute_advances(REMITTANCE_42, EXAMPLE_TERMS, date(2025, 3, 11))
    movements = list(remittance_movements(statement, "42", date(2025, 3, 10)))
    movements.append(drawing(movements, "TRF-1", statement.paid_out, date(2025, 3, 11), "EUR"))
    return movements


def test_march_statement_of_example_1() -> None:
    rows = account_statement.write(MARCH, example_1(), "csv").decode("utf-8-sig").splitlines()
    assert rows[:2] == [
        "record;section;booking_date;value_date;movement;reference;debit;credit;balance",
        "H;factoring-gateway/account-statement;1;acme;3;EUR;2025-03-01;2025-03-31;",
    ]
    current = [row for row in rows if row.startswith(("M;current", "C;current"))]
    assert current == [
        "M;current;2025-03-10;2025-03-10;remittance-invoices;42;0.00;42000.00;42000.00",
        "M;current;2025-03-10;2025-03-10;remittance-credit-notes;42;1200.00;0.00;40800.00",
        "M;current;2025-03-10;2025-03-10;reserve;42;3400.00;0.00;37400.00",
        "M;current;2025-03-10;2025-03-10;non-financed;42;6800.00;0.00;30600.00",
        "M;current;2025-03-10;2025-03-10;fee;42;147.00;0.00;30453.00",
        "M;current;2025-03-10;2025-03-10;fee-vat;42;29.40;0.00;30423.60",
        "M;current;2025-03-11;2025-03-11;financing-commission;42;180.48;0.00;30243.12",
        "M;current;2025-03-11;2025-03-11;drawing;TRF-1;30243.12;0.00;0.00",
        "C;current;2025-03-31;;;;;;0.00",
    ]
    assert "C;reserve;2025-03-31;;;;;;3400.00" in rows and "C;non-financed;2025-03-31;;;;;;6800.00" in rows
    assert {row.count(";") for row in rows} == {8}
    assert account_statement.stem(MARCH) == "STA_acme_000003"


def test_a_period_opens_on_the_balance_carried_over() -> None:
    later = dataclasses.replace(MARCH, start=date(2025, 3, 11), number=4)
    document = json.loads(account_statement.write(later, example_1(), "json"))
    current = document["sections"][0]
    assert (current["opening"], current["closing"]) == ("30423.60", "0.00")
    assert [m["movement"] for m in current["movements"]] == ["financing-commission", "drawing"]
    assert (document["balance"], document["available"]) == ("10200.00", "0.00")
    assert document["sections"][1]["movements"] == []  # the reserve did not move in the period


def test_statement_that_does_not_add_up_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    real = account_statement.sections

    def tampered(period: Period, movements: list[Movement]) -> tuple[account_statement.Section, ...]:
        parts = real(period, movements)
        return (dataclasses.replace(parts[0], closing=parts[0].closing + Decimal("0.01")), *parts[1:])

    monkeypatch.setattr(account_statement, "sections", tampered)
    with pytest.raises(DeliveryError, match="the current section does not add up"):
        account_statement.write(MARCH, example_1(), "csv")
    assert Account.CURRENT in account_statement.SECTIONS
    with pytest.raises(ValueError, match="ends on or after its start"):
        Period("acme", "EUR", date(2025, 3, 2), date(2025, 3, 1), 1)
