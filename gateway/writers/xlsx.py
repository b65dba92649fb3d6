"""Shared parts of the XLSX writers: a reproducible workbook, its cell styles, typed columns.

Built on XlsxWriter, which only writes (no reading, no formulas evaluated) and can build the
whole file in memory:

* **typed cells**: amounts are numbers shown ``#,##0.00`` (Excel's own thousands and decimal
  separators, so a French Excel shows ``-1 200,00`` and sums them), dates are date cells shown
  ``DD/MM/YYYY``, counts are numbers. Amounts go through :func:`amount_cells` first, so an amount
  that is not a whole number of cents is refused, never rounded;
* **text stays text**: free text is written with ``write_string`` (never ``write``, which turns
  ``=...`` into a formula), the workbook is opened with ``strings_to_formulas``,
  ``strings_to_urls`` and ``strings_to_numbers`` off, and text cells carry Excel's quote prefix,
  so a debtor called ``=HYPERLINK(...)`` stays inert even when someone edits the cell;
* **same input, same bytes**: the workbook is built in memory (``in_memory``: every zip entry is
  dated 1980-01-01, no temporary file whose permissions or dates could leak in) and its document
  properties are dated with the business date, not the clock.

A 100,000-line remittance costs about as many seconds as XlsxWriter needs for its 1.3 million
cells (linear; see ``schemas/README.md``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]

from gateway.writers.csv_cells import amount_cells

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "dd/mm/yyyy"
#: Room (in character widths) the labels of a heading block need left of their values.
LABEL_WIDTH = 20
#: Day 0 of Excel's 1900 date system as a ``date`` (day 60, the fictitious 29/02/1900, lies before
#: any business date).
_EXCEL_EPOCH = date(1899, 12, 30)
_OPTIONS = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


class Kind(Enum):
    """How a column's values are written."""

    TEXT = "text"  # free text: a string cell with a quote prefix
    WORD = "word"  # a fixed word of ours (Facture, accepté): a plain string cell
    MONEY = "money"  # Decimal -> number, #,##0.00
    DATE = "date"  # date -> date cell, DD/MM/YYYY
    INTEGER = "integer"  # int -> number


@dataclass(frozen=True, slots=True)
class Column:
    label: str
    kind: Kind
    width: float


class Book:
    """One workbook being written; :meth:`close` returns its bytes."""

    def __init__(self, title: str, business_date: date) -> None:
        self._buffer = io.BytesIO()
        self.workbook = xlsxwriter.Workbook(self._buffer, _OPTIONS)
        created = datetime.combine(business_date, time(), UTC)
        self.workbook.set_properties({"title": title, "author": "factoring-gateway", "created": created})
        add = self.workbook.add_format
        self.formats: dict[Kind, Any] = {
            Kind.TEXT: add({"quote_prefix": True}),
            Kind.WORD: None,
            Kind.MONEY: add({"num_format": MONEY_FORMAT}),
            Kind.DATE: add({"num_format": DATE_FORMAT, "align": "left"}),
            Kind.INTEGER: None,
        }
        self.title_format = add({"bold": True, "font_size": 14})
        self.label_format = add({"bold": True})
        self.header_format = add({"bold": True, "bottom": 1, "bg_color": "#DDEBF7", "text_wrap": True})

    def sheet(self, name: str) -> Any:
        worksheet = self.workbook.add_worksheet(name)
        worksheet.set_paper(9)  # A4
        worksheet.set_landscape()
        worksheet.fit_to_pages(1, 0)  # as wide as one page, as many pages as needed
        return worksheet

    def heading(
        self, worksheet: Any, title: str, items: Sequence[tuple[str, object]], columns: Sequence[Column]
    ) -> int:
        """A title in A1, then one ``label | value`` row per item (typed by the value's type), the
        value in the first column far enough right for the label to show in full over the
        ``columns`` of the table below; returns the first row after it and a blank row."""
        worksheet.write_string(0, 0, title, self.title_format)
        value_col, room = 0, 0.0
        while room < LABEL_WIDTH and value_col < len(columns) - 1:
            room += columns[value_col].width
            value_col += 1
        for row, (label, value) in enumerate(items, start=1):
            worksheet.write_string(row, 0, label, self.label_format)
            if value is not None and value != "":
                self.column(worksheet, row, value_col, _kind_of(value), [value])
        return len(items) + 2

    def table(
        self, worksheet: Any, row: int, columns: Sequence[Column], values: Sequence[Sequence[Any]]
    ) -> int:
        """A header row at ``row`` then the values, column by column; the header stays in view and
        is printed on every page, and it carries an autofilter. Returns the first row after it."""
        for col, column in enumerate(columns):
            worksheet.set_column(col, col, column.width)
            worksheet.write_string(row, col, column.label, self.header_format)
        count = len(values[0]) if values else 0
        for col, (column, cells) in enumerate(zip(columns, values, strict=True)):
            self.column(worksheet, row + 1, col, column.kind, cells)
        worksheet.freeze_panes(row + 1, 0)
        worksheet.repeat_rows(row)
        worksheet.autofilter(row, 0, row + max(count, 1), len(columns) - 1)
        return row + 1 + count

    def column(self, worksheet: Any, first_row: int, col: int, kind: Kind, values: Sequence[Any]) -> None:
        """Write ``values`` down one column from ``first_row``; ``None`` (and empty text) stays blank."""
        cell_format = self.formats[kind]
        if kind is Kind.MONEY:
            write = worksheet.write_number
            cells: Sequence[Any] = [float(cell) if cell else None for cell in amount_cells(values)]
        elif kind is Kind.DATE:
            write = worksheet.write_number
            serials = {day: (day - _EXCEL_EPOCH).days for day in set(values) if day is not None}
            cells = [serials.get(day) for day in values]
        elif kind is Kind.INTEGER:
            write = worksheet.write_number
            cells = values
        else:
            write = worksheet.write_string
            cells = values
        for row, cell in enumerate(cells, start=first_row):
            if cell is not None and cell != "":
                write(row, col, cell, cell_format)

    def close(self) -> bytes:
        self.workbook.close()
        return self._buffer.getvalue()


def _kind_of(value: object) -> Kind:
    if isinstance(value, Decimal):
        return Kind.MONEY
    if isinstance(value, date):
        return Kind.DATE
    if isinstance(value, int):
        return Kind.INTEGER
    return Kind.TEXT
