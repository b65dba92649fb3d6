"""The remittance (bordereau de cession) for the factor's back office, as CSV or JSON.

The back office loads this file without a person looking at it, so the writer
fails closed (factoring brief, takeaway 8): the per-currency control sums it
writes are recomputed from the lines first, every line must split into
guaranteed + non-guaranteed and carry the sign of its document type, and any
disagreement raises :class:`DeliveryError` instead of emitting a file. The
layout is documented column by column in ``schemas/README.md``.

A remittance can hold 100,000 lines, so the lines are read column by column
(:class:`Columns`): checks and formatting then run as a few C-level passes
per column instead of a dozen Python calls per line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import compress
from operator import add, attrgetter, ne, not_
from typing import Any

from gateway.errors import DeliveryError
from gateway.model import CREDIT_NOTE_TYPE_CODES, CurrencyTotals, Remittance
from gateway.writers.csv_cells import (
    amount_cell,
    amount_cells,
    check_format,
    csv_bytes,
    csv_row,
    date_cells,
    integer_cells,
    iso_dates,
    json_bytes,
    numbered_name,
    text_cell,
    text_cells,
)

FORMATS = ("csv", "json")
FORMAT_ID = "factoring-gateway/remittance"
VERSION = 1

#: Column names of the first CSV line; they name the fields of ``D`` rows.
DETAIL_COLUMNS = (
    "record",
    "line_no",
    "document_type",
    "type_code",
    "number",
    "issue_date",
    "due_date",
    "debtor_id",
    "debtor_name",
    "currency",
    "amount",
    "guaranteed",
    "non_guaranteed",
    "preceding_invoice",
)
_WIDTH = len(DETAIL_COLUMNS)
_INVOICE = "invoice"
_CREDIT_NOTE = "credit_note"
_ZERO = Decimal(0)


def file_name(remittance: Remittance, fmt: str) -> str:
    """``REM_<client_id>_<number:06d>.<fmt>``, e.g. ``REM_ACME_000042.csv``."""
    check_format(fmt, FORMATS)
    return f"{stem(remittance)}.{fmt}"


def stem(remittance: Remittance) -> str:
    """The file name without its extension, shared by every format: ``REM_ACME_000042``."""
    return numbered_name("REM", remittance.client_id, "remittance number", remittance.number, 6)


def write(remittance: Remittance, fmt: str) -> bytes:
    """The remittance as ``fmt`` bytes; same remittance in, same bytes out."""
    return write_formats(remittance, (fmt,))[fmt]


def write_formats(remittance: Remittance, formats: Sequence[str]) -> dict[str, bytes]:
    """The remittance in each of ``formats``: the lines are turned into columns and the control
    sums checked once, however many formats are written (100,000 lines cost a second each time)."""
    for fmt in formats:
        check_format(fmt, FORMATS)
    return write_verified(remittance, verify(remittance), formats)


def write_verified(remittance: Remittance, columns: Columns, formats: Sequence[str]) -> dict[str, bytes]:
    """:func:`write_formats` for a caller that holds the remittance's :func:`verify` columns."""
    for fmt in formats:
        check_format(fmt, FORMATS)
    return {fmt: _csv(remittance, columns) if fmt == "csv" else _json(remittance, columns) for fmt in formats}


def document_type(type_code: str) -> str:
    """``credit_note`` for the UNTDID 1001 credit-note codes, ``invoice`` otherwise."""
    return _CREDIT_NOTE if type_code in CREDIT_NOTE_TYPE_CODES else _INVOICE


