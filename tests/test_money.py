"""gateway.money: one exact context, rounding only when named, amounts read one way everywhere."""

from __future__ import annotations

import decimal
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import InputError
from gateway.money import (
    CENT,
    MAX_DECIMALS,
    MAX_INTEGER_DIGITS,
    PRECISION,
    XSD_DECIMAL,
    AmountError,
    AmountSyntax,
    Rate,
    add,
    money_context,
    negated,
    parse_amount,
    quantize,
    subtract,
)

D = Decimal
CSV_LIKE = AmountSyntax(max_integer_digits=15, max_decimals=2, plus_sign=False, bare_point=False)


# --------------------------------------------------------------------------- the context


def test_the_context_is_wide_exact_and_traps_what_would_hide_an_error() -> None:
    with money_context() as context:
        assert context.prec == PRECISION == 38
        assert context.rounding == ROUND_HALF_EVEN
        for trap in (decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow):
            assert context.traps[trap]
        with pytest.raises(decimal.DivisionByZero):
            D("1.00") / D("0")
        with pytest.raises(decimal.InvalidOperation):
            D("Infinity") - D("Infinity")


def test_leaving_the_context_restores_the_callers() -> None:
    with decimal.localcontext(prec=7) as outer:
        with money_context():
            pass
        assert decimal.getcontext() is outer and outer.prec == 7


def test_entering_twice_starts_clean_each_time() -> None:
    with money_context() as first:
        _ = D(1) / D(3)  # sets Inexact and Rounded in this copy only
    with money_context() as second:
        assert second is not first
        assert not second.flags[decimal.Inexact]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.decimals(
            min_value=-(D(10) ** MAX_INTEGER_DIGITS) + 1,
            max_value=D(10) ** MAX_INTEGER_DIGITS - 1,
            places=MAX_DECIMALS,
            allow_nan=False,
            allow_infinity=False,
        ),
        min_size=1,
        max_size=100,
    )
)
def test_a_hundred_of_the_widest_amounts_add_up_exactly(amounts: list[Decimal]) -> None:
    """Whatever the caller's context, the money context loses no digit of such a sum."""
    exact = sum(_units(a) for a in amounts)
    with decimal.localcontext(prec=5), money_context() as context:
        total = sum(amounts, D(0))
        assert not context.flags[decimal.Inexact]
    assert _units(total) == exact


def _units(amount: Decimal) -> int:
    """``amount`` in units of 10^-18, computed with integers only."""
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)
    units: int = int("".join(map(str, digits))) * 10 ** (exponent + MAX_DECIMALS)
    return -units if sign else units


def test_add_and_subtract_work_in_the_money_context_whatever_the_callers() -> None:
    big = D("123456789012345678.123456789012345678")
    with decimal.localcontext(prec=5):
        assert add(big, D("0.000000000000000001")) == D("123456789012345678.123456789012345679")
        assert subtract(big, big) == 0
        assert big + 1 != D("123456789012345679.123456789012345678")  # the caller's 5 digits round


def test_negated_flips_the_sign_exactly_and_never_makes_minus_zero() -> None:
    assert negated(D("12.50")) == D("-12.50")
    assert str(negated(D("0.00"))) == "0.00" and str(negated(D("-0.00"))) == "0.00"
    with decimal.localcontext(prec=3):
        assert negated(D("123456.78")) == D("-123456.78")


# --------------------------------------------------------------------------- rounding


def test_quantize_rounds_only_the_way_it_is_told() -> None:
    assert quantize(D("2.665"), 2, rounding=ROUND_HALF_UP) == D("2.67")
    assert quantize(D("2.665"), 2, rounding=ROUND_HALF_EVEN) == D("2.66")
    assert quantize(D("2.669"), CENT, rounding=ROUND_DOWN) == D("2.66")
    assert quantize(D("1234.5"), 0, rounding=ROUND_HALF_UP) == D("1235")
    assert str(quantize(D("12"), 2, rounding=ROUND_HALF_UP)) == "12.00"


def test_quantize_has_no_default_rounding() -> None:
    with pytest.raises(TypeError):
        quantize(D("1.005"), 2)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="unknown rounding mode 'HALF_UP'"):
        quantize(D("1.005"), 2, rounding="HALF_UP")  # type: ignore[arg-type]


@pytest.mark.parametrize("places", [D("0.05"), D("-0.01"), D("NaN"), 19, True, 2.0])
def test_quantize_refuses_places_that_are_not_a_power_of_ten(places: object) -> None:
    with pytest.raises(ValueError, match="places must be"):
        quantize(D("1.00"), places, rounding=ROUND_HALF_UP)  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_quantize_refuses_what_is_not_a_number(amount: str) -> None:
    with pytest.raises(ValueError, match="not a number"):
        quantize(D(amount), 2, rounding=ROUND_HALF_UP)


