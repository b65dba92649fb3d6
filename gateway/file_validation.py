"""``gateway validate``: the checks of the pipeline on loose files, with no ledger.

What cannot be known without the ledger (duplicates, approvals) is not
checked; everything else is, with the same codes as the real run, so a
client's IT can fix a file before sending it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from gateway.factoring.eligibility import check_eligibility
from gateway.limits import DEFAULT_LIMITS, Limits
from gateway.model import Issue
from gateway.parsers import parse_file
from gateway.settings import ClientSettings
from gateway.validation.document import check_document


@dataclass(frozen=True, slots=True)
class FileVerdict:
    path: Path
    format: str
    documents: int
    issues: tuple[Issue, ...]

    @property
    def valid(self) -> bool:
        return not any(i.is_fatal for i in self.issues)

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "format": self.format,
            "valid": self.valid,
            "documents": self.documents,
            "issues": [
                {"code": i.code, "severity": i.severity.value, "message": i.message, "location": i.location}
                for i in self.issues
            ],
        }


def validate_file(
    path: Path,
    format_id: str = "auto",
    client: ClientSettings | None = None,
    business_date: date | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> FileVerdict:
    """Parse and check one file. Raises ``OSError`` only when the file cannot be read."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        issue = Issue("GW-FILE-TOO-LARGE", f"The file is {size} bytes; the limit is {limits.max_file_bytes}.")
        return FileVerdict(path, "unknown", 0, (issue,))
    result = parse_file(path.read_bytes(), path.name, limits, format_id)
    issues = list(result.issues)
    for record in result.rejected:
        issues += [_located(i, record.location) for i in record.issues]
    for invoice in result.documents:
        found = check_document(invoice)
        if client is not None and business_date is not None:
            found += check_eligibility(invoice, client, business_date)
        issues += [_located(i, invoice.location) for i in found]
    return FileVerdict(path, result.format, len(result.documents), tuple(issues))


def validate_files(
    paths: Sequence[Path],
    format_id: str = "auto",
    client: ClientSettings | None = None,
    business_date: date | None = None,
) -> list[FileVerdict]:
    return [validate_file(p, format_id, client, business_date) for p in paths]


def _located(issue: Issue, location: str | None) -> Issue:
    if issue.location or not location:
        return issue
    return Issue(issue.code, issue.message, issue.severity, location)
