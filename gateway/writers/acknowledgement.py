"""The acknowledgement sent back to the client's ERP and accountants, as CSV or JSON.

It answers "what became of my file?" for people: one row per document with
its verdict and the reasons, the file-level verdict and issues (a file refused
as a whole has no lines, only file issues saying why), and a summary. Messages
are written as they are (they are addressed to people); in the CSV every
free-text cell is neutralised for Excel. The writer refuses an acknowledgement
that contradicts itself (a refused file that still reports accepted documents
or a remittance), because the client would act on a false answer. The layout
is documented in ``schemas/README.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from gateway.errors import DeliveryError
from gateway.model import Acknowledgement, Issue, Verdict
from gateway.writers.csv_cells import (
    amount_cells,
    check_format,
    csv_bytes,
    csv_row,
    json_bytes,
    name_part,
    numbered_name,
    text_cell,
    text_cells,
)

FORMATS = ("csv", "json")
FORMAT_ID = "factoring-gateway/acknowledgement"
VERSION = 2  # 2: every issue says which rules found it (``source``)
SOURCE_STEM_MAX = 60
CODE_SEPARATOR = "|"
MESSAGE_SEPARATOR = " | "

#: Column names of the first CSV line; they name the fields of ``D`` rows.
DETAIL_COLUMNS = (
    "record",
    "location",
    "number",
    "type_code",
    "verdict",
    "amount",
    "currency",
    "codes",
    "messages",
)
_WIDTH = len(DETAIL_COLUMNS)


def file_name(ack: Acknowledgement, fmt: str) -> str:
    """``ACK_<client_id>_<envelope_id:08d>_<source stem>.<fmt>``.

    The stem of the client's own file name is kept (sanitised, at most 60
    characters) so the client recognises which file is answered.
    """
    check_format(fmt, FORMATS)
    return f"{stem(ack)}.{fmt}"


def stem(ack: Acknowledgement) -> str:
    """The file name without its extension, shared by every format: ``ACK_ACME_00000007_batch``."""
    numbered = numbered_name("ACK", ack.client_id, "envelope id", ack.envelope_id, 8)
    base = ack.source_name.replace("\\", "/").rsplit("/", 1)[-1]
    source_stem = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    return f"{numbered}_{name_part(source_stem, max_length=SOURCE_STEM_MAX)}"


def write(ack: Acknowledgement, fmt: str) -> bytes:
    """The acknowledgement as ``fmt`` bytes; same acknowledgement in, same bytes out."""
    check_format(fmt, FORMATS)
    accepted, rejected = verify(ack)
    if fmt == "csv":
        return _csv(ack, accepted, rejected)
    return _json(ack, accepted, rejected)


def verify(ack: Acknowledgement) -> tuple[int, int]:
    """Accepted and rejected line counts; :class:`DeliveryError` if the acknowledgement contradicts itself."""
    accepted = sum(1 for line in ack.lines if line.verdict is Verdict.ACCEPTED)
    rejected = len(ack.lines) - accepted
    problems: list[str] = []
    if ack.verdict is Verdict.REJECTED:
        if accepted:
            problems.append(f"the file is refused but {accepted} document(s) are marked accepted")
        if ack.remittance_number is not None:
            problems.append(f"the file is refused but remittance {ack.remittance_number} is named")
    elif any(issue.is_fatal for issue in ack.file_issues):
        problems.append("the file is accepted despite a fatal file issue")
    if problems:
        raise DeliveryError(
            f"acknowledgement of envelope {ack.envelope_id} is inconsistent, not written: "
            + "; ".join(problems)
        )
    return accepted, rejected


def _pad(cells: tuple[object, ...]) -> tuple[object, ...]:
    """Records other than ``D`` reuse the columns by position; every row has the same width."""
    return cells + ("",) * (_WIDTH - len(cells))


_VERDICT_TEXT = {verdict: verdict.value for verdict in Verdict}


@dataclass(frozen=True, slots=True)
class _Columns:
    """The lines turned sideways, so each column is checked and formatted in one pass."""

    location: Sequence[str]
    number: Sequence[str | None]
    type_code: Sequence[str | None]
    verdict: Sequence[str]
    amount: Sequence[str]
    currency: Sequence[str | None]
    issues: Sequence[tuple[Issue, ...]]

    @classmethod
    def of(cls, ack: Acknowledgement) -> _Columns:
        lines = ack.lines

        def column(name: str) -> list[Any]:
            return list(map(attrgetter(name), lines))

        return cls(
            location=column("location"),
            number=column("number"),
            type_code=column("type_code"),
            verdict=list(map(_VERDICT_TEXT.__getitem__, column("verdict"))),
            amount=amount_cells(column("amount")),
            currency=column("currency"),
            issues=column("issues"),
        )


def _file_issue_row(issue: Issue) -> tuple[object, ...]:
    """File issues reuse the detail columns; the verdict column holds the issue's severity."""
    location, code, message = text_cell(issue.location), text_cell(issue.code), text_cell(issue.message)
    return ("F", location, "", "", issue.severity.value, "", "", code, message)


