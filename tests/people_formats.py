"""Builders and real readers for the formats people read: XLSX (openpyxl), French CSV (the csv
module) and PDF (pypdf). Shared by tests/writers and tests/e2e (tests/ is on sys.path)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import openpyxl
from pypdf import PdfReader

from gateway.model import AssignedLine, Parties, Remittance
from gateway.writers.remittance import Columns

PARTIES = Parties(
    client_name="ACME Société Générale d'Œuvres SARL",
    client_siren="732829320",
    factor_name="Affacturage Démo SA",
    factor_siren="802954784",
    factor_iban="FR7630006000011234567890189",
)
FORMULA_NAME = '=HYPERLINK("http://evil.example","x")'


def remittance_of(lines: Sequence[AssignedLine], number: int = 42) -> Remittance:
    """A remittance whose totals are the sums of ``lines`` (the writers' own recomputation)."""
    totals = Columns.of(
        Remittance("ACME", number, date(2025, 3, 10), "batch.csv", 7, tuple(lines), ())
    ).totals()
    return Remittance(
        "ACME",
        number,
        date(2025, 3, 10),
        "lot de mars — été.csv",
        7,
        tuple(lines),
        tuple(totals[currency] for currency in sorted(totals)),
    )


def line(
    line_no: int,
    amount: str,
    *,
    currency: str = "EUR",
    debtor: tuple[str, str | None] = ("ALPHA", "ALPHA SA"),
    guaranteed: str | None = None,
    type_code: str | None = None,
    number: str | None = None,
) -> AssignedLine:
    value = Decimal(amount)
    covered = value if guaranteed is None else Decimal(guaranteed)
    credit = value < 0
    return AssignedLine(
        line_no=line_no,
        number=number or f"F-{line_no:05d}",
        type_code=type_code or ("381" if credit else "380"),
        issue_date=date(2025, 3, 1) + timedelta(days=line_no % 7),
        due_date=None if credit else date(2025, 5, 1) + timedelta(days=line_no % 20),
        debtor_id=debtor[0],
        debtor_name=debtor[1],
        currency=currency,
        amount=value,
        guaranteed=covered,
        non_guaranteed=value - covered,
        preceding_invoice="F-00001" if credit else None,
    )


def mixed_remittance() -> Remittance:
    """Two currencies, a credit note, an accented debtor, a formula-looking debtor, thousands."""
    return remittance_of(
        (
            line(1, "12345.67", guaranteed="10000.00"),
            line(2, "-1200.00", number="AV-0007"),
            line(3, "800.10", debtor=("ÉLAN", "Société Éléphant & Cœur — Noël")),
            line(4, "2500.00", currency="USD", debtor=("FX", FORMULA_NAME), guaranteed="0.00"),
            line(5, "-300.05", currency="USD", debtor=("FX", FORMULA_NAME)),
            line(6, "99.99", debtor=("NONAME", None), number="+33-AT-SIGN@1"),
        )
    )


def many_lines_remittance(count: int) -> Remittance:
    debtors = [(f"D{n:03d}", f"Débiteur n°{n}") for n in range(9)]
    return remittance_of(
        [
            line(n, f"-{n}.25" if n % 10 == 0 else f"{n * 7}.50", debtor=debtors[n % 9], guaranteed="0.00")
            if n % 4 == 0
            else line(n, f"-{n}.25" if n % 10 == 0 else f"{n * 7}.50", debtor=debtors[n % 9])
            for n in range(1, count + 1)
        ]
    )


# -- JSON ------------------------------------------------------------------------------------


def json_totals(data: bytes) -> dict[str, dict[str, Any]]:
    """The machine JSON remittance's totals per currency, amounts as ``Decimal``."""
    return {
        t["currency"]: {k: Decimal(v) if k.endswith("_total") else v for k, v in t.items()}
        for t in json.loads(data)["totals"]
    }


# -- XLSX ------------------------------------------------------------------------------------


def workbook(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data))


def cells_of(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet's cell values, row by row (what the golden comparison looks at)."""
    book = workbook(data)
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book}


@dataclass
class Table:
    heading: dict[str, Any]  # label -> value of the block above the table
    header: list[str]
    rows: list[tuple[Any, ...]]

    def column(self, label: str) -> list[Any]:
        at = self.header.index(label)
        return [row[at] for row in self.rows]


def sheet_table(sheet: Any) -> Table:
    """A sheet written by gateway.writers.xlsx: title, ``label | value`` rows, a blank row, the
    header row (bold, frozen below it), the data rows."""
    rows = list(sheet.iter_rows(values_only=True))
    blank = next(at for at, row in enumerate(rows) if at > 0 and all(v is None for v in row))
    heading = {row[0]: next((v for v in row[1:] if v is not None), None) for row in rows[1:blank]}
    header = [v for v in rows[blank + 1] if v is not None]
    data = [row[: len(header)] for row in rows[blank + 2 :]]
    return Table(heading, header, data)


def exact(value: float | int) -> Decimal:
    """A number cell read back as the exact amount it stands for (cents)."""
    return Decimal(repr(value)).quantize(Decimal("0.01"))


