"""How the csv-batch layout reads an amount, and what it says about one it cannot read.

Kept apart from the row mapping so that the rule for amounts (its syntax, its
scale, its messages) is in one place. The reading itself is
:func:`gateway.money.parse_amount`, as in every format, with the layout's
stricter syntax; the reasons in the messages come from there too, so a ``NaN``,
an exponent or a 30-digit number is refused in the same words everywhere. The
functions keep the names they had in :mod:`gateway.parsers.csv_batch`, where
they were written.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from gateway.model import CENT, Issue
from gateway.money import AmountError, AmountSyntax, parse_amount, quantize
from gateway.parsers.csv_batch_layout import COLUMN_LABELS

#: What the layout calls an amount: ASCII digits, an optional minus, at most 15 digits before
#: the point (far above any invoice) and 1 or 2 after it. Stricter than xsd:decimal: no '+',
#: no '.5' nor '5.'.
AMOUNT_SYNTAX = AmountSyntax(max_integer_digits=15, max_decimals=2, plus_sign=False, bare_point=False)


def _read_amount(text: str) -> Decimal | None:
    """The amount at the cents scale (``12.5`` reads as ``12.50``, ``-0.00`` as ``0.00``), or None
    when it is not one the layout allows (see :func:`_amount_problem`).

    Not cached: amounts are nearly all distinct, so a cache would only add cost.
    """
    try:
        amount = parse_amount(text, AMOUNT_SYNTAX)
    except AmountError:
        return None
    if text[-3:-2] == ".":
        return amount
    # At most two decimals (the syntax says so), so this only sets the scale and never rounds.
    return quantize(amount, CENT, rounding=ROUND_HALF_EVEN)


def _amount_problem(line_no: int, column: str, text: str) -> Issue:
    """``Line 4: the total VAT '1 200,00' is not an amount: …``, for a text :func:`_read_amount` refused."""
    try:
        parse_amount(text, AMOUNT_SYNTAX)
    except AmountError as error:
        return Issue(
            "GW-CSV-VALUE",
            f"Line {line_no}: the {COLUMN_LABELS[column]} {error}.",
            location=f"line {line_no}",
        )
    raise ValueError(f"{text!r} is an amount of the layout: there is no problem to report")