def _csv(ack: Acknowledgement, accepted: int, rejected: int) -> bytes:
    columns = _Columns.of(ack)
    head = (
        "H",
        text_cell(ack.source_name),
        text_cell(ack.client_id),
        ack.envelope_id,
        ack.verdict.value,
        ack.business_date.isoformat(),
        FORMAT_ID,
        VERSION,
    )
    file_issues = [csv_row(_file_issue_row(issue)) for issue in ack.file_issues]
    codes = [CODE_SEPARATOR.join([i.code for i in issues]) if issues else "" for issues in columns.issues]
    messages = [
        MESSAGE_SEPARATOR.join([i.message for i in issues]) if issues else "" for issues in columns.issues
    ]
    details = (
        text_cells(columns.location),
        text_cells(columns.number),
        text_cells(columns.type_code),
        columns.verdict,
        columns.amount,
        text_cells(columns.currency),
        text_cells(codes),
        text_cells(messages),
    )
    remittance = "" if ack.remittance_number is None else ack.remittance_number
    trailer = csv_row(_pad(("T", len(ack.lines), accepted, rejected, remittance)))
    return csv_bytes([csv_row(DETAIL_COLUMNS), csv_row(_pad(head)), *file_issues], "D", details, [trailer])


def _json(ack: Acknowledgement, accepted: int, rejected: int) -> bytes:
    """One ``json.dumps`` of the whole acknowledgement. Most lines have no issue: they share one
    empty list (the encoder only reads it), and only the others build issue dicts."""
    columns = _Columns.of(ack)
    no_issues: list[dict[str, str | None]] = []
    lines = [
        {
            "location": location,
            "number": number,
            "type_code": type_code,
            "verdict": verdict,
            "amount": amount or None,
            "currency": currency,
            "issues": list(map(Issue.to_dict, issues)) if issues else no_issues,
        }
        for location, number, type_code, verdict, amount, currency, issues in zip(
            columns.location,
            columns.number,
            columns.type_code,
            columns.verdict,
            columns.amount,
            columns.currency,
            columns.issues,
            strict=True,
        )
    ]
    return json_bytes(
        {
            "format": FORMAT_ID,
            "version": VERSION,
            "client_id": ack.client_id,
            "envelope_id": ack.envelope_id,
            "source_name": ack.source_name,
            "business_date": ack.business_date.isoformat(),
            "verdict": ack.verdict.value,
            "summary": {
                "line_count": len(ack.lines),
                "accepted_count": accepted,
                "rejected_count": rejected,
                "remittance_number": ack.remittance_number,
            },
            "file_issues": [i.to_dict() for i in ack.file_issues],
            "lines": lines,
        }
    )