def xlsx_sums(table: Table, amount: str = "Montant") -> dict[str, Decimal]:
    """Per currency, the sum of a table's amount column: what SUM gives in the spreadsheet."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for currency, value in zip(table.column("Devise"), table.column(amount), strict=True):
        assert isinstance(value, int | float), f"amount {value!r} is not a number"
        sums[currency] += exact(value)
    return dict(sums)


# -- French CSV ------------------------------------------------------------------------------


def french_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "no BOM"
    text = data.decode("utf-8-sig")
    assert "\n" not in text.replace("\r\n", ""), "a line end other than CRLF"
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def french_decimal(cell: str) -> Decimal:
    """``-1200,00`` as a French spreadsheet reads it: a number (no point, no thousands separator)."""
    assert re.fullmatch(r"-?\d+,\d\d", cell), f"{cell!r} is not a French decimal"
    return Decimal(cell.replace(",", "."))


def french_blocks(data: bytes) -> tuple[list[str], list[list[str]], list[list[list[str]]]]:
    """Header, detail rows, and the blocks after them (each block's rows, split at empty rows)."""
    rows = french_rows(data)
    end = rows.index([])
    blocks: list[list[list[str]]] = [[]]
    for row in rows[end + 1 :]:
        if row:
            blocks[-1].append(row)
        else:
            blocks.append([])
    return rows[0], rows[1:end], blocks


def french_sums(data: bytes, amount: str = "Montant") -> dict[str, Decimal]:
    header, details, _ = french_blocks(data)
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in details:
        sums[row[header.index("Devise")]] += french_decimal(row[header.index(amount)])
    return dict(sums)


def french_totals(data: bytes) -> dict[str, dict[str, str]]:
    """The "Totaux par devise" block: currency -> label -> cell."""
    _, _, blocks = french_blocks(data)
    block = next(b for b in blocks if b[0] == ["Totaux par devise"])
    labels = block[1]
    return {row[0]: dict(zip(labels, row, strict=True)) for row in block[2:]}


# -- PDF -------------------------------------------------------------------------------------


def pdf_pages(data: bytes) -> list[str]:
    """Each page's text as pypdf extracts it, no-break spaces as plain spaces."""
    return [page.extract_text().replace("\xa0", " ") for page in PdfReader(io.BytesIO(data)).pages]


Cell = tuple[float, str]  # x of the text's start (points from the page's left edge), text


def pdf_rows(data: bytes) -> list[list[Cell]]:
    """Every page's text as rows of cells: the writer draws each table cell as its own text
    object, so pypdf's visitor sees cells apart with their positions (no guessing where a count
    ends and an amount begins). Rows in page order, top to bottom; cells left to right, stripped,
    no-break spaces as plain spaces."""
    rows: list[list[Cell]] = []
    for page in PdfReader(io.BytesIO(data)).pages:
        found: dict[float, list[Cell]] = defaultdict(list)

        def visit(text: str, cm: Any, tm: Any, font: Any, size: Any, found: Any = found) -> None:
            if text.strip():
                found[round(float(tm[5]), 1)].append((float(tm[4]), text.replace("\xa0", " ").strip()))

        page.extract_text(visitor_text=visit)
        rows.extend(sorted(found[y]) for y in sorted(found, reverse=True))
    return rows


def texts(row: list[Cell]) -> list[str]:
    return [text for _, text in row]


def pdf_table(
    rows: list[list[Cell]], title: str, widths_mm: Sequence[float], left_mm: float = 10
) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of the table under ``title`` (over every page it runs onto; the
    repeated header rows, running titles and page numbers left out), each row with one cell per
    column (``""`` where nothing is printed), a cell's column found from where its text starts."""
    edges, at = [], left_mm
    for width in widths_mm:
        at += width
        edges.append(at * 72 / 25.4)

    def columns(row: list[Cell]) -> list[str]:
        cells = [""] * len(widths_mm)
        for x, text in row:
            column = next(i for i, edge in enumerate(edges) if x < edge)
            cells[column] = f"{cells[column]} {text}".strip()
        return cells

    start = [texts(row) for row in rows].index([title])
    header = columns(rows[start + 1])
    data = []
    for row in rows[start + 2 :]:
        words = texts(row)
        if words[0].startswith(("Bordereau de cession", "page ")) or columns(row) == header:
            continue
        if len(words) == 1:  # the next table's title
            break
        data.append(columns(row))
    return header, data


def pdf_decimal(cell: str, currency: str | None = None) -> Decimal:
    """``-1 234,56`` or ``-1 234,56 EUR`` (as :func:`pdf_rows` gives it) as a ``Decimal``."""
    if currency is not None:
        assert cell.endswith(f" {currency}"), cell
        cell = cell.removesuffix(f" {currency}")
    assert re.fullmatch(r"-?\d{1,3}( \d{3})*,\d\d", cell), f"{cell!r} is not a French amount"
    return Decimal(cell.replace(" ", "").replace(",", "."))
