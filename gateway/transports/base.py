"""The protocol every transport follows, and the values it passes around.

A transport moves bytes between the gateway and the outside (a local folder,
an SFTP server, memory in tests). It never looks inside a file; only
:mod:`gateway.pipeline` knows both the transport and the parser.

Inbound life of a file::

    scan()  -> [Entry]           what is complete and waiting (readiness rules applied)
    claim(entry) -> Entry        take it (local: rename inbox/ -> work/); ClaimLost if gone
    read(entry)  -> bytes        its content (capped by Limits.max_file_bytes)
    finalize(entry, outcome)     after the ledger commit: archive/YYYY/MM/DD/ or error/ + .reason.json
    recover() -> [Entry]         entries claimed earlier but never finalised (crash): resume them

Outbound::

    deliver(files)               atomic per file (temp name, fsync, rename), durable on return,
                                 never overwrites a different file (identical content = already done)
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Entry:
    """A file seen on a channel.

    ``name`` is the file's path relative to the inbox (sanitised, ``/``
    separated); ``size`` and ``mtime_ns`` come from the listing. Together
    with the channel they form the transport idempotency key.
    """

    channel: str
    name: str
    size: int
    mtime_ns: int

    @property
    def transport_key(self) -> str:
        return f"{self.name}|{self.size}|{self.mtime_ns}"


class Outcome(enum.Enum):
    ARCHIVED = "archived"  # processed (accepted or rejected at document level): keep a dated copy
    REJECTED = "rejected"  # the file as a whole was refused: error area with a reason
    FAILED = "failed"  # our fault: error area with a reason, to be retried by an operator


@dataclass(frozen=True, slots=True)
class Finalization:
    """Where a processed file goes, and why (written as ``.reason.json`` for the error area)."""

    outcome: Outcome
    business_date: date
    reason: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class OutboundFile:
    name: str
    data: bytes


class InboundTransport(Protocol):
    channel: str

    def scan(self) -> list[Entry]: ...

    def recover(self) -> list[Entry]: ...

    def claim(self, entry: Entry) -> Entry: ...

    def read(self, entry: Entry, max_bytes: int) -> bytes: ...

    def finalize(self, entries: Sequence[tuple[Entry, Finalization]]) -> None: ...

    def wait(self, timeout: float) -> None:
        """Sleep up to ``timeout`` seconds, returning early if something arrived (a hint only)."""
        ...

    def close(self) -> None: ...


class OutboundTransport(Protocol):
    channel: str

    def deliver(self, files: Sequence[OutboundFile]) -> None: ...

    def close(self) -> None: ...
