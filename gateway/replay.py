"""``gateway replay``: take a finished file again, on an operator's word.

A file refused because the factor had not yet set up a debtor is fixed on the factor's
side; the client should not have to change its bytes to be heard again (the content
fingerprint would refuse the same bytes as ``GW-DUPLICATE-FILE``). The operator replays
it: the decision and its reason are recorded in the ledger, the fingerprint is forgotten,
the kept copy (archive/ or error/) is put back into the inbox and processed at once. The
business key still guards every receivable: what was assigned the first time is refused
as ``GW-DUPLICATE-INVOICE``, what was refused for a reason now fixed is assigned.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from gateway.errors import GatewayError
from gateway.ingest import CHANNEL_WAIT_SECONDS
from gateway.ledger.history import REPLAYABLE_STATES, EnvelopeHistory
from gateway.pipeline import CycleReport, InboundRoute, Pipeline
from gateway.transports.base import KeptFile
from gateway.transports.names import name_refusal, stored_name

log = logging.getLogger(__name__)


class ReplayRefused(GatewayError):
    """The envelope cannot be replayed; the message says why and what to do instead."""


@dataclass(frozen=True, slots=True)
class Replayed:
    envelope_id: int
    copy: KeptFile
    name: str  # the name it was put back into the inbox under
    report: CycleReport


def replay(pipeline: Pipeline, envelope_id: int, reason: str, actor: str) -> Replayed:
    """Check, record, put back and process (see the module docstring); :class:`ReplayRefused`
    before anything is changed when the envelope or its kept copy is not there."""
    if not reason.strip():
        raise ReplayRefused("a replay needs a reason (it is recorded in the ledger)")
    story = pipeline.ledger.history(envelope_id)
    if story is None:
        raise ReplayRefused(f"there is no envelope {envelope_id} in the ledger")
    record = story.record
    if not record.finalized or record.state not in REPLAYABLE_STATES:
        raise ReplayRefused(
            f"envelope {envelope_id} ({record.source_name}) is {record.state.value} and not finished; "
            "a file can be replayed once it is archived or in error/"
        )
    route = next((r for r in pipeline.inbound if r.channel.id == record.channel), None)
    if route is None:
        raise ReplayRefused(
            f"envelope {envelope_id} came in on channel {record.channel}, which is not in the configuration"
        )
    copy, data = _kept_copy(route, story, pipeline.limits.max_file_bytes)
    name = _inbox_name(record.source_name, story.stored_name)
    # Hold the channel from the deposit to the end: no cycle of another process may take the
    # copy before its fingerprint is forgotten (it would refuse it as GW-DUPLICATE-FILE).
    if not route.transport.acquire(CHANNEL_WAIT_SECONDS):
        raise ReplayRefused(
            f"channel {record.channel} is held by another process ({route.transport.holder()}); "
            "try again when its cycle is over"
        )
    try:
        entry = route.transport.deposit(name, data)
        pipeline.ledger.allow_replay(envelope_id, reason, actor)
        log.info("%s: envelope %d replayed from %s as %s", record.channel, envelope_id, copy.location, name)
        report = CycleReport(pipeline.business_date())
        pipeline.process_channel(route, report, [entry])
    finally:
        route.transport.release()
    for outcome in report.outcomes:
        if outcome.envelope_id is not None:
            pipeline.ledger.record_event(
                "replay-processed", actor, {"envelope_id": envelope_id, "replayed_as": outcome.envelope_id}
            )
    return Replayed(envelope_id, copy, name, report)


def _kept_copy(route: InboundRoute, story: EnvelopeHistory, max_bytes: int) -> tuple[KeptFile, bytes]:
    record = story.record
    day = story.record.business_date
    copies = [k for k in route.transport.kept(story.stored_name, story.size, day) if k.area != "work"]
    for copy in copies:
        data = route.transport.read_kept(copy, max_bytes)
        if record.content_sha256 is None or hashlib.sha256(data).hexdigest() == record.content_sha256:
            return copy, data
    looked = f"archive/{day:%Y/%m/%d}/ and error/" if day else "error/"
    raise ReplayRefused(
        f"the file of envelope {record.id} ({record.source_name}) is no longer where the gateway keeps it "
        f"(looked for {story.stored_name} in {looked} of channel {record.channel}); "
        "it cannot be replayed: ask the client to send it again"
    )


def _inbox_name(source_name: str, kept_name: str) -> str:
    """The name as the client sent it when it can be taken; else the name it was kept under."""
    if name_refusal(source_name) is None and stored_name(source_name) == kept_name:
        return source_name
    return kept_name
