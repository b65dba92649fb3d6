"""``gateway show``: everything the gateway knows about one file, in the order it happened.

Received (the envelope), decided (the file's verdict, each document's verdict and codes),
delivered (every output file with its hash), finalised, where the file is now, and the
operator's decisions about it (replays). The ledger is the record; the folders are looked
at only to say where the file is now.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from gateway.ledger import Ledger
from gateway.ledger.history import EnvelopeHistory
from gateway.transports.base import InboundTransport, KeptFile


def find_stories(ledger: Ledger, target: str) -> list[EnvelopeHistory]:
    """The envelopes ``target`` names: an envelope id, a file name (as sent or as kept), or the
    path of a file whose bytes the gateway has seen."""
    ids: list[int] = []
    if target.isdigit():
        ids.append(int(target))
    else:
        ids.extend(ledger.find_envelopes(Path(target).name))
        path = Path(target)
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            ids.extend(i for i in ledger.find_envelopes_with_content(digest) if i not in ids)
    stories = [ledger.history(i) for i in sorted(ids)]
    return [s for s in stories if s is not None]


def where_now(transport: InboundTransport | None, story: EnvelopeHistory) -> list[KeptFile]:
    """Where the file is now (``[]`` when it is in none of its channel's folders)."""
    if transport is None:
        return []
    return transport.kept(story.stored_name, story.size, story.record.business_date)


def story_dict(story: EnvelopeHistory, places: Sequence[KeptFile]) -> dict[str, object]:
    """The whole story as JSON-ready values (``show --json``)."""
    record = story.record
    ack = story.acknowledgement
    return {
        "envelope_id": record.id,
        "client_id": record.client_id,
        "channel": record.channel,
        "source_name": record.source_name,
        "kept_as": story.stored_name,
        "size": story.size,
        "content_sha256": record.content_sha256,
        "format": record.format,
        "state": record.state.value,
        "business_date": record.business_date.isoformat() if record.business_date else None,
        "received_at": story.received_at.isoformat(),
        "updated_at": story.updated_at.isoformat(),
        "delivered_at": story.delivered_at.isoformat() if story.delivered_at else None,
        "finalized_at": story.finalized_at.isoformat() if story.finalized_at else None,
        "attempts": record.attempts,
        "outcome": {"code": record.outcome_code, "message": record.outcome_message}
        if record.outcome_code
        else None,
        "remittance_number": story.remittance_number,
        "file_issues": [i.to_dict() for i in ack.file_issues] if ack else [],
        "documents": [
            {
                "location": line.location,
                "number": line.number,
                "type_code": line.type_code,
                "verdict": line.verdict.value,
                "amount": str(line.amount) if line.amount is not None else None,
                "currency": line.currency,
                "issues": [i.to_dict() for i in line.issues],
            }
            for line in (ack.lines if ack else ())
        ],
        "deliveries": [
            {"channel": d.channel, "name": d.name, "sha256": d.sha256, "size": d.size, "at": d.at.isoformat()}
            for d in story.deliveries
        ],
        "now_at": [{"area": p.area, "location": p.location} for p in places],
        "events": [
            {"at": e.at.isoformat(), "kind": e.kind, "actor": e.actor, "detail": e.detail}
            for e in story.events
        ],
    }
