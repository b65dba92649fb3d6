"""``gateway validate``: the decision of the pipeline on loose files, writing nothing.

The very same path as ``run``: :func:`gateway.intake.examine` reads and checks
each file, and with ``--client`` the :class:`gateway.intake.Decider` decides it on
a read-only prediction of the ledger (:class:`gateway.ledger.prediction.PredictionWork`):
duplicates of files and receivables already assigned, the approval split and
the remittance number are those ``run`` would record, with the same codes.
Without ``--client`` the contract's rules and the ledger are left out, nothing else.

Each file gets two answers (:class:`FileVerdict`): its conformance ``verdict`` as an
e-invoice, from the official rule sets alone, and whether it is ``financeable``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from gateway import __version__
from gateway.intake import Decider, Examined, examine
from gateway.ledger import DocumentRecord, Ledger
from gateway.ledger.prediction import PredictedOutcome, PredictionWork
from gateway.limits import DEFAULT_LIMITS, Limits
from gateway.model import Issue, Verdict
from gateway.parsers import size_limit
from gateway.parsers.base import SNIFF_BYTES
from gateway.settings import ClientSettings, FactorSettings
from gateway.validation.conformance import NOT_AN_EINVOICE, Conformance, RuleSetUsed
from gateway.validation.conformance import Verdict as Conformity


@dataclass(frozen=True, slots=True)
class DocumentVerdict:
    location: str
    number: str | None
    verdict: Verdict
    guaranteed: str | None
    non_guaranteed: str | None


@dataclass(frozen=True, slots=True)
class FileVerdict:
    """Two answers about one file: is it a conformant e-invoice (``verdict``, the official rule sets
    alone), and can the factor finance it (``financeable``: no fatal issue at all, the gateway's
    rules and, with a client, the contract's and the ledger's too)."""

    path: Path
    format: str
    documents: int
    issues: tuple[Issue, ...]
    decisions: tuple[DocumentVerdict, ...] = ()  # with --client: what run would decide per document
    remittance_number: int | None = None
    conformance: Conformance = NOT_AN_EINVOICE
    rule_sets: tuple[RuleSetUsed, ...] = ()  # every layer that judged the file, with its version

    @property
    def verdict(self) -> Conformity | None:
        """``valid``, ``invalid`` or ``error`` for an e-invoice; None for a batch of records."""
        return self.conformance.verdict

    @property
    def financeable(self) -> bool:
        return not any(i.is_fatal for i in self.issues)

    def to_dict(self) -> dict[str, object]:
        facts = self.conformance.facts
        data: dict[str, object] = {
            "path": str(self.path),
            "format": self.format,
            "syntax": facts.syntax if facts else None,
            "attachment": facts.attachment if facts else None,
            "profile": facts.profile if facts else None,
            "verdict": self.verdict,
            "financeable": self.financeable,
            "rulesets": [r.to_dict() for r in self.rule_sets],
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
    *,
    factor: FactorSettings | None = None,
    schematron: bool = True,
) -> list[FileVerdict]:
    """Examine every file; with ``client`` (and its ledger), decide them as ``run`` would, in
    this order, without writing anything. Raises ``OSError`` when a file cannot be read.

    ``factor`` and ``schematron`` are what the pipeline passes for the client's channel: the
    factor's identity (the assignment rule of notified contracts) and whether the channel runs
    the official Schematron rules."""
    bdate = business_date or date.today()
    policy = _Policy(format_id, client, factor, schematron, bdate, limits)
    examined = [(path, _examine(path, -index, policy)) for index, path in enumerate(paths, start=1)]
    gateway_rules = _gateway_rules(client)
    if client is None:
        return [_from_examination(path, item, gateway_rules) for path, item in examined]
    with _prediction(ledger_url) as work:
        decider = Decider(work)
        for _, item in examined:
            decider.decide(item, client, bdate)
        return [
            _from_prediction(path, item, work.outcomes[item.envelope_id], gateway_rules)
            for path, item in examined
        ]


@dataclass(frozen=True, slots=True)
class _Policy:
    format_id: str
    client: ClientSettings | None
    factor: FactorSettings | None
    schematron: bool
    business_date: date
    limits: Limits


def _gateway_rules(client: ClientSettings | None) -> RuleSetUsed:
    name = "gateway rules" if client is None else f"gateway rules and the contract of {client.name}"
    return RuleSetUsed("gateway", name, __version__)


def _examine(path: Path, envelope_id: int, policy: _Policy) -> Examined:
    """The file read as the pipeline reads it: refused from its size before it is read whole."""
    format_id, client, bdate, limits = policy.format_id, policy.client, policy.business_date, policy.limits
    size = path.stat().st_size
    data: bytes | None = None
    read_error: Issue | None = None
    limit = limits.max_file_bytes
    if size > min(limits.max_xml_bytes, limit):
        with path.open("rb") as handle:
            limit = size_limit(handle.read(SNIFF_BYTES), path.name, limits, format_id)
    if size > limit:
        read_error = Issue(
            "GW-FILE-TOO-LARGE",
            f"{path.name} is {size:,} bytes; the gateway takes at most {limit:,} bytes for a file of this "
            "format. Split it into smaller files.",
        )
    else:
        data = path.read_bytes()
    return examine(
        envelope_id, path.name, data, client, bdate, limits, format_id, read_error,
        factor=policy.factor, schematron=policy.schematron,
    )  # fmt: skip


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


def _from_examination(path: Path, item: Examined, gateway_rules: RuleSetUsed) -> FileVerdict:
    issues = list(item.file_issues)
    for record in item.unreadable:
        issues += [_located(i, record.location) for i in record.issues]
    for candidate in item.candidates:
        issues += [_located(i, candidate.invoice.location) for i in candidate.issues]
    return FileVerdict(
        path,
        item.format or "unknown",
        len(item.candidates),
        tuple(issues),
        conformance=item.conformance,
        rule_sets=(*item.conformance.rule_sets, gateway_rules),
    )


def _from_prediction(
    path: Path, item: Examined, outcome: PredictedOutcome, gateway_rules: RuleSetUsed
) -> FileVerdict:
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
        item.conformance,
        (*item.conformance.rule_sets, gateway_rules),
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
    return replace(issue, location=location)
