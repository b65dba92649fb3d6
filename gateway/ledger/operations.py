"""The ledger's own bookkeeping: its identity, leases on shared work, and the event journal.

* **Identity**: a random id written once when the ledger is created (migration 0002).
  Working folders remember it, so a gateway started beside a replaced or empty
  ledger notices instead of numbering remittances again from 1.
* **Leases**: ``(name, holder, expiry)`` rows that let several processes share one
  ledger without working on the same channel at once. A lease is taken when free,
  expired, already ours, or held by a process of this host that no longer runs.
* **Events**: operator decisions and notable findings (an adopted ledger, keys an
  upgrade found assigned twice), in words, for audits and ``gateway status``.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update

from gateway.clock import utc_now
from gateway.errors import LedgerError
from gateway.ledger.engine import insert_or_skip
from gateway.ledger.schema import envelopes, leases, ledger_events, ledger_identity


def this_process() -> str:
    """How this process names itself as a lease holder: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def read_identity(conn: Connection) -> str:
    ledger_id = conn.execute(select(ledger_identity.c.ledger_id)).scalar_one_or_none()
    if ledger_id is None:
        raise LedgerError("the ledger has no identity row (ledger_identity is empty)")
    return str(ledger_id)


def has_envelopes(conn: Connection) -> bool:
    return conn.execute(select(envelopes.c.id).limit(1)).first() is not None


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    holder: str
    expires_at: datetime

    def describe(self) -> str:
        return f"{self.holder} until {self.expires_at.isoformat(timespec='seconds')}"


def take_lease(conn: Connection, name: str, holder: str, ttl_seconds: float) -> LeaseHolder | None:
    """Take or renew the lease ``name`` for ``holder``; ``None`` when taken, else who holds it."""
    now = utc_now()
    expires = now + timedelta(seconds=ttl_seconds)
    conn.execute(
        insert_or_skip(conn.dialect.name, leases)
        .values(name=name, holder=holder, acquired_at=now, expires_at=expires)
        .on_conflict_do_nothing(index_elements=[leases.c.name])
    )
    row = conn.execute(
        select(leases.c.holder, leases.c.expires_at).where(leases.c.name == name).with_for_update()
    ).one()
    current = LeaseHolder(row.holder, row.expires_at)
    if current.holder != holder and current.expires_at > now and not _dead_here(current.holder):
        return current
    values: dict[str, object] = {"holder": holder, "expires_at": expires}
    if current.holder != holder:
        values["acquired_at"] = now
    conn.execute(update(leases).where(leases.c.name == name).values(**values))
    return None


def drop_lease(conn: Connection, name: str, holder: str) -> None:
    conn.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))


def _dead_here(holder: str) -> bool:
    """A holder on this host whose process is gone (killed): its lease need not expire first."""
    host, _, pid_text = holder.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def add_event(conn: Connection, kind: str, actor: str, detail: dict[str, object]) -> None:
    conn.execute(
        insert(ledger_events).values(
            at=utc_now(), kind=kind, actor=actor, detail=json.dumps(detail, ensure_ascii=False, default=str)
        )
    )


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    at: datetime
    kind: str
    actor: str
    detail: dict[str, object]


def list_events(conn: Connection, limit: int = 50) -> list[LedgerEvent]:
    rows = conn.execute(
        select(ledger_events.c.at, ledger_events.c.kind, ledger_events.c.actor, ledger_events.c.detail)
        .order_by(ledger_events.c.id.desc())
        .limit(limit)
    )
    return [LedgerEvent(r.at, r.kind, r.actor, json.loads(r.detail)) for r in rows]
