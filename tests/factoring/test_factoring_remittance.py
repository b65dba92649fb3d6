"""Control sums of a remittance: per currency, sorted, credit notes negative."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from gateway.factoring.remittance import build_remittance, remittance_totals
from gateway.model import AssignedLine

D = Decimal


def line(no: int, type_code: str, currency: str, amount: str, guaranteed: str) -> AssignedLine:
    return AssignedLine(
        line_no=no,
        number=f"N{no}",
        type_code=type_code,
        issue_date=date(2025, 3, 1),
        due_date=None,
        debtor_id="D1",
        debtor_name="Debtor",
        currency=currency,
        amount=D(amount),
        guaranteed=D(guaranteed),
        non_guaranteed=D(amount) - D(guaranteed),
    )


def test_totals_per_currency_sorted_by_code() -> None:
    lines = [
        line(1, "381", "USD", "-100.00", "-40.00"),
        line(2, "396", "EUR", "-10.00", "0.00"),
        line(3, "380", "USD", "250.50", "250.50"),
        line(4, "393", "EUR", "1000.00", "600.00"),
        line(5, "380", "EUR", "99.99", "0.00"),
    ]
    eur, usd = remittance_totals(lines)
    assert eur.currency == "EUR" and usd.currency == "USD"
    assert (eur.invoice_count, eur.invoice_total, eur.credit_note_count, eur.credit_note_total) == (
        2,
        D("1099.99"),
        1,
        D("-10.00"),
    )
    assert eur.net_total == D("1089.99")
    assert (eur.guaranteed_total, eur.non_guaranteed_total) == (D("600.00"), D("489.99"))
    assert (usd.invoice_count, usd.credit_note_count, usd.net_total) == (1, 1, D("150.50"))
    assert usd.guaranteed_total + usd.non_guaranteed_total == usd.net_total


def test_a_currency_without_credit_notes_has_a_zero_credit_total() -> None:
    (eur,) = remittance_totals([line(1, "380", "EUR", "10.00", "10.00")])
    assert eur.credit_note_count == 0
    assert str(eur.credit_note_total) == "0.00"


def test_no_lines_no_totals() -> None:
    assert remittance_totals([]) == ()


def test_build_remittance_carries_its_identity_and_totals() -> None:
    lines = [line(1, "380", "EUR", "10.00", "10.00")]
    remittance = build_remittance("acme", 42, date(2025, 3, 10), "batch.csv", 9, lines)
    assert (remittance.client_id, remittance.number, remittance.business_date) == (
        "acme",
        42,
        date(2025, 3, 10),
    )
    assert (remittance.source_name, remittance.envelope_id) == ("batch.csv", 9)
    assert remittance.lines == tuple(lines)
    assert remittance.totals == remittance_totals(lines)
