"""The built-in CSV batch layout (``csv-batch``), as docs/csv-batch-layout.md describes it.

The parser only *reads*: it turns each row into an :class:`~gateway.model.Invoice`
or, when a value cannot be read at all (a date that is not a date, an amount
that is not a number, a required cell left empty), into a
:class:`~gateway.model.RejectedRecord` naming the line. Whether what it read is
acceptable (a valid SIREN, a supported type code, totals that add up) is the
job of :mod:`gateway.validation.document` and the factoring rules, so that the
same checks apply to every format.

This module is the parser the registry lists (``FORMAT``, ``sniff``, ``parse``)
and the loop over the file with its limits; the steps are one module each:
:mod:`.csv_batch_layout` (columns and the header), :mod:`.csv_batch_records`
(text, CSV records, records too odd to be rows), :mod:`.csv_batch_rows` (a row
into an Invoice) and :mod:`.csv_batch_amounts` (how an amount is read).
"""

from __future__ import annotations

import codecs
import csv

from gateway.limits import Limits
from gateway.model import Invoice, Issue, ParseResult, RejectedRecord
from gateway.parsers.base import NO_OPTIONS, ParserOptions
from gateway.parsers.csv_batch_layout import SEPARATOR, Layout, check_header, header_names
from gateway.parsers.csv_batch_records import csv_error, decode, records, shape_problem
from gateway.parsers.csv_batch_rows import row_reader

FORMAT = "csv-batch"
#: Per-channel options this format understands (``parser_options`` of a channel): none yet.
OPTIONS: frozenset[str] = frozenset()


def sniff(head: bytes, name: str) -> bool:
    """True when the first line is a ``;`` header naming ``invoice_number`` and ``type_code``.

    The file name is deliberately ignored: clients name their exports anything.

    >>> sniff(b"invoice_number;type_code;issue_date\\r\\nF-1;380;2025-03-01", "x.csv")
    True
    >>> sniff(b"<?xml version='1.0'?><Invoice/>", "x.xml")
    False
    """
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    first_line = head.split(b"\n", 1)[0].rstrip(b"\r")
    if SEPARATOR.encode() not in first_line:
        return False
    # The head may end in the middle of a multi-byte character: ignore that tail only.
    names = set(header_names(first_line.decode("utf-8", errors="ignore")))
    return "invoice_number" in names and "type_code" in names


def parse(data: bytes, limits: Limits, options: ParserOptions = NO_OPTIONS) -> ParseResult:
    """Read a csv-batch file; bad rows are rejected one by one, a bad header rejects the file."""
    text, encoding_issue = decode(data)
    if text is None:
        assert encoding_issue is not None
        return ParseResult(format=FORMAT, issues=(encoding_issue,))

    file_records = records(text)
    file_issues: list[Issue] = []
    try:
        header = next(file_records, None)
    except csv.Error as err:
        return ParseResult(format=FORMAT, issues=(csv_error(1, err),))
    if header is None:
        return ParseResult(
            format=FORMAT,
            issues=(Issue("GW-CSV-HEADER", "The file has no header line and no rows.", location="line 1"),),
        )
    header_line, header_cells = header
    names = [name.strip() for name in header_cells]
    fatal, warnings = check_header(names, header_line)
    if fatal:
        return ParseResult(format=FORMAT, issues=tuple(fatal + warnings))
    file_issues.extend(warnings)

    layout = Layout(names)
    read_row = row_reader(layout)
    width = layout.width
    max_field = limits.max_field_chars
    max_line = limits.max_line_chars
    max_documents = limits.max_documents_per_file
    max_rejected = limits.max_issues_per_file

    documents: list[Invoice] = []
    rejected: list[RejectedRecord] = []
    count = 0
    line_no = header_line
    try:
        for line_no, cells in file_records:
            count += 1
            if count > max_documents:
                return _refused(
                    Issue(
                        "GW-LIMIT-EXCEEDED",
                        f"The file holds more than {max_documents:,} documents, the most one file may hold; "
                        "split it into several files.",
                        location=f"line {line_no}",
                    ),
                    file_issues,
                    rejected,
                )
            longest = max(map(len, cells))
            refusal = None
            if len(cells) != width or longest > max_field or longest * width > max_line:
                refusal = shape_problem(cells, line_no, width, max_field, max_line)
            if refusal is None:
                cells.append("")  # what an absent optional column (index -1) reads
                outcome = read_row(cells, line_no)
                if type(outcome) is Invoice:
                    documents.append(outcome)
                    continue
                assert isinstance(outcome, RejectedRecord)
                refusal = outcome
            rejected.append(refusal)
            if len(rejected) > max_rejected:
                return _refused(
                    Issue(
                        "GW-LIMIT-EXCEEDED",
                        f"More than {max_rejected:,} rows of the file cannot be read (the last at line "
                        f"{line_no}); the file was not read further. Check that it follows the csv-batch "
                        "layout.",
                        location=f"line {line_no}",
                    ),
                    file_issues,
                    rejected[:max_rejected],
                )
    except csv.Error as err:
        return _refused(csv_error(line_no + 1, err), file_issues, rejected)

    return ParseResult(
        format=FORMAT, documents=tuple(documents), rejected=tuple(rejected), issues=tuple(file_issues)
    )


def _refused(reason: Issue, file_issues: list[Issue], rejected: list[RejectedRecord]) -> ParseResult:
    """A result rejecting the whole file: no document of it goes further."""
    return ParseResult(format=FORMAT, rejected=tuple(rejected), issues=(*file_issues, reason))
