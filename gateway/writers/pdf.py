"""Shared parts of the PDF writers: an A4 landscape page frame, printable text, long tables.

fpdf2 draws the pages with the PDF core font Helvetica: fpdf2 ships no Unicode TTF font and the
gateway does not depend on the host's fonts. Text is encoded windows-1252, which holds French
(é, °, œ, €, « », —); :func:`printable` makes any other text safe to print (never an error).

A table is drawn cell by cell with ``text()`` (a tenth of the cost of ``cell()``, which matters
at 100,000 lines), its header row repeated at the top of every page it runs onto; every page after
the first carries a running title, every page ``page N / M``. Same content in, same bytes out: the
caller dates the document (:meth:`Document.dated`), fpdf2 derives the file id from the content.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from fpdf import FPDF

ENCODING = "windows-1252"
FONT = "Helvetica"
ROW_HEIGHT = 4.6  # mm, at 8 pt
#: Width of the widest Helvetica glyph at 8 pt (``@``, ``—``, ``…``: about 1,000/1,000 em), in mm:
#: a text of at most ``width / WIDEST`` characters fits its column without measuring it.
WIDEST = 2.9
_FALLBACK = "?"
#: The total-pages alias: no printed text can hold it (printable() blanks control characters), and
#: its 5 characters reserve room for 5 digits.
PAGES_ALIAS = "\x01nb\x01\x01"
_DIGITS_AS_ZERO = str.maketrans("123456789", "000000000")
#: Letters outside windows-1252 that no Unicode decomposition turns into a Latin letter.
_LOOKALIKES = str.maketrans("ŁłĐđıĦħŦŧĿŀ", "LlDdiHhTtLl")


@dataclass(frozen=True, slots=True)
class Column:
    label: str
    width: float  # mm; the widths of a table add up to the 277 mm between the margins
    right: bool = False  # right-aligned (amounts, counts)


def printable(text: str | None) -> str:
    """``text`` as the core fonts can print it: control characters become blanks, a character
    outside windows-1252 loses its accent (``ł`` → ``l``) or becomes ``?``.

    >>> printable("Société Œuvre n° 5 — 12 €")
    'Société Œuvre n° 5 — 12 €'
    >>> printable("Łódź\\t日本")
    'Lódz ??'
    """
    if not text:
        return ""
    if text.isascii() and text.isprintable():
        return text
    out = []
    for char in text:
        if not char.isprintable():
            out.append(" ")
            continue
        try:
            char.encode(ENCODING)
            out.append(char)
        except UnicodeEncodeError:
            base = "".join(
                c
                for c in unicodedata.normalize("NFKD", char.translate(_LOOKALIKES))
                if not unicodedata.combining(c)
            )
            out.append(base if base and _encodable(base) else _FALLBACK)
    return "".join(out)


def _encodable(text: str) -> bool:
    try:
        text.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return True


class Document(FPDF):
    """The page frame: a running title on every page after the first, ``page N / M`` at the foot."""

    def __init__(self, running_title: str) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.core_fonts_encoding = ENCODING
        self.alias_nb_pages(PAGES_ALIAS, align="L")
        self.running_title = running_title
        self.set_margins(10, 10, 10)
        self.set_auto_page_break(False, margin=14)
        # Widths of the body font (measuring is the dearest call): Helvetica's digits all have the
        # same width, so amounts and dates are cached by their shape (every digit as 0).
        self._widths: dict[str, float] = {}
        self._cuts: dict[tuple[str, float], str] = {}

    def dated(self, day: date) -> None:
        """Date the document (its creation date, midnight UTC) instead of the clock."""
        self.set_creation_date(datetime.combine(day, time(), UTC))

    def header(self) -> None:
        if self.page_no() > 1:
            self.set_font(FONT, "I", 7)
            self.cell(0, 4, self.running_title)
            self.set_y(self.t_margin + 6)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT, "", 7)
        self.cell(0, 4, f"page {self.page_no()} / {PAGES_ALIAS}", align="R")

    def titled_table(self, title: str, columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> None:
        """A titled table whose header row is repeated at the top of every page it runs onto."""
        self._need(3 * ROW_HEIGHT + 8)
        self.set_font(FONT, "B", 10)
        self.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
        self._header_row(columns)
        self.set_font(FONT, "", 8)
        fits = [int(column.width / WIDEST) for column in columns]  # characters that always fit
        for row in rows:
            if self.get_y() + ROW_HEIGHT > self.page_break_trigger:
                self.add_page()
                self._header_row(columns)
                self.set_font(FONT, "", 8)
            baseline = self.get_y() + ROW_HEIGHT - 1.3
            x = self.l_margin
            for column, text, fit in zip(columns, row, fits, strict=True):
                if text:
                    if len(text) > fit:
                        text = self._cut(text, column.width - 3)
                    if column.right:
                        self.text(x + column.width - 2 - self._width(text), baseline, text)
                    else:
                        self.text(x + 1, baseline, text)
                x += column.width
            self.set_y(self.get_y() + ROW_HEIGHT)
        self.ln(4)

    def _header_row(self, columns: Sequence[Column]) -> None:
        self.set_font(FONT, "B", 8)
        self.set_fill_color(221, 235, 247)
        for column in columns:
            label = column.label + " " if column.right else column.label
            self.cell(column.width, ROW_HEIGHT + 0.8, label, align="R" if column.right else "L", fill=True)
        self.ln(ROW_HEIGHT + 0.8)

    def _width(self, text: str) -> float:
        """The width of ``text`` in the table body's font."""
        shape = text.translate(_DIGITS_AS_ZERO)
        width = self._widths.get(shape)
        if width is None:
            width = self._widths[shape] = self.get_string_width(shape)
        return width

    def _cut(self, text: str, width: float) -> str:
        """``text``, shortened with ``…`` when wider than ``width`` (each distinct text cut once)."""
        cut = self._cuts.get((text, width))
        if cut is None:
            cut = text
            if self.get_string_width(cut) > width:
                while cut and self.get_string_width(cut + "…") > width:
                    cut = cut[:-1]
                cut += "…"
            self._cuts[text, width] = cut
        return cut

    def _need(self, height: float) -> None:
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()