@dataclass(frozen=True, slots=True)
class Columns:
    """The remittance lines turned sideways: one list per field, in line order."""

    line_no: list[int]
    type_code: list[str]
    is_credit_note: list[bool]
    number: list[str]
    issue_date: list[date]
    due_date: list[date | None]
    debtor_id: list[str]
    debtor_name: list[str | None]
    currency: list[str]
    amount: list[Decimal]
    guaranteed: list[Decimal]
    non_guaranteed: list[Decimal]
    preceding_invoice: list[str | None]

    @classmethod
    def of(cls, remittance: Remittance) -> Columns:
        lines = remittance.lines

        def column(name: str) -> list[Any]:
            return list(map(attrgetter(name), lines))

        type_code = column("type_code")
        credit_codes = CREDIT_NOTE_TYPE_CODES
        return cls(
            line_no=column("line_no"),
            type_code=type_code,
            is_credit_note=[code in credit_codes for code in type_code],
            number=column("number"),
            issue_date=column("issue_date"),
            due_date=column("due_date"),
            debtor_id=column("debtor_id"),
            debtor_name=column("debtor_name"),
            currency=column("currency"),
            amount=column("amount"),
            guaranteed=column("guaranteed"),
            non_guaranteed=column("non_guaranteed"),
            preceding_invoice=column("preceding_invoice"),
        )

    def document_types(self) -> list[str]:
        return [_CREDIT_NOTE if credit else _INVOICE for credit in self.is_credit_note]

    def line_problems(self) -> list[str]:
        """Lines whose split does not add up, or whose sign contradicts their type."""
        splits = map(add, self.guaranteed, self.non_guaranteed)
        unsplit = any(map(ne, splits, self.amount))
        credits = list(compress(self.amount, self.is_credit_note))
        invoices = list(compress(self.amount, map(not_, self.is_credit_note)))
        wrong_sign = (credits and max(credits) > 0) or (invoices and min(invoices) < 0)
        if not (unsplit or wrong_sign):
            return []
        problems = []  # the slow, per-line pass runs only to explain a failure
        for at, amount in enumerate(self.amount):
            label = f"line {self.line_no[at]} ({self.number[at]})"
            guaranteed, non_guaranteed = self.guaranteed[at], self.non_guaranteed[at]
            if guaranteed + non_guaranteed != amount:
                problems.append(
                    f"{label}: guaranteed {guaranteed} + non-guaranteed {non_guaranteed} != amount {amount}"
                )
            if self.is_credit_note[at] and amount > 0:
                problems.append(f"{label}: credit note with a positive amount {amount}")
            if not self.is_credit_note[at] and amount < 0:
                problems.append(f"{label}: invoice with a negative amount {amount}")
        return problems

    def totals(self) -> dict[str, CurrencyTotals]:
        """The control sums recomputed from the lines, per currency."""
        found: dict[str, CurrencyTotals] = {}
        currencies = set(self.currency)
        for currency in currencies:
            amount, credit = self.amount, self.is_credit_note
            guaranteed, non_guaranteed = self.guaranteed, self.non_guaranteed
            if len(currencies) > 1:
                selected = [code == currency for code in self.currency]
                amount, credit = list(compress(amount, selected)), list(compress(credit, selected))
                guaranteed = list(compress(guaranteed, selected))
                non_guaranteed = list(compress(non_guaranteed, selected))
            credits = list(compress(amount, credit))
            invoices = list(compress(amount, map(not_, credit)))
            found[currency] = CurrencyTotals(
                currency=currency,
                invoice_count=len(invoices),
                invoice_total=sum(invoices, _ZERO),
                credit_note_count=len(credits),
                credit_note_total=sum(credits, _ZERO),
                net_total=sum(amount, _ZERO),
                guaranteed_total=sum(guaranteed, _ZERO),
                non_guaranteed_total=sum(non_guaranteed, _ZERO),
            )
        return found


_TOTALS_FIELDS = (
    "invoice_count",
    "invoice_total",
    "credit_note_count",
    "credit_note_total",
    "net_total",
    "guaranteed_total",
    "non_guaranteed_total",
)


def verify(remittance: Remittance) -> Columns:
    """The remittance's lines as columns, once checked: every line splits into guaranteed +
    non-guaranteed and carries the sign of its type, and the totals records equal the sums of the
    lines, per currency. Otherwise :class:`DeliveryError` and nothing is written.

    Every remittance writer (CSV, JSON, XLSX, French CSV, PDF) prints totals only after this check,
    so the figures a person reads are the ones the back office loads; a caller writing several
    formats verifies once and hands the columns to each writer.
    """
    columns = Columns.of(remittance)
    _verify(remittance, columns)
    return columns


def _verify(remittance: Remittance, columns: Columns) -> None:
    problems = columns.line_problems()
    recomputed = columns.totals()
    given: dict[str, CurrencyTotals] = {}
    for totals in remittance.totals:
        if totals.currency in given:
            problems.append(f"{totals.currency}: two totals records")
        given[totals.currency] = totals
    problems.extend(f"{c}: lines without a totals record" for c in sorted(recomputed.keys() - given.keys()))
    problems.extend(f"{c}: a totals record without lines" for c in sorted(given.keys() - recomputed.keys()))
    for currency, totals in given.items():
        expected = recomputed.get(currency)
        if expected is not None and expected != totals:
            for name in _TOTALS_FIELDS:
                said, summed = getattr(totals, name), getattr(expected, name)
                if said != summed:
                    problems.append(f"{currency} {name}: totals say {said}, lines sum to {summed}")
    if problems:
        raise DeliveryError(
            f"remittance {remittance.number} of {remittance.client_id} is inconsistent, not written: "
            + "; ".join(problems)
        )


