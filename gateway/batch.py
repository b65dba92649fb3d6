"""One batch of claimed files through register → examine → decide → deliver → archive,
and the recovery of what a crash left in ``work/``.

Every step is recorded in the ledger before the next one starts, and every step after
the decision is repeatable: the outputs are rendered from the ledger and a delivery of
identical bytes counts as done, so a crash at any of these points is resumed by the next
run and ends with the ledger and files of an uninterrupted one. Fsyncs are batched, not
skipped: one ledger commit, one delivery sync and one archive sync per batch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from gateway.errors import InputError, LimitExceeded
from gateway.failpoints import failpoint
from gateway.flows import EnvelopeSummary, Flow
from gateway.flows.base import Examination
from gateway.ledger import DuplicateAssignment, EnvelopeRecord, EnvelopeState, Ledger
from gateway.limits import Limits
from gateway.model import Issue
from gateway.parsers import size_limit
from gateway.parsers.base import SNIFF_BYTES
from gateway.settings import ClientSettings, InboundChannel, Settings
from gateway.transports.base import Entry, Finalization, InboundTransport, OutboundTransport, Outcome
from gateway.transports.names import is_refused_stand_in, name_refusal

log = logging.getLogger(__name__)

#: After this many failed attempts (our fault, e.g. a bug on one file) the file
#: goes to the error area for a person to look at instead of being retried forever.
MAX_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What became of one file this cycle, as ``run --json`` and ``ingest --json`` list it.

    ``outcome``: ``assigned`` (a remittance holds its accepted documents; ``rejected`` counts
    the others), ``refused`` (nothing assigned: the file or every document was refused),
    ``retrying`` (the gateway failed on it; it stays in work/ and is tried again), ``failed``
    (failed ``MAX_ATTEMPTS`` times: moved to error/ for a person), ``already-processed``
    (this very file was put back after it was processed)."""

    channel: str
    name: str
    envelope_id: int | None
    outcome: str
    accepted: int = 0
    rejected: int = 0
    codes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "channel": self.channel,
            "file": self.name,
            "envelope_id": self.envelope_id,
            "outcome": self.outcome,
            "accepted_documents": self.accepted,
            "rejected_documents": self.rejected,
            "codes": list(self.codes),
        }


@dataclass(slots=True)
class CycleReport:
    """What one cycle did, for people (rich tables) and machines (``--json``)."""

    business_date: date
    files: int = 0
    assigned_files: int = 0
    rejected_files: int = 0
    failed_files: int = 0
    accepted_documents: int = 0
    rejected_documents: int = 0
    remittances: list[tuple[str, int]] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)
    busy_channels: list[str] = field(default_factory=list)  # held by another process this cycle
    outcomes: list[FileOutcome] = field(default_factory=list)

    def add(self, outcome: FileOutcome) -> None:
        """Count one file's outcome and log it (the one INFO line per file and decision)."""
        self.outcomes.append(outcome)
        codes = f" [{', '.join(outcome.codes)}]" if outcome.codes else ""
        counts = f" ({outcome.accepted} accepted, {outcome.rejected} rejected)" if outcome.envelope_id else ""
        log.log(
            logging.WARNING if outcome.outcome in ("retrying", "failed") else logging.INFO,
            "%s: %s envelope %s: %s%s%s",
            outcome.channel,
            outcome.name,
            outcome.envelope_id,
            outcome.outcome,
            counts,
            codes,
            extra={
                "channel": outcome.channel,
                "file": outcome.name,
                "envelope": outcome.envelope_id,
                "outcome": outcome.outcome,
                "codes": list(outcome.codes),
            },
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "business_date": self.business_date.isoformat(),
            "files": self.files,
            "assigned_files": self.assigned_files,
            "rejected_files": self.rejected_files,
            "failed_files": self.failed_files,
            "accepted_documents": self.accepted_documents,
            "rejected_documents": self.rejected_documents,
            "remittances": [{"client_id": c, "number": n} for c, n in self.remittances],
            "delivered": list(self.delivered),
            "busy_channels": list(self.busy_channels),
            "outcomes": [o.to_dict() for o in self.outcomes],
        }


