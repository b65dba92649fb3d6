"""One file's story as the ledger holds it (``gateway show``), and the operator's replay.

Kept apart from the ledger's hot paths: nothing here runs in a cycle. A replay is the one
place where the gateway forgets a content fingerprint: the file-level duplicate check exists
to stop a client's accidental re-send, and a replay is an operator's deliberate one. The
business key still stands, so a replayed file can never assign a receivable a second time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, or_, select

from gateway.errors import LedgerError
from gateway.ledger import operations, readback
from gateway.ledger.records import EnvelopeRecord, EnvelopeState
from gateway.ledger.schema import content_fingerprints, deliveries, envelopes, ledger_events, remittances
from gateway.model import Acknowledgement

#: Envelopes a replay may take again: decided and finalised, or failed for good and parked.
REPLAYABLE_STATES = (EnvelopeState.ACKNOWLEDGED, EnvelopeState.REJECTED, EnvelopeState.FAILED)


@dataclass(frozen=True, slots=True)
class DeliveredFile:
    channel: str
    name: str
    sha256: str
    size: int
    at: datetime


@dataclass(frozen=True, slots=True)
class EnvelopeHistory:
    """Received, decided, delivered, finalised: the times, the verdicts and the outputs."""

    record: EnvelopeRecord
    received_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
    finalized_at: datetime | None
    remittance_number: int | None
    acknowledgement: Acknowledgement | None  # None while undecided
    deliveries: tuple[DeliveredFile, ...]
    events: tuple[operations.LedgerEvent, ...]  # replays and other operator decisions about it

    @property
    def stored_name(self) -> str:
        """The name the file was kept under (its transport key is ``name|size|mtime``)."""
        return self.record.transport_key.rsplit("|", 2)[0]

    @property
    def size(self) -> int:
        return int(self.record.transport_key.rsplit("|", 2)[1])


def find_envelopes(conn: Connection, name: str) -> list[int]:
    """Ids of the envelopes of a file, by the name it was sent or kept under, oldest first."""
    query = (
        select(envelopes.c.id)
        .where(
            or_(
                envelopes.c.source_name == name,
                envelopes.c.transport_key.startswith(f"{name}|", autoescape=True),
            )
        )
        .order_by(envelopes.c.id)
    )
    # startswith matches "name|..." only: a kept name never holds "|", so no longer name matches.
    return [row.id for row in conn.execute(query)]


def find_envelopes_with_content(conn: Connection, content_sha256: str) -> list[int]:
    query = (
        select(envelopes.c.id).where(envelopes.c.content_sha256 == content_sha256).order_by(envelopes.c.id)
    )
    return [row.id for row in conn.execute(query)]


def read_history(conn: Connection, envelope_id: int) -> EnvelopeHistory | None:
    row = conn.execute(select(envelopes).where(envelopes.c.id == envelope_id)).first()
    if row is None:
        return None
    record = readback.envelope_record(row)
    decided = record.state in (EnvelopeState.ACKNOWLEDGED, EnvelopeState.REJECTED, EnvelopeState.ASSIGNED)
    number = conn.execute(
        select(remittances.c.number).where(remittances.c.envelope_id == envelope_id)
    ).scalar_one_or_none()
    delivered = conn.execute(
        select(deliveries).where(deliveries.c.envelope_id == envelope_id).order_by(deliveries.c.id)
    )
    return EnvelopeHistory(
        record=record,
        received_at=row.received_at,
        updated_at=row.updated_at,
        delivered_at=row.delivered_at,
        finalized_at=row.finalized_at,
        remittance_number=number,
        acknowledgement=readback.load_outputs(conn, [envelope_id])[envelope_id].acknowledgement
        if decided
        else None,
        deliveries=tuple(
            DeliveredFile(d.channel, d.name, d.sha256, d.size, d.delivered_at) for d in delivered
        ),
        events=tuple(_events_about(conn, envelope_id)),
    )


def _events_about(conn: Connection, envelope_id: int) -> list[operations.LedgerEvent]:
    rows = conn.execute(
        select(ledger_events)
        .where(ledger_events.c.kind.in_(("replay", "replay-processed")))
        .order_by(ledger_events.c.id)
    )
    found = []
    for row in rows:
        detail = json.loads(row.detail)
        if envelope_id in (detail.get("envelope_id"), detail.get("replayed_as")):
            found.append(operations.LedgerEvent(row.at, row.kind, row.actor, detail))
    return found


def allow_replay(conn: Connection, envelope_id: int, reason: str, actor: str) -> EnvelopeRecord:
    """Forget the content fingerprint of a finished envelope so that its bytes may be taken
    again, and record who decided it and why. :class:`LedgerError` when the envelope is unknown
    or not finished (its file is still being processed)."""
    row = conn.execute(select(envelopes).where(envelopes.c.id == envelope_id)).first()
    if row is None:
        raise LedgerError(f"there is no envelope {envelope_id} in the ledger")
    record = readback.envelope_record(row)
    if not record.finalized or record.state not in REPLAYABLE_STATES:
        raise LedgerError(
            f"envelope {envelope_id} ({record.source_name}) is {record.state.value} and not finished: "
            "its file is still being processed; replay it once it is archived or in error/"
        )
    if record.content_sha256 is not None:
        conn.execute(
            delete(content_fingerprints).where(
                content_fingerprints.c.client_id == record.client_id,
                content_fingerprints.c.content_sha256 == record.content_sha256,
            )
        )
    operations.add_event(
        conn,
        "replay",
        actor,
        {
            "envelope_id": envelope_id,
            "client_id": record.client_id,
            "channel": record.channel,
            "source_name": record.source_name,
            "content_sha256": record.content_sha256,
            "reason": reason,
        },
    )
    return record
