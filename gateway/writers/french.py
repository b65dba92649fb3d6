"""French words and number forms for the files people read: XLSX, French CSV and the PDF bordereau.

The machine CSV and JSON keep their English words and canonical forms (``credit_note``,
``-1200.00``, ``2025-03-10``); the formats opened by French accountants say ``Avoir``,
``-1200,00`` and ``10/03/2025``. The per-debtor totals shown by those formats are computed here
from the verified lines (:func:`gateway.writers.remittance.verify`).

>>> decimal_comma("-1200.00")
'-1200,00'
>>> grouped_amount(Decimal("-1234567.50"))
'-1\\xa0234\\xa0567,50'
>>> french_date(date(2025, 3, 10))
'10/03/2025'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gateway.errors import DeliveryError
from gateway.model import CurrencyTotals, Severity, Verdict
from gateway.writers.csv_cells import amount_cell
from gateway.writers.remittance import Columns

DOCUMENT_TYPES = {"invoice": "Facture", "credit_note": "Avoir"}
VERDICTS = {Verdict.ACCEPTED: "accepté", Verdict.REJECTED: "refusé"}
SEVERITIES = {Severity.FATAL: "bloquant", Severity.WARNING: "avertissement"}
#: Thousands separator of printed amounts: a no-break space, so an amount never splits over two lines.
THOUSANDS = "\u00a0"

#: The remittance totals, in the order and with the labels every people's format uses.
TOTALS_LABELS = (
    "Devise",
    "Nb factures",
    "Total factures",
    "Nb avoirs",
    "Total avoirs",
    "Nb lignes",
    "Total net",
    "Garanti",
    "Non garanti",
)


def totals_row(
    totals: CurrencyTotals,
) -> tuple[str, int, Decimal, int, Decimal, int, Decimal, Decimal, Decimal]:
    """One currency's totals in the order of :data:`TOTALS_LABELS`."""
    return (
        totals.currency,
        totals.invoice_count,
        totals.invoice_total,
        totals.credit_note_count,
        totals.credit_note_total,
        totals.invoice_count + totals.credit_note_count,
        totals.net_total,
        totals.guaranteed_total,
        totals.non_guaranteed_total,
    )


def decimal_comma(cell: str) -> str:
    """A canonical amount cell (``-1200.00``) with a decimal comma, as a French spreadsheet reads it."""
    return cell.replace(".", ",")


def grouped_amount(amount: Decimal) -> str:
    """An amount as printed for people: ``-1 234 567,50`` (no-break spaces), never rounded."""
    cell = amount_cell(amount)
    units, _, cents = cell.lstrip("-").partition(".")
    sign = "-" if cell.startswith("-") else ""
    return f"{sign}{int(units):,}".replace(",", THOUSANDS) + "," + cents


def grouped_count(count: int) -> str:
    """A count as printed for people: ``12 857`` (no-break space)."""
    return f"{count:,}".replace(",", THOUSANDS)


def french_date(day: date | None) -> str:
    """``DD/MM/YYYY``; empty for a missing date."""
    return "" if day is None else f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def french_dates(days: Sequence[date | None]) -> list[str]:
    """:func:`french_date` over a column; a remittance has few distinct dates, each formatted once."""
    texts = {day: french_date(day) for day in set(days)}
    return list(map(texts.__getitem__, days))


@dataclass(frozen=True, slots=True)
class DebtorTotals:
    """What one debtor owes in one currency under the remittance."""

    debtor_id: str
    debtor_name: str | None
    currency: str
    line_count: int
    amount: Decimal
    guaranteed: Decimal
    non_guaranteed: Decimal


def debtor_totals(columns: Columns, totals: Sequence[CurrencyTotals]) -> list[DebtorTotals]:
    """Per debtor and currency, sorted by debtor id then currency; the first name a debtor's lines
    give is its name. Their sums must give the remittance's ``totals`` again (a cross-check: the
    lines were verified against those totals)."""
    groups: dict[tuple[str, str], list[int]] = {}
    for at, key in enumerate(zip(columns.debtor_id, columns.currency, strict=True)):
        groups.setdefault(key, []).append(at)
    names, zero = columns.debtor_name, Decimal(0)
    result = []
    for (debtor_id, currency), lines in sorted(groups.items()):
        name = next((names[at] for at in lines if names[at]), None)
        result.append(
            DebtorTotals(
                debtor_id,
                name,
                currency,
                len(lines),
                sum([columns.amount[at] for at in lines], zero),
                sum([columns.guaranteed[at] for at in lines], zero),
                sum([columns.non_guaranteed[at] for at in lines], zero),
            )
        )
    _check_against(result, totals)
    return result


def _check_against(debtors: Sequence[DebtorTotals], totals: Sequence[CurrencyTotals]) -> None:
    for currency_totals in totals:
        mine = [d for d in debtors if d.currency == currency_totals.currency]
        summed = (
            sum((d.amount for d in mine), Decimal(0)),
            sum((d.guaranteed for d in mine), Decimal(0)),
            sum((d.non_guaranteed for d in mine), Decimal(0)),
        )
        expected = (
            currency_totals.net_total,
            currency_totals.guaranteed_total,
            currency_totals.non_guaranteed_total,
        )
        if summed != expected:
            raise DeliveryError(
                f"{currency_totals.currency}: per-debtor totals {summed} do not add up to {expected}"
            )