def _pad(cells: tuple[object, ...]) -> tuple[object, ...]:
    """Records other than ``D`` reuse the columns by position; every row has the same width."""
    return cells + ("",) * (_WIDTH - len(cells))


def _csv(remittance: Remittance, columns: Columns) -> bytes:
    head = (
        "H",
        FORMAT_ID,
        VERSION,
        text_cell(remittance.client_id),
        remittance.number,
        remittance.business_date.isoformat(),
        text_cell(remittance.source_name),
        remittance.envelope_id,
        len(remittance.lines),
        len(remittance.totals),
    )
    details = (
        integer_cells(columns.line_no),
        columns.document_types(),
        text_cells(columns.type_code),
        text_cells(columns.number),
        date_cells(columns.issue_date),
        date_cells(columns.due_date),
        text_cells(columns.debtor_id),
        text_cells(columns.debtor_name),
        text_cells(columns.currency),
        amount_cells(columns.amount),
        amount_cells(columns.guaranteed),
        amount_cells(columns.non_guaranteed),
        text_cells(columns.preceding_invoice),
    )
    trailer = [csv_row(_pad(("T", text_cell(t.currency), *_totals_cells(t)))) for t in remittance.totals]
    return csv_bytes([csv_row(DETAIL_COLUMNS), csv_row(_pad(head))], "D", details, trailer)


def _totals_cells(totals: CurrencyTotals) -> tuple[object, ...]:
    return (
        totals.invoice_count,
        amount_cell(totals.invoice_total),
        totals.credit_note_count,
        amount_cell(totals.credit_note_total),
        totals.invoice_count + totals.credit_note_count,
        amount_cell(totals.net_total),
        amount_cell(totals.guaranteed_total),
        amount_cell(totals.non_guaranteed_total),
    )


def _json(remittance: Remittance, columns: Columns) -> bytes:
    """One ``json.dumps`` of the whole remittance; each line a dict built from the ready columns
    (amounts already canonical strings), which costs far less than a dict per line built field by
    field from the line objects."""
    lines = [
        {
            "line_no": line_no,
            "document_type": document_type,
            "type_code": type_code,
            "number": number,
            "issue_date": issue_date,
            "due_date": due_date,
            "debtor_id": debtor_id,
            "debtor_name": debtor_name,
            "currency": currency,
            "amount": amount,
            "guaranteed": guaranteed,
            "non_guaranteed": non_guaranteed,
            "preceding_invoice": preceding_invoice,
        }
        for (
            line_no,
            document_type,
            type_code,
            number,
            issue_date,
            due_date,
            debtor_id,
            debtor_name,
            currency,
            amount,
            guaranteed,
            non_guaranteed,
            preceding_invoice,
        ) in zip(
            columns.line_no,
            columns.document_types(),
            columns.type_code,
            columns.number,
            date_cells(columns.issue_date),
            iso_dates(columns.due_date),
            columns.debtor_id,
            columns.debtor_name,
            columns.currency,
            amount_cells(columns.amount),
            amount_cells(columns.guaranteed),
            amount_cells(columns.non_guaranteed),
            columns.preceding_invoice,
            strict=True,
        )
    ]
    totals = [
        {
            "currency": t.currency,
            "invoice_count": t.invoice_count,
            "invoice_total": amount_cell(t.invoice_total),
            "credit_note_count": t.credit_note_count,
            "credit_note_total": amount_cell(t.credit_note_total),
            "line_count": t.invoice_count + t.credit_note_count,
            "net_total": amount_cell(t.net_total),
            "guaranteed_total": amount_cell(t.guaranteed_total),
            "non_guaranteed_total": amount_cell(t.non_guaranteed_total),
        }
        for t in remittance.totals
    ]
    return json_bytes(
        {
            "format": FORMAT_ID,
            "version": VERSION,
            "client_id": remittance.client_id,
            "number": remittance.number,
            "business_date": remittance.business_date.isoformat(),
            "source_name": remittance.source_name,
            "envelope_id": remittance.envelope_id,
            "line_count": len(remittance.lines),
            "lines": lines,
            "totals": totals,
        }
    )
