"""Exact money: one decimal context, named rounding, one way to read an amount.

Python's default decimal context keeps 28 digits and rounds silently beyond
them, and a ``quantize`` that needs more raises: a UBL invoice with a 30-digit
total used to crash the validation. So the gateway reads every amount through
:func:`parse_amount`, which refuses what is not a plain decimal number with at
most :data:`MAX_INTEGER_DIGITS` digits before the point and :data:`MAX_DECIMALS`
after it, and computes in :func:`money_context`, whose :data:`PRECISION` of 38
digits holds any sum of up to a hundred such amounts *exactly* (18 digits, 2
more for the carries, 18 decimals). Invalid operations, divisions by zero and
overflows raise instead of yielding ``NaN`` or ``Infinity``.

Nothing is rounded behind anyone's back: the context's own rounding only
applies to results longer than 38 digits, which sums of amounts never are, and
every rounding to cents goes through :func:`quantize` or :meth:`Rate.of`, whose
rounding mode is a required argument (contracts choose it).

>>> with money_context():
...     Decimal("0.1") + Decimal("0.2")
Decimal('0.3')
>>> parse_amount("-0.00")
Decimal('0.00')
>>> parse_amount("1E3")
Traceback (most recent call last):
...
gateway.money.AmountError: '1E3' is written with an exponent; write the amount in full, for example 1000.00
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import Final, Literal

from gateway.errors import InputError
from gateway.text import escape_controls

#: One cent, the exponent of every invoice amount.
CENT: Final = Decimal("0.01")
#: Digits an amount may have before its point, and after it. 10^15 is already refused as
#: GW-AMOUNT-TOO-LARGE by the document checks; this cap is what keeps sums exact.
MAX_INTEGER_DIGITS: Final = 18
MAX_DECIMALS: Final = 18
#: 18 digits + 2 for the carries of up to a hundred terms + 18 decimals.
PRECISION: Final = MAX_INTEGER_DIGITS + 2 + MAX_DECIMALS

#: The template every money context is copied from; nothing computes in it, so its flags stay clear.
_TEMPLATE: Final = Context(
    prec=PRECISION,
    rounding=ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    capitals=1,
    clamp=0,
    flags=[],
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
#: The context the functions of this module pass explicitly (no thread-local switch per call).
_WORKING: Final = _TEMPLATE.copy()


def money_context() -> AbstractContextManager[Context]:
    """``with money_context():`` runs its block in the gateway's decimal context.

    Enter it once per document or per batch, not per addition: it copies a context.

    >>> with money_context() as context:
    ...     context.prec
    38
    """
    return localcontext(_TEMPLATE)


def add(a: Decimal, b: Decimal) -> Decimal:
    """``a + b`` in the money context without entering it: for code that adds two or three
    amounts per document, where a ``with money_context()`` would cost more than the sums."""
    return _WORKING.add(a, b)


def subtract(a: Decimal, b: Decimal) -> Decimal:
    """``a - b`` in the money context without entering it (see :func:`add`)."""
    return _WORKING.subtract(a, b)


def negated(amount: Decimal) -> Decimal:
    """``-amount`` exactly whatever the context (``copy_negate`` never rounds); zero stays unsigned,
    as a ``-0.00`` would reach outputs.

    >>> negated(Decimal("12.50")), negated(Decimal("0.00"))
    (Decimal('-12.50'), Decimal('0.00'))
    """
    return amount.copy_negate() if amount else amount.copy_abs()


# --------------------------------------------------------------------------- rounding

#: The rounding modes of :mod:`decimal`, by their names (``decimal.ROUND_HALF_UP`` is one).
Rounding = Literal[
    "ROUND_HALF_UP",
    "ROUND_HALF_EVEN",
    "ROUND_HALF_DOWN",
    "ROUND_DOWN",
    "ROUND_UP",
    "ROUND_CEILING",
    "ROUND_FLOOR",
    "ROUND_05UP",
]
_ROUNDINGS: Final = frozenset(typing.get_args(Rounding))
_EXPONENTS: Final = {places: Decimal((0, (1,), -places)) for places in range(-MAX_INTEGER_DIGITS, 19)}


def quantize(amount: Decimal, places: int | Decimal, *, rounding: Rounding) -> Decimal:
    """``amount`` with ``places`` decimals (an int, or an exponent such as :data:`CENT`), rounded
    the way ``rounding`` says: there is no default, because the contract decides.

    >>> from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP
    >>> quantize(Decimal("2.665"), 2, rounding=ROUND_HALF_UP)
    Decimal('2.67')
    >>> quantize(Decimal("2.665"), CENT, rounding=ROUND_HALF_EVEN)
    Decimal('2.66')
    """
    if rounding not in _ROUNDINGS:
        raise ValueError(f"unknown rounding mode {rounding!r}; use one of {', '.join(sorted(_ROUNDINGS))}")
    if not amount.is_finite():
        raise ValueError(f"cannot round {amount}: it is not a number")
    return amount.quantize(_exponent(places), rounding=rounding, context=_WORKING)


def _exponent(places: int | Decimal) -> Decimal:
    if isinstance(places, Decimal):
        sign, digits, exponent = places.as_tuple()
        if sign or digits != (1,) or not isinstance(exponent, int):
            raise ValueError(f"places must be a power of ten such as 0.01, not {places}")
        places = -exponent
    if type(places) is not int or places not in _EXPONENTS:
        raise ValueError(f"places must be a whole number from {-MAX_INTEGER_DIGITS} to 18, not {places!r}")
    return _EXPONENTS[places]


# --------------------------------------------------------------------------- reading amounts


class AmountError(InputError):
    """A text that is not an amount; ``str(error)`` shows the value and says why, for people."""

    code = "GW-AMOUNT-INVALID"

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"{shown_value(text)} {reason}")


_SHOWN_CHARS = 40


def shown_value(text: str) -> str:
    r"""``text`` quoted and escaped for a message, cut when long (a cell may hold a thousand characters).

    >>> print(shown_value("12.00\x1b"), shown_value("9" * 50))
    '12.00\x1b' '9999999999999999999999999999999999999999…' (50 characters)
    """
    if len(text) > _SHOWN_CHARS:
        return f"'{escape_controls(text[:_SHOWN_CHARS])}…' ({len(text):,} characters)"
    return f"'{escape_controls(text)}'"


@dataclass(frozen=True, slots=True)
class AmountSyntax:
    """How a format writes amounts. The default is xsd:decimal (UBL, CII) within the gateway's
    caps; a format may be stricter, never looser: the csv-batch layout takes no ``+``, wants
    digits on both sides of the point and allows 15 digits and 2 decimals.

    Only ASCII digits count: ``Decimal`` itself would also read ``١٢٣`` or ``1_000``.
    """

    max_integer_digits: int = MAX_INTEGER_DIGITS
    max_decimals: int = MAX_DECIMALS
    plus_sign: bool = True  # '+5.00'
    bare_point: bool = True  # '.5' and '5.'
    #: Built from the fields above: the whole text is an amount of this syntax, or None.
    match: Callable[[str], re.Match[str] | None] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        digits, decimals = self.max_integer_digits, self.max_decimals
        if not (1 <= digits <= MAX_INTEGER_DIGITS and 0 <= decimals <= MAX_DECIMALS):
            raise ValueError(
                f"an amount syntax allows 1 to {MAX_INTEGER_DIGITS} digits and 0 to {MAX_DECIMALS} decimals, "
                f"not {digits} and {decimals}"
            )
        sign = "[+-]?" if self.plus_sign else "-?"
        if decimals == 0:
            body = f"[0-9]{{1,{digits}}}"
        elif self.bare_point:
            body = f"(?:[0-9]{{1,{digits}}}(?:\\.[0-9]{{0,{decimals}}})?|\\.[0-9]{{1,{decimals}}})"
        else:
            body = f"[0-9]{{1,{digits}}}(?:\\.[0-9]{{1,{decimals}}})?"
        object.__setattr__(self, "match", re.compile(sign + body).fullmatch)


#: The lexical form of xsd:decimal, within the gateway's caps.
XSD_DECIMAL: Final = AmountSyntax()


def parse_amount(text: str, syntax: AmountSyntax = XSD_DECIMAL) -> Decimal:
    """The exact amount ``text`` writes, or :class:`AmountError` saying why it is none.

    Refused: empty text, blanks, ``NaN``/``sNaN``/``Infinity``, exponents (``1E3``,
    ``1e-2``), separators (``1 234,50``), more digits than ``syntax`` allows. ``-0.00``
    reads as ``0.00``: a sign on nothing would reach outputs as ``-0.00``. The caller
    strips the blanks its format allows around a value.

    >>> parse_amount("1234.50"), parse_amount("+.5")
    (Decimal('1234.50'), Decimal('0.5'))
    >>> parse_amount("1" * 19)
    Traceback (most recent call last):
    ...
    gateway.money.AmountError: '1111111111111111111' has 19 digits before the point; an amount has at most 18
    """
    if syntax.match(text) is None:
        raise AmountError(text, _refusal(text, syntax))
    amount = Decimal(text)  # exact whatever the context: construction from text never rounds
    if amount or text[0] != "-":
        return amount
    return amount.copy_abs()


_NOT_A_NUMBER = re.compile(r"[+-]?(?:s?nan[0-9]*|inf|infinity)", re.IGNORECASE)
_EXPONENT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+")
_SEPARATORS = re.compile(r"[0-9][ \u00a0\u202f',_][0-9]|,")
_PARTS = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?")
_EXAMPLE = "for example 1234.50"


def _refusal(text: str, syntax: AmountSyntax) -> str:
    """Why ``text`` is not an amount in ``syntax``, in words that follow the quoted value."""
    if not text.strip():
        return "is empty: an amount needs digits"
    if _NOT_A_NUMBER.fullmatch(text.strip()):
        return "is not a number, so it cannot be an amount"
    if _EXPONENT.fullmatch(text.strip()):
        return "is written with an exponent; write the amount in full, for example 1000.00"
    if _SEPARATORS.search(text) or text != text.strip():
        return (
            "is not an amount: write it with a point as the decimal separator and no thousands separator "
            "or blank, " + _EXAMPLE
        )
    if text.count(".") > 1:
        return f"has more than one point; an amount has one point before its decimals, {_EXAMPLE}"
    parts = _PARTS.fullmatch(text)
    if parts is None or not (parts[2] or parts[3]):
        return f"is not an amount: write digits, with a point before the decimals, {_EXAMPLE}"
    sign, integer, fraction = parts.groups()
    most = syntax.max_integer_digits
    if len(integer) > most:
        return f"has {len(integer)} digits before the point; an amount has at most {most}"
    if fraction and len(fraction) > syntax.max_decimals:
        return (
            f"has {len(fraction)} decimals; an amount has at most {syntax.max_decimals} "
            "(the gateway never rounds an amount)"
        )
    if sign == "+" and not syntax.plus_sign:
        return "starts with '+'; write a positive amount without a sign"
    return "needs digits on both sides of the point, for example 0.50 or 12.00"


# --------------------------------------------------------------------------- rates

DayCount = Literal["ACT/360", "ACT/365"]
#: Days in the year of each day-count convention: interest for d days is rate × d / basis.
DAY_COUNT_BASIS: Final[dict[str, int]] = {"ACT/360": 360, "ACT/365": 365}
#: A rate is a fraction from -1 (-100 %) to 10 (1,000 %), with at most 10 decimals (1E-8 %).
MIN_RATE: Final = Decimal(-1)
MAX_RATE: Final = Decimal(10)
MAX_RATE_DECIMALS: Final = 10
#: Days a period rate may cover: a hundred years stops a date typed as a number of days.
MAX_DAYS: Final = 36_600


@dataclass(frozen=True, slots=True)
class Rate:
    """A share of an amount (advance 90 %, fee 0.35 %, financing 4 % a year), kept exact.

    ``fraction`` is the rate itself (``0.04`` for 4 %). A yearly rate taken over a
    number of days (:meth:`for_days`) keeps ``days`` and ``day_count`` beside it,
    so that :meth:`of` divides by the day-count basis last: the product of an
    amount under 10^15, a rate and the days is exact in 38 digits, and the one
    inexact step is that division. A quotient by 360 or 365 repeats with a period
    of at most 8 digits, so its 38 digits never sit just beside a half cent without
    being on it: rounding them to cents the way the caller asks gives the cents of
    the exact value.

    >>> from decimal import ROUND_HALF_UP
    >>> Rate.from_percent("4").for_days(31, "ACT/360").of(Decimal("10000.00"), rounding=ROUND_HALF_UP)
    Decimal('34.44')
    >>> str(Rate.from_fraction("0.0035")), str(Rate.from_percent(4).for_days(31, "ACT/365"))
    ('0.35 %', '4 % × 31/365')
    """

    fraction: Decimal
    days: int | None = None
    day_count: DayCount | None = None

    def __post_init__(self) -> None:
        value = self.fraction
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"a rate must be a finite Decimal, not {value!r}")
        if not MIN_RATE <= value <= MAX_RATE:
            raise ValueError(f"a rate of {_percent_text(value)} % is outside -100 % to 1,000 %")
        exponent = value.normalize(_WORKING).as_tuple().exponent
        if isinstance(exponent, int) and exponent < -MAX_RATE_DECIMALS:
            raise ValueError(f"the rate {value} has more than {MAX_RATE_DECIMALS} decimals")
        if (self.days is None) != (self.day_count is None):
            raise ValueError("a rate for a number of days needs both the days and the day count")
        if self.days is not None:
            if type(self.days) is not int or not 0 <= self.days <= MAX_DAYS:
                raise ValueError(f"a rate covers 0 to {MAX_DAYS:,} days, not {self.days!r}")
            if self.day_count not in DAY_COUNT_BASIS:
                raise ValueError(f"unknown day count {self.day_count!r}; use ACT/360 or ACT/365")

    @classmethod
    def from_fraction(cls, value: Decimal | int | str) -> Rate:
        """``Rate.from_fraction("0.04")`` is 4 %."""
        return cls(_exact(value))

    @classmethod
    def from_percent(cls, value: Decimal | int | str) -> Rate:
        """``Rate.from_percent("4")`` is 4 %: the point moves, nothing is divided or rounded."""
        return cls(_exact(value).scaleb(-2, _WORKING))

    @property
    def percent(self) -> Decimal:
        """The rate as a percentage: ``4`` for ``0.04``."""
        return self.fraction.scaleb(2, _WORKING)

    def for_days(self, days: int, day_count: DayCount) -> Rate:
        """This yearly rate over ``days`` days, the year counted as ``day_count`` says."""
        if self.days is not None:
            raise ValueError(f"{self} already covers a number of days")
        return Rate(self.fraction, days, day_count)

    def of(self, amount: Decimal, *, rounding: Rounding, places: int | Decimal = 2) -> Decimal:
        """This rate of ``amount``, rounded to ``places`` decimals the way ``rounding`` says."""
        share = _WORKING.multiply(amount, self.fraction)
        if self.days is not None and self.day_count is not None:
            share = _WORKING.divide(_WORKING.multiply(share, self.days), DAY_COUNT_BASIS[self.day_count])
        return quantize(share, places, rounding=rounding)

    def __str__(self) -> str:
        text = f"{_percent_text(self.fraction)} %"
        if self.days is not None and self.day_count is not None:
            text += f" × {self.days}/{DAY_COUNT_BASIS[self.day_count]}"
        return text


def _percent_text(fraction: Decimal) -> str:
    return f"{fraction.scaleb(2, _WORKING).normalize(_WORKING):f}"


def _exact(value: Decimal | int | str) -> Decimal:
    """A rate's value from configuration or code; a float is refused, it is never exact."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(f"a rate is given as a Decimal, an int or a string, not {type(value).__name__}")
    if isinstance(value, str):
        try:
            return _WORKING.create_decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{shown_value(value)} is not a number") from None
    return Decimal(value)
