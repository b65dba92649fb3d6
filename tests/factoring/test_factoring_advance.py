"""Advance arithmetic: worked example 1 (factoring.md §1.6) to the cent, and what holds for any remittance."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from factoring_examples import EXAMPLE_TERMS, REMITTANCE_42, line
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.factoring.advance import AdvanceTerms, DrawnDay, compute_advances, drawn_balance_commission
from gateway.factoring.business_days import BusinessCalendar
from gateway.model import AssignedLine

D = Decimal


def test_worked_example_1_to_the_cent() -> None:
    funding = BusinessCalendar().funding_date(datetime(2025, 3, 10, 10, 30), time(16, 0))
    assert funding == date(2025, 3, 11)
    (statement,) = compute_advances(REMITTANCE_42, EXAMPLE_TERMS, funding)
    assert statement.credited == D("40800.00")
    assert statement.financeable == D("34000.00")
    assert statement.non_financed == D("6800.00")
    assert statement.reserve == D("3400.00")
    assert statement.advance == D("30600.00")
    assert (statement.fee_base, statement.fee, statement.fee_vat) == (D("42000.00"), D("147.00"), D("29.40"))
    by_number = {share.number: share for share in statement.lines}
    assert by_number["AV-0007"].advance == D("-1080.00")
    assert (by_number["F-1001"].advance, by_number["F-1001"].financing_days) == (D("10080.00"), 54)
    assert by_number["F-1001"].financing_commission == D("60.48")
    assert (by_number["F-1002"].financing_days, by_number["F-1002"].financing_commission) == (50, D("120.00"))
    assert by_number["F-1003"].financing_days is None  # nothing advanced on it
    assert statement.financing_commission == D("180.48")
    assert statement.paid_out == D("30243.12")


def test_drawn_balance_variant_of_example_1() -> None:
    terms = AdvanceTerms(**{**_fields(EXAMPLE_TERMS), "financing_style": "drawn-balance"})
    (statement,) = compute_advances(REMITTANCE_42, terms, date(2025, 3, 11))
    assert statement.financing_commission == D("0.00")
    month = [DrawnDay(date(2025, 3, 11) + timedelta(days=d), D("30243.12")) for d in range(31)]
    assert drawn_balance_commission(month, D("0.04"), "ACT/360") == D("104.17")
    with pytest.raises(ValueError, match="given twice"):
        drawn_balance_commission(month + month[:1], D("0.04"), "ACT/360")


def test_contract_options_on_the_fee() -> None:
    base = _fields(EXAMPLE_TERMS)
    net = AdvanceTerms(**{**base, "fee_on_credit_notes": True})
    assert compute_advances(REMITTANCE_42, net, date(2025, 3, 11))[0].fee == D("142.80")
    per_invoice = AdvanceTerms(**{**base, "fee_per_invoice": D("1.50")})
    assert compute_advances(REMITTANCE_42, per_invoice, date(2025, 3, 11))[0].fee == D("151.50")
    minimum = AdvanceTerms(**{**base, "minimum_fee": D("250")})
    statement = compute_advances(REMITTANCE_42, minimum, date(2025, 3, 11))[0]
    assert (statement.fee, statement.fee_vat) == (D("250.00"), D("50.00"))


def test_financing_the_non_guaranteed_part_when_the_contract_says_so() -> None:
    terms = AdvanceTerms(**{**_fields(EXAMPLE_TERMS), "finance_non_guaranteed": True})
    (statement,) = compute_advances(REMITTANCE_42, terms, date(2025, 3, 11))
    assert (statement.financeable, statement.non_financed, statement.advance) == (
        D("40800.00"),
        D("0.00"),
        D("36720.00"),
    )


def test_one_statement_per_currency() -> None:
    lines = (*REMITTANCE_42, line(5, "F-2001", "380", date(2025, 4, 10), "1000.00", "1000.00", "USD"))
    statements = compute_advances(lines, EXAMPLE_TERMS, date(2025, 3, 11))
    assert [s.currency for s in statements] == ["EUR", "USD"]
    assert statements[1].advance == D("900.00") and statements[0].advance == D("30600.00")


def test_funding_waits_for_the_cut_off_and_the_holidays() -> None:
    calendar = BusinessCalendar()
    assert calendar.funding_date(datetime(2025, 3, 10, 16, 0), time(16, 0)) == date(2025, 3, 12)
    assert calendar.funding_date(datetime(2025, 3, 8, 9, 0), time(16, 0)) == date(2025, 3, 11)  # Saturday
    assert calendar.funding_date(datetime(2025, 4, 30, 9, 0), time(16, 0)) == date(2025, 5, 2)  # 1 May
    assert not calendar.is_business_day(date(2025, 12, 26))  # TARGET2 closed, not a French holiday
    assert not calendar.is_business_day(date(2025, 7, 14))  # French holiday, TARGET2 open
    own = BusinessCalendar(extra_closures=frozenset({date(2025, 3, 11)}))
    assert own.funding_date(datetime(2025, 3, 10, 9, 0), time(16, 0)) == date(2025, 3, 12)


amounts = st.decimals(min_value=D("-50000"), max_value=D("500000"), places=2, allow_nan=False)


@st.composite
def remittances(draw: st.DrawFn) -> list[AssignedLine]:
    result = []
    for no in range(1, draw(st.integers(1, 12)) + 1):
        amount = draw(amounts)
        if amount == 0:
            amount = D("0.01")
        share = draw(st.decimals(min_value=0, max_value=1, places=3))
        guaranteed = (amount * share).quantize(D("0.01"))
        due = date(2025, 3, 11) + timedelta(days=draw(st.integers(-10, 200)))
        result.append(line(no, f"N{no}", "381" if amount < 0 else "380", due, str(amount), str(guaranteed)))
    return result


@settings(max_examples=200, deadline=None)
@given(
    remittances(),
    st.decimals(min_value=D("0.5"), max_value=D("1"), places=2),
    st.booleans(),
    st.sampled_from(["ROUND_HALF_UP", "ROUND_HALF_EVEN", "ROUND_DOWN"]),
)
def test_no_money_appears_or_vanishes(
    lines: list[AssignedLine], advance_rate: Decimal, finance_all: bool, rounding: str
) -> None:
    terms = AdvanceTerms(
        **{
            **_fields(EXAMPLE_TERMS),
            "advance_rate": advance_rate,
            "finance_non_guaranteed": finance_all,
            "rounding": rounding,
        }
    )
    (statement,) = compute_advances(lines, terms, date(2025, 3, 11))
    for share in statement.lines:
        assert share.advance + share.reserve == share.financeable
        assert share.financeable + share.non_financed == share.amount
        assert share.financing_commission >= 0
        for value in (share.advance, share.reserve, share.financing_commission):
            assert value == value.quantize(D("0.01"))
    assert statement.financeable + statement.non_financed == statement.credited
    assert statement.invoice_total + statement.credit_note_total == statement.credited
    assert statement.advance == sum((s.advance for s in statement.lines), D(0))
    assert (
        statement.paid_out
        == statement.advance - statement.fee - statement.fee_vat - statement.financing_commission
    )


def _fields(terms: AdvanceTerms) -> dict[str, object]:
    return {name: getattr(terms, name) for name in AdvanceTerms.__slots__}
