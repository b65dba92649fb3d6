"""``gateway validate``: the decision of the pipeline on loose files, writing nothing.

The very same path as ``run``: :func:`gateway.intake.examine` reads and checks
each file, and with ``--client`` the :class:`gateway.intake.Decider` decides it on
a read-only prediction of the ledger (:class:`gateway.ledger.prediction.PredictionWork`):
duplicates of files and receivables already assigned, the approval split and
the remittance number are those ``run`` would record, with the same codes.
Without ``--client`` the contract's rules and the ledger are left out, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from gateway.intake import Decider, Examined, examine
from gateway.ledger import DocumentRecord, Ledger
from gateway.ledger.prediction import PredictedOutcome, PredictionWork
from gateway.limits import DEFAULT_LIMITS, Limits
from gateway.model import Issue, Verdict
from gateway.parsers import size_limit
from gateway.parsers.base import SNIFF_BYTES
from gateway.settings import ClientSettings


@dataclass(frozen=True, slots=True)
class DocumentVerdict:
    location: str
    number: str | None
    verdict: Verdict
    guaranteed: str | None
    non_guaranteed: str | None


@dataclass(frozen=True, slots=True)
class FileVerdict:
    path: Path
    format: str
    documents: int
    issues: tuple[Issue, ...]
    decisions: tuple[DocumentVerdict, ...] = ()  # with --client: what run would decide per document
    remittance_number: int | None = None

    @property
    def valid(self) -> bool:
        return not any(i.is_fatal for i in self.issues)

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "path": str(self.path),
            "format": self.format,
            "valid": self.valid,
            "documents": self.documents,
            "issues": [i.to_dict() for i in self.issues],
        }
        if self.decisions:
            data["remittance_number"] = self.remittance_number
            data["decisions"] = [
                {
                    "location": d.location,
                    "number": d.number,
                    "verdict": d.verdict.value,
                    "guaranteed": d.guaranteed,
                    "non_guaranteed": d.non_guaranteed,
                }
                for d in self.decisions
            ]
        return data


def validate_files(
    paths: Sequence[Path],
    format_id: str = "auto",
    client: ClientSettings | None = None,
    business_date: date | None = None,
    ledger_url: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> list[FileVerdict]:
    """Examine every file; with ``client`` (and its ledger), decide them as ``run`` would, in
    this order, without writing anything. Raises ``OSError`` when a file cannot be read."""
    bdate = business_date or date.today()
    examined = [(path, _examine(path, -index, format_id, client, bdate, limits)) for index, path in
                enumerate(paths, start=1)]  # fmt: skip
    if client is None:
        return [_from_examination(path, item) for path, item in examined]
    with _prediction(ledger_url) as work:
        decider = Decider(work)
        for _, item in examined:
            decider.decide(item, client, bdate)
        return [_from_prediction(path, item, work.outcomes[item.envelope_id]) for path, item in examined]


def _examine(
    path: Path, envelope_id: int, format_id: str, client: ClientSettings | None, bdate: date, limits: Limits
) -> Examined:
    """The file read as the pipeline reads it: refused from its size before it is read whole."""
    size = path.stat().st_size
    limit = limits.max_file_bytes
    if size > min(limits.max_xml_bytes, limit):
        with path.open("rb") as handle:
            limit = size_limit(handle.read(SNIFF_BYTES), path.name, limits, format_id)
    if size > limit:
        issue = Issue(
            "GW-FILE-TOO-LARGE",
            f"{path.name} is {size:,} bytes; the gateway takes at most {limit:,} bytes for a file of this "
            "format. Split it into smaller files.",
        )
        return examine(envelope_id, path.name, None, client, bdate, limits, format_id, issue)
    return examine(envelope_id, path.name, path.read_bytes(), client, bdate, limits, format_id)


@contextmanager
def _prediction(ledger_url: str | None) -> Iterator[PredictionWork]:
    ledger = Ledger.open_for_reading(ledger_url) if ledger_url else None
    if ledger is None:
        yield PredictionWork(None)
        return
    try:
        with ledger.prediction() as work:
            yield work
    finally:
        ledger.close()


def _from_examination(path: Path, item: Examined) -> FileVerdict:
    issues = list(item.file_issues)
    for record in item.unreadable:
        issues += [_located(i, record.location) for i in record.issues]
    for candidate in item.candidates:
        issues += [_located(i, candidate.invoice.location) for i in candidate.issues]
    return FileVerdict(path, item.format or "unknown", len(item.candidates), tuple(issues))


def _from_prediction(path: Path, item: Examined, outcome: PredictedOutcome) -> FileVerdict:
    issues = list(outcome.file_issues)
    for doc in outcome.documents:
        issues += [_located(i, doc.location) for i in doc.issues]
    return FileVerdict(
        path,
        item.format or "unknown",
        len(item.candidates),
        tuple(issues),
        tuple(_decision(doc) for doc in outcome.documents),
        outcome.remittance_number,
    )


def _decision(doc: DocumentRecord) -> DocumentVerdict:
    return DocumentVerdict(
        doc.location,
        doc.number,
        doc.verdict,
        None if doc.guaranteed is None else str(doc.guaranteed),
        None if doc.non_guaranteed is None else str(doc.non_guaranteed),
    )


def _located(issue: Issue, location: str | None) -> Issue:
    if issue.location or not location:
        return issue
    return Issue(issue.code, issue.message, issue.severity, location)