@dataclass(frozen=True, slots=True)
class InboundRoute:
    """An inbound channel with the client it belongs to and its transport."""

    client: ClientSettings
    channel: InboundChannel
    transport: InboundTransport


class Batches:
    """Takes batches of claimed entries of one channel through their flow (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        ledger: Ledger,
        outbound: Mapping[str, OutboundTransport],
        flows: Mapping[str, Flow],
        limits: Limits,
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.outbound = outbound
        self.flows = flows
        self.limits = limits

    def reconcile(self, route: InboundRoute, recovered: Sequence[Entry], report: CycleReport) -> None:
        """Envelopes the ledger has not seen finalised whose file is no longer in ``work/``
        (this process holds the channel, so no one else is working on them):

        * delivered: the archive move happened just before a crash; finalised now;
        * decided, not delivered: someone removed the file by hand after the decision; the
          decision stands and its outputs are delivered, so the factor and the client learn it;
        * undecided: recorded as failed so that it shows in the status.
        """
        in_work = {e.transport_key for e in recovered}
        moved: list[int] = []
        orphans: list[EnvelopeRecord] = []
        for record in self.ledger.unfinished_envelopes(route.channel.id):
            if record.transport_key in in_work:
                continue
            if record.delivered:
                moved.append(record.id)
            elif _decided(record):
                log.error(
                    "%s: %s vanished from work/ after its decision", route.channel.id, record.source_name
                )
                orphans.append(record)
            elif record.state is not EnvelopeState.FAILED:
                self.ledger.mark_failed(
                    record.id, "GW-FILE-VANISHED", "The claimed file disappeared from work/."
                )
        if orphans:
            self._deliver(route, orphans, report)
            moved += [r.id for r in orphans]
        if moved:
            self.ledger.mark_finalized(moved)

    # -- one batch ---------------------------------------------------------------

    def process(self, route: InboundRoute, entries: Sequence[Entry], report: CycleReport) -> None:
        bdate = report.business_date
        registered = self.ledger.register_envelopes(
            route.client.id, route.channel.id, [(e.transport_key, e.shown_name) for e in entries]
        )
        failpoint("after-register")
        for record in registered:
            if record.state is EnvelopeState.RECEIVED and not record.attempts:
                log.info(
                    "%s: %s received as envelope %d",
                    route.channel.id,
                    record.source_name,
                    record.id,
                    extra={"channel": route.channel.id, "file": record.source_name, "envelope": record.id},
                )
        ids = [r.id for r in registered]
        report.files += len(ids)

        undecided = [(e, r) for e, r in zip(entries, registered, strict=True) if _needs_decision(r)]
        if undecided:
            self._decide(route, undecided, bdate)
        records = self.ledger.envelopes(ids)

        outputs: dict[int, EnvelopeSummary] = {}
        to_deliver = [records[i] for i in ids if _decided(records[i]) and not records[i].delivered]
        if to_deliver:
            outputs = self._deliver(route, to_deliver, report)
            records = self.ledger.envelopes(ids)
        self._finalize(
            route, [(e, records[i]) for e, i in zip(entries, ids, strict=True)], bdate, report, outputs
        )

    def _decide(
        self, route: InboundRoute, pairs: Sequence[tuple[Entry, EnvelopeRecord]], bdate: date
    ) -> None:
        flow = self.flows[route.channel.id]
        examined: list[Examination] = []
        for entry, record in pairs:
            try:
                data, read_error = self._read(route, entry, record)
                examined.append(flow.examine(record.id, record.source_name, data, read_error, bdate))
            except Exception as err:  # a bug or an environment fault on one file: others go on
                log.exception("%s: examining %s failed", route.channel.id, record.source_name)
                self.ledger.mark_failed(record.id, "GW-INTERNAL", _internal_message(err))
        if not examined:
            return
        try:
            flow.decide(self.ledger, examined, bdate)
        except DuplicateAssignment:
            raise
        except Exception as err:
            if len(examined) == 1:
                self._record_failure(route, examined[0], err)
                return
            # One file must not block the others for ever: decide them one by one, so that a
            # file that cannot be recorded is counted as failed (and, after MAX_ATTEMPTS, moved
            # to error/). If the ledger itself is down, recording the failure fails too and the
            # cycle stops with every file still in work/, to be retried.
            log.warning(
                "%s: a batch could not be decided (%s); deciding its files one by one", route.channel.id, err
            )
            for item in examined:
                try:
                    flow.decide(self.ledger, [item], bdate)
                except Exception as single:
                    self._record_failure(route, item, single)
        failpoint("after-assign-commit")

    def _record_failure(self, route: InboundRoute, item: Examination, err: Exception) -> None:
        log.error("%s: %s could not be decided: %s", route.channel.id, item.source_name, err, exc_info=err)
        self.ledger.mark_failed(item.envelope_id, "GW-INTERNAL", _internal_message(err))

    def _read(
        self, route: InboundRoute, entry: Entry, record: EnvelopeRecord
    ) -> tuple[bytes | None, Issue | None]:
        """The claimed file's bytes, or why they were not read (a name that cannot be taken, too
        large for its format)."""
        if is_refused_stand_in(entry.name):
            why = name_refusal(entry.sent_name) if entry.sent_name is not None else None
            return None, Issue(
                "GW-FILE-NAME-UNSAFE",
                f"The file name {record.source_name} cannot be taken: "
                f"{why or 'it holds control characters, a path separator or .., or is too long'}. "
                "The file was not read; rename it and send it again.",
            )
        try:
            limit = self.limits.max_file_bytes
            if entry.size > min(self.limits.max_xml_bytes, limit):
                head = route.transport.read_head(entry, SNIFF_BYTES)
                limit = size_limit(head, entry.name, self.limits, route.channel.format)
            if entry.size > limit:  # refused from its size: never read whole into memory
                raise LimitExceeded(
                    f"{record.source_name} is {entry.size:,} bytes; the gateway takes at most {limit:,} "
                    "bytes for a file of this format. Split it into smaller files.",
                    code="GW-FILE-TOO-LARGE",
                )
            return route.transport.read(entry, limit), None
        except InputError as err:
            return None, Issue(err.code, str(err), location=err.location)

    def _deliver(
        self, route: InboundRoute, records: Sequence[EnvelopeRecord], report: CycleReport
    ) -> dict[int, EnvelopeSummary]:
        """Render the outputs from the ledger, deliver them (the factor's first), record them."""
        self.ledger.verify()  # never deliver the outputs of a ledger that is no longer there
        rendered = self.flows[route.channel.id].render(self.ledger, records)
        factor = self.settings.factor.remittances.id
        for channel in sorted(rendered.files, key=lambda c: c != factor):
            self.outbound[channel].deliver(rendered.files[channel])
        failpoint("after-deliver")
        self.ledger.mark_delivered([r.id for r in records], rendered.deliveries)
        report.remittances += rendered.remittances
        report.delivered += [f.name for files in rendered.files.values() for f in files]
        failpoint("after-mark-delivered")
        return rendered.summaries

    def _finalize(
        self,
        route: InboundRoute,
        pairs: Sequence[tuple[Entry, EnvelopeRecord]],
        bdate: date,
        report: CycleReport,
        outputs: Mapping[int, EnvelopeSummary],
    ) -> None:
        settled = [r.id for _, r in pairs if r.delivered and not r.finalized and r.id not in outputs]
        summaries = dict(outputs)
        if settled:  # delivered in an earlier run that stopped before the archive move
            summaries.update(self.flows[route.channel.id].summaries(self.ledger, settled))
        moves: list[tuple[Entry, Finalization]] = []
        ids: list[int] = []
        channel = route.channel.id
        for entry, record in pairs:
            if record.finalized:
                # Same channel, path, size and mtime as a file already processed: the very
                # same file was put back. Keep it, out of the inbox, with the reason.
                moves.append((entry, Finalization(Outcome.REJECTED, bdate, _duplicate_reason(record))))
                report.rejected_files += 1
                shown = record.source_name
                report.add(FileOutcome(channel, shown, record.id, "already-processed", codes=_DUPLICATE))
                continue
            summary = summaries.get(record.id)
            counts = (summary.accepted, summary.rejected, summary.codes) if summary else (0, 0, ())
            if record.state is EnvelopeState.FAILED:
                report.failed_files += 1
                failure = (record.outcome_code,) if record.outcome_code else ()
                if record.attempts < MAX_ATTEMPTS:
                    report.add(FileOutcome(channel, record.source_name, record.id, "retrying", codes=failure))
                    continue  # stays in work/; the next cycle retries it
                moves.append((entry, Finalization(Outcome.FAILED, bdate, _reason(record, None))))
                report.add(FileOutcome(channel, record.source_name, record.id, "failed", codes=failure))
            elif not record.delivered:
                continue
            elif record.state is EnvelopeState.ACKNOWLEDGED:
                moves.append((entry, Finalization(Outcome.ARCHIVED, bdate)))
                report.assigned_files += 1
                report.add(FileOutcome(channel, record.source_name, record.id, "assigned", *counts))
            else:
                moves.append((entry, Finalization(Outcome.REJECTED, bdate, _reason(record, summary))))
                report.rejected_files += 1
                report.add(FileOutcome(channel, record.source_name, record.id, "refused", *counts))
            ids.append(record.id)
            if summary is not None:
                report.accepted_documents += summary.accepted
                report.rejected_documents += summary.rejected
        if not moves:
            return
        route.transport.finalize(moves)
        failpoint("after-finalize-move")
        if ids:
            self.ledger.mark_finalized(ids)


_DUPLICATE = ("GW-DUPLICATE-FILE",)


def _needs_decision(record: EnvelopeRecord) -> bool:
    if record.finalized:
        return False
    if record.state is EnvelopeState.FAILED:
        return record.attempts < MAX_ATTEMPTS
    return record.state in (EnvelopeState.RECEIVED, EnvelopeState.PARSED, EnvelopeState.VALIDATED)


def _decided(record: EnvelopeRecord) -> bool:
    return record.state in (EnvelopeState.ASSIGNED, EnvelopeState.ACKNOWLEDGED, EnvelopeState.REJECTED)


def _reason(record: EnvelopeRecord, summary: EnvelopeSummary | None) -> dict[str, object]:
    """The ``.reason.json`` beside a refused file: what a person needs to act on it."""
    reason: dict[str, object] = {
        "envelope_id": record.id,
        "client_id": record.client_id,
        "channel": record.channel,
        "source_name": record.source_name,
        "state": record.state.value,
        "code": record.outcome_code,
        "message": record.outcome_message,
        "business_date": record.business_date.isoformat() if record.business_date else None,
    }
    if summary is not None:
        reason.update(summary.reason_details)
    return reason


def _duplicate_reason(record: EnvelopeRecord) -> dict[str, object]:
    reason = _reason(record, None)
    reason["code"] = "GW-DUPLICATE-FILE"
    reason["message"] = (
        f"This exact file (same name, size and modification time) was already processed as envelope "
        f"{record.id}; it was not processed again."
    )
    return reason


def _internal_message(err: Exception) -> str:
    return (
        f"The gateway could not process this file because of an internal error ({type(err).__name__}); "
        "it will be retried."
    )