def test_quantize_to_cents_of_the_widest_amount_fits() -> None:
    """The validation crash: the default context cannot hold 30 digits and two decimals."""
    thirty = D("123456789012345678901234567890")
    with pytest.raises(decimal.InvalidOperation):
        thirty.quantize(CENT)  # what document.amount_text used to do
    assert str(quantize(thirty, 2, rounding=ROUND_HALF_UP)) == "123456789012345678901234567890.00"


# --------------------------------------------------------------------------- reading amounts


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1234.50", "1234.50"),
        ("-12.5", "-12.5"),
        ("+7", "7"),
        (".5", "0.5"),
        ("5.", "5"),
        ("0", "0"),
        ("000123.40", "123.40"),
        ("9" * 18 + "." + "9" * 18, "9" * 18 + "." + "9" * 18),
    ],
)
def test_plain_decimal_numbers_are_read_exactly(text: str, amount: str) -> None:
    read = parse_amount(text)
    assert read == D(amount) and str(read) == str(D(amount))


@pytest.mark.parametrize("text", ["-0", "-0.00", "-.0", "+0.00", "-000.000"])
def test_minus_zero_reads_as_zero(text: str) -> None:
    read = parse_amount(text)
    assert read == 0 and not read.is_signed()
    assert read.as_tuple().exponent == D(text).as_tuple().exponent  # the scale is kept


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("NaN", "is not a number"),
        ("-nan", "is not a number"),
        ("sNaN", "is not a number"),
        ("NaN123", "is not a number"),
        ("Infinity", "is not a number"),
        ("-Inf", "is not a number"),
        ("1E3", "is written with an exponent"),
        ("1e-2", "is written with an exponent"),
        ("2.5E+10", "is written with an exponent"),
        ("1,234.50", "no thousands separator"),
        ("1234,50", "no thousands separator"),
        ("1 234.50", "no thousands separator"),
        ("1'234.50", "no thousands separator"),
        ("1_000.00", "no thousands separator"),
        ("1\u202f234.50", "no thousands separator"),
        (" 12.00", "no thousands separator or blank"),
        ("1.2.3", "has more than one point"),
        ("١٢٣.٠٠", "is not an amount"),
        ("12.00 EUR", "is not an amount"),
        ("EUR12", "is not an amount"),
        ("--5", "is not an amount"),
        ("5-", "is not an amount"),
        ("+", "is not an amount"),
        (".", "is not an amount"),
        ("0x10", "is not an amount"),
        ("1" * 19, "has 19 digits before the point; an amount has at most 18"),
        ("123456789012345678901234567890", "has 30 digits before the point"),
        ("0" * 19 + "1", "has 20 digits before the point"),
        ("1." + "0" * 19, "has 19 decimals; an amount has at most 18 (the gateway never rounds an amount)"),
    ],
)
def test_what_is_not_an_amount_is_refused_with_the_value_and_the_reason(text: str, reason: str) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text)
    error = caught.value
    assert isinstance(error, InputError) and error.code == "GW-AMOUNT-INVALID"
    assert error.text == text and reason in error.reason
    assert str(error).startswith("'") and reason in str(error)


def test_a_long_value_is_cut_in_the_message_and_controls_are_escaped() -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount("9" * 1000)
    assert str(caught.value) == (
        f"'{'9' * 40}…' (1,000 characters) has 1000 digits before the point; an amount has at most 18"
    )
    with pytest.raises(AmountError) as caught:
        parse_amount("12\x1b[31m")
    assert "\x1b" not in str(caught.value) and "'12\\x1b[31m'" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("+5.00", "starts with '+'"),
        (".50", "needs digits on both sides of the point"),
        ("5.", "needs digits on both sides of the point"),
        ("1234567890123456.00", "has 16 digits before the point; an amount has at most 15"),
        ("2000.005", "has 3 decimals; an amount has at most 2"),
    ],
)
def test_a_format_may_be_stricter(text: str, reason: str) -> None:
    parse_amount(text)  # xsd:decimal takes it
    with pytest.raises(AmountError, match=reason.replace("+", r"\+")):
        parse_amount(text, CSV_LIKE)


@pytest.mark.parametrize(
    "limits",
    [
        {"max_integer_digits": 19},
        {"max_integer_digits": 0},
        {"max_decimals": 19},
        {"max_decimals": -1},
    ],
)
def test_a_format_may_never_be_looser_than_the_gateway(limits: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="an amount syntax allows"):
        AmountSyntax(**limits)  # type: ignore[arg-type]


def test_a_syntax_without_decimals() -> None:
    whole = AmountSyntax(max_decimals=0)
    assert parse_amount("-42", whole) == -42
    with pytest.raises(AmountError, match="has 2 decimals; an amount has at most 0"):
        parse_amount("42.00", whole)


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_any_text_is_an_amount_or_an_amount_error(text: str) -> None:
    for syntax in (XSD_DECIMAL, CSV_LIKE):
        try:
            amount = parse_amount(text, syntax)
        except AmountError as error:
            assert error.reason and error.text == text
        else:
            assert amount.is_finite() and not (amount == 0 and amount.is_signed())
            digits = amount.as_tuple()
            assert isinstance(digits.exponent, int) and digits.exponent >= -MAX_DECIMALS
            assert abs(amount) < D(10) ** MAX_INTEGER_DIGITS


