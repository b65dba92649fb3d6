"""Cells, rows and names for the CSV and JSON files the gateway writes.

The remittance is loaded by the factor's back office and the acknowledgement
is opened in Excel by the client's accountants, so every CSV must be both
exact for a machine and harmless in a spreadsheet:

* free text from client files (names, references) could start a formula
  (``=HYPERLINK(...)``): :func:`text_cell` prefixes such a value with ``'``
  (OWASP CSV injection advice). A value that itself starts with ``'`` is
  prefixed too, so the escape is reversible: :func:`original_text` drops
  exactly one leading ``'`` and a loader gets the client's reference back;
* amounts are typed, never neutralised (a credit note must stay the number
  ``-1200.00``): :func:`amount_cell` writes the canonical form and refuses an
  amount that is not a whole number of cents instead of rounding it.

CSV files are UTF-8 with a byte-order mark (Excel then reads accents right),
``;`` separated (the French Excel list separator), CRLF, RFC 4180 quoting
(a cell is quoted when it holds ``;``, ``"``, CR or LF; quotes are doubled),
the same text as the csv module's ``QUOTE_MINIMAL`` writes.

JSON files are one ``json.dumps`` of plain dicts and lists (:func:`json_bytes`),
with amounts as canonical strings and dates as ISO strings.

Writers handle 100,000 lines at a time, so besides the one-value functions
there are column functions (``*_cells``, :func:`iso_dates`) that check a whole
column at C speed and fall back to the one-value function only where a value
needs it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import chain
from operator import itemgetter

from gateway.errors import DeliveryError
from gateway.model import CENT

#: First characters that make a spreadsheet read a cell as a formula, plus the
#: escape character itself (so that the escape can be undone unambiguously).
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n'")
DELIMITER = ";"
LINE_END = "\r\n"
CSV_ENCODING = "utf-8-sig"

_ZERO = Decimal("0.00")
_NOT_NAME_SAFE = re.compile(r"[^A-Za-z0-9_-]+")
_FIRST_CHARACTER = itemgetter(slice(0, 1))
_THIRD_LAST_CHARACTER = itemgetter(slice(-3, -2))


def text_cell(value: str | None) -> str:
    """A free-text value made inert for spreadsheets; ``None`` becomes an empty cell.

    >>> text_cell('=HYPERLINK("http://x")')
    '\\'=HYPERLINK("http://x")'
    >>> text_cell("F-1001")
    'F-1001'
    """
    if not value:
        return ""
    if value[0] in FORMULA_TRIGGERS:
        return "'" + value
    return value


def original_text(cell: str) -> str:
    """Undo :func:`text_cell`: what a loader calls on every text column it reads.

    >>> original_text("'-0001")
    '-0001'
    """
    return cell[1:] if cell.startswith("'") else cell


def amount_cell(amount: Decimal) -> str:
    """The canonical ``-1234.56`` form: point, exactly two decimals, no exponent.

    Rounding here would make a file disagree with the ledger, so an amount
    with non-zero digits below the cent (or not finite) raises
    :class:`DeliveryError` and nothing is written.

    >>> amount_cell(Decimal("-1200"))
    '-1200.00'
    """
    try:
        cents = amount.quantize(CENT)
    except InvalidOperation:
        raise DeliveryError(f"amount {amount!r} cannot be written as a number of cents") from None
    if cents != amount:
        raise DeliveryError(f"amount {amount} is not a whole number of cents; refusing to round it")
    if not cents:
        cents = _ZERO  # never write "-0.00"
    return str(cents)


def text_cells(values: Sequence[str | None]) -> list[str]:
    """A free-text column ready for the CSV: :func:`text_cell` on each value, then quoting.

    Both steps look at the whole column first (first characters as one set,
    all values as one string) and touch single values only when needed.
    """
    cells: Sequence[str] = (
        ["" if value is None else value for value in values] if None in values else values  # type: ignore[assignment]
    )
    if not FORMULA_TRIGGERS.isdisjoint(map(_FIRST_CHARACTER, cells)):
        cells = list(map(text_cell, cells))
    if _NEEDS_QUOTES.search("".join(cells)):
        return list(map(_quoted, cells))
    return list(cells)


def amount_cells(amounts: Sequence[Decimal | None]) -> list[str]:
    """:func:`amount_cell` over a column (``None`` -> empty cell).

    ``str(Decimal)`` already is the canonical form when its third character
    from the end is the point (exponent -2, finite, no exponent notation), so
    only other values (``None`` gives ``"None"``), and ``-0.00``, go through
    :func:`amount_cell`.
    """
    cells = list(map(str, amounts))
    if "-0.00" not in cells and set(map(_THIRD_LAST_CHARACTER, cells)) <= {"."}:
        return cells
    return [
        "" if amount is None else cell if cell[-3:-2] == "." and cell != "-0.00" else amount_cell(amount)
        for amount, cell in zip(amounts, cells, strict=True)
    ]


def date_cells(dates: Sequence[date | None]) -> list[str]:
    """ISO dates (``None`` -> empty cell); a remittance has few distinct dates, each formatted once."""
    texts: dict[date | None, str] = {day: day.isoformat() for day in set(dates) if day is not None}
    texts[None] = ""
    return list(map(texts.__getitem__, dates))


def integer_cells(values: Sequence[int | None]) -> list[str]:
    if None in values:
        return ["" if value is None else str(value) for value in values]
    return list(map(str, values))


_NEEDS_QUOTES = re.compile(r'[;"\r\n]')


def _quoted(cell: str) -> str:
    """RFC 4180: a cell holding the separator, a quote or a line break is quoted, quotes doubled."""
    if _NEEDS_QUOTES.search(cell):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def csv_row(cells: Iterable[object]) -> str:
    """One row of a few cells (column names, ``H`` or ``T`` records): ``None`` -> empty, others ``str``.

    Free text in it must already have gone through :func:`text_cell`.
    """
    return DELIMITER.join(_quoted("" if cell is None else str(cell)) for cell in cells)


def csv_bytes(
    before: Sequence[str], record: str, columns: Sequence[Sequence[str]], after: Sequence[str]
) -> bytes:
    """The whole CSV file: BOM, rows ``before``, one ``record`` row per line of ``columns``, rows ``after``.

    ``before`` and ``after`` come from :func:`csv_row`; ``columns`` hold cells
    already made ready by the ``*_cells`` functions (equal lengths).
    """
    records = [record] * (len(columns[0]) if columns else 0)
    details = map(DELIMITER.join, zip(records, *columns, strict=True))
    text = LINE_END.join(chain(before, details, after)) + LINE_END
    return encoded(text, CSV_ENCODING)


def encoded(text: str, encoding: str = "utf-8") -> bytes:
    try:
        return text.encode(encoding)
    except UnicodeEncodeError as err:  # a lone surrogate smuggled in by a decoder
        raise DeliveryError(f"text cannot be written as {encoding}: {err}") from None


#: The one JSON form of every file the gateway writes: compact (no blank after ``,`` or ``:``),
#: non-ASCII characters as they are (UTF-8, not ``\uXXXX`` escapes), keys in the writer's order. An
#: encoder object is made once: ``json.dumps`` with options builds a new one at every call.
_JSON_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def json_bytes(document: object) -> bytes:
    """A whole JSON file: ``document`` (plain dicts, lists, strings, numbers, ``None``) on one line.

    Amounts are not numbers here: writers put them in as canonical strings
    (:func:`amount_cells`), so that no JSON reader turns them into floats.

    >>> json_bytes({"amount": "-1200.00", "name": "Relevé", "due_date": None})
    b'{"amount":"-1200.00","name":"Relev\\xc3\\xa9","due_date":null}\\n'
    """
    return encoded(_JSON_ENCODER.encode(document) + "\n")


def iso_dates(dates: Sequence[date | None]) -> list[str | None]:
    """ISO dates for JSON (``None`` stays ``None``, written ``null``); each distinct date formatted once."""
    texts: dict[date | None, str | None] = {day: day.isoformat() for day in set(dates) if day is not None}
    texts[None] = None
    return list(map(texts.__getitem__, dates))


def name_part(value: str, *, max_length: int | None = None, default: str = "unnamed") -> str:
    """``value`` reduced to ``[A-Za-z0-9_-]`` for use inside a file name.

    Accents are transliterated (``é`` -> ``e``) rather than lost, any other run of
    characters becomes one ``_``, and ``_`` at either end is dropped.

    >>> name_part("Relevé (mars) 2025")
    'Releve_mars_2025'
    """
    decomposed = unicodedata.normalize("NFKD", value)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    safe = _NOT_NAME_SAFE.sub("_", ascii_only).strip("_")
    if max_length is not None:
        safe = safe[:max_length].rstrip("_")
    return safe or default


def numbered_name(kind: str, client_id: str, what: str, number: int, digits: int) -> str:
    """``<kind>_<client>_<number>``, the start of every output file name (``REM_ACME_000042``).

    A name that could not be told apart or sorted (a negative number, a client id
    with no usable character) raises :class:`DeliveryError`: nothing is written
    under a wrong name.

    >>> numbered_name("REM", "Acmé", "remittance number", 42, 6)
    'REM_Acme_000042'
    """
    if number < 0:
        raise DeliveryError(f"{what} {number} is negative")
    client = name_part(client_id, default="")
    if not client:
        raise DeliveryError(f"client id {client_id!r} gives an empty file name part")
    return f"{kind}_{client}_{number:0{digits}d}"


def check_format(fmt: str, formats: tuple[str, ...]) -> None:
    if fmt not in formats:
        raise ValueError(f"unknown output format {fmt!r}; expected one of {', '.join(formats)}")
