"""Reading a csv-batch file as records: its text, its CSV records, and those too odd to be rows.

Everything here is about the file as CSV, before any value is looked at: the
text must be UTF-8 (a byte-order mark is allowed), a quoted cell may span lines
(so a record is numbered by the line it starts on), and a record that is too long
or has the wrong number of cells is refused with a message saying why, instead of
being read into the wrong columns.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

from gateway.model import Issue, RejectedRecord
from gateway.parsers.csv_batch_layout import SEPARATOR


def decode(data: bytes) -> tuple[str | None, Issue | None]:
    """The text of the file, or an issue saying where it stops being UTF-8."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as err:
        line_no = data.count(b"\n", 0, err.start) + 1
        line_start = data.rfind(b"\n", 0, err.start) + 1
        column = err.start - line_start + 1
        bad = data[err.start : err.start + 1].hex().upper()
        return None, Issue(
            "GW-CSV-ENCODING",
            f"The file is not UTF-8: on line {line_no}, byte {column} of the line (0x{bad}) is not valid "
            'UTF-8. Export the file as UTF-8 (Excel: "CSV UTF-8").',
            location=f"line {line_no}",
        )


def records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line number, cells) for every non-empty record.

    A quoted cell may span lines, so a record's number is the line it starts on.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=SEPARATOR, quotechar='"', strict=False)
    previous_end = 0
    for cells in reader:
        start = previous_end + 1
        previous_end = reader.line_num
        if not cells or (not cells[0] and not "".join(cells).strip()):
            continue  # an empty line, or one of bare separators as spreadsheets leave at the end
        yield start, cells


def shape_problem(
    cells: list[str], line_no: int, width: int, max_field: int, max_line: int
) -> RejectedRecord | None:
    """Why a record cannot even be read as a row (too long, wrong number of cells), if it cannot."""
    longest = max(map(len, cells))
    if longest > max_field:
        cell = next(c for c in cells if len(c) == longest)
        hint = ' (a quote " opening it may lack its closing quote)' if "\n" in cell else ""
        return RejectedRecord(
            location=f"line {line_no}",
            issues=(
                limit_problem(
                    line_no, f"a value is {longest:,} characters long{hint}, the limit {max_field:,}."
                ),
            ),
        )
    length = sum(map(len, cells)) + len(cells) - 1
    if length > max_line:
        return RejectedRecord(
            location=f"line {line_no}",
            issues=(
                limit_problem(line_no, f"the line is {length:,} characters long, the limit {max_line:,}."),
            ),
        )
    if len(cells) != width:
        return RejectedRecord(
            location=f"line {line_no}",
            issues=(
                Issue(
                    "GW-CSV-VALUE",
                    f"Line {line_no} has {len(cells)} values but the header names {width} columns; "
                    "a separator ';' is probably missing or extra (quote values that contain ';').",
                    location=f"line {line_no}",
                ),
            ),
        )
    return None


def limit_problem(line_no: int, what: str) -> Issue:
    return Issue("GW-LIMIT-EXCEEDED", f"Line {line_no}: {what}", location=f"line {line_no}")


def csv_error(line_no: int, err: csv.Error) -> Issue:
    """What the csv module's refusal means for the client, near the line where it stopped."""
    if "field larger than field limit" in str(err):
        return Issue(
            "GW-LIMIT-EXCEEDED",
            f'Near line {line_no}, a value is too long to be a CSV cell (an opening quote " may lack its '
            "closing quote); the file was not read further.",
            location=f"line {line_no}",
        )
    return Issue(
        "GW-CSV-VALUE",
        f"Near line {line_no}, the file is not valid CSV ({err}); the file was not read further.",
        location=f"line {line_no}",
    )