@settings(max_examples=300, deadline=None)
@given(
    st.decimals(
        min_value=-(D(10) ** 15) + 1,
        max_value=D(10) ** 15 - 1,
        places=2,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_amounts_written_as_decimals_read_back_exactly(amount: Decimal) -> None:
    text = f"{amount:f}"
    read = parse_amount(text, CSV_LIKE)
    assert read == amount and read.as_tuple().exponent == -2


# --------------------------------------------------------------------------- rates


def test_a_rate_from_a_percentage_or_a_fraction() -> None:
    assert Rate.from_percent("4") == Rate.from_fraction("0.04") == Rate(D("0.04"))
    assert Rate.from_percent(D("0.35")).fraction == D("0.0035")
    assert Rate.from_fraction(1).percent == 100
    assert str(Rate.from_fraction("0.90")) == "90 %"


def test_a_rate_of_an_amount_rounds_as_asked() -> None:
    fee = Rate.from_percent("0.35")
    assert fee.of(D("1234.50"), rounding=ROUND_HALF_UP) == D("4.32")  # 4.32075
    assert fee.of(D("1290.00"), rounding=ROUND_HALF_UP) == D("4.52")  # 4.515
    assert fee.of(D("1290.00"), rounding=ROUND_HALF_EVEN) == D("4.52")
    assert fee.of(D("1270.00"), rounding=ROUND_HALF_EVEN) == D("4.44")  # 4.445
    assert fee.of(D("1270.00"), rounding=ROUND_HALF_UP) == D("4.45")
    assert fee.of(D("1270.00"), rounding=ROUND_DOWN, places=4) == D("4.4450")


def test_a_yearly_rate_over_days_divides_last() -> None:
    yearly = Rate.from_percent(4)
    monthly = yearly.for_days(31, "ACT/360")
    assert (monthly.fraction, monthly.days, monthly.day_count) == (D("0.04"), 31, "ACT/360")
    assert str(monthly) == "4 % × 31/360"
    assert monthly.of(D("10000.00"), rounding=ROUND_HALF_UP) == D("34.44")  # 34.444…
    assert yearly.for_days(31, "ACT/365").of(D("10000.00"), rounding=ROUND_HALF_UP) == D("33.97")  # 33.972…
    assert yearly.for_days(0, "ACT/360").of(D("10000.00"), rounding=ROUND_HALF_UP) == D("0.00")
    # 1,000,000,000,000.00 at 4 % for 9 days ACT/360 is exactly 1,000,000,000.00: no drift.
    assert yearly.for_days(9, "ACT/360").of(D("1000000000000.00"), rounding=ROUND_DOWN) == D("1000000000.00")


def test_a_rate_over_days_cannot_be_taken_over_days_again() -> None:
    with pytest.raises(ValueError, match="already covers a number of days"):
        Rate.from_percent(4).for_days(31, "ACT/360").for_days(2, "ACT/360")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Rate(D("NaN")), "finite Decimal"),
        (lambda: Rate(D("Infinity")), "finite Decimal"),
        (lambda: Rate(0.04), "finite Decimal"),  # type: ignore[arg-type]
        (lambda: Rate.from_fraction(0.04), "not float"),  # type: ignore[arg-type]
        (lambda: Rate.from_fraction(True), "not bool"),
        (lambda: Rate.from_fraction("four"), "'four' is not a number"),
        (lambda: Rate.from_percent(1001), "1001 % is outside -100 % to 1,000 %"),
        (lambda: Rate.from_fraction("-1.5"), "-150 % is outside"),
        (lambda: Rate.from_fraction("0.00000000001"), "more than 10 decimals"),
        (lambda: Rate.from_percent(4).for_days(-1, "ACT/360"), "covers 0 to 36,600 days, not -1"),
        (lambda: Rate.from_percent(4).for_days(20250310, "ACT/360"), "not 20250310"),
        (lambda: Rate.from_percent(4).for_days(30, "30/360"), "unknown day count '30/360'"),  # type: ignore[arg-type]
        (lambda: Rate(D("0.04"), days=30), "needs both the days and the day count"),
    ],
)
def test_rates_are_validated(make: object, message: str) -> None:
    assert callable(make)
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_rate_bounds_are_inclusive_and_trailing_zeros_do_not_count_as_decimals() -> None:
    assert Rate.from_percent(-100).fraction == -1 and Rate.from_percent(1000).fraction == 10
    assert Rate.from_fraction("0.0400000000000000").fraction == D("0.04")
    assert Rate.from_percent(4).for_days(36_600, "ACT/365").days == 36_600


def test_rates_are_frozen_values() -> None:
    rate = Rate.from_percent(4)
    with pytest.raises(AttributeError):
        rate.fraction = D("0.05")  # type: ignore[misc]
    assert hash(rate) == hash(Rate.from_fraction("0.040")) and rate == Rate.from_fraction("0.040")
