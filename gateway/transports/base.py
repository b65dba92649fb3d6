"""The protocol every transport follows, and the values it passes around.

A transport moves bytes between the gateway and the outside (a local folder,
an SFTP server, memory in tests). It never looks inside a file; only
:mod:`gateway.pipeline` knows both the transport and the parser.

Inbound life of a file::

    acquire() -> bool            take the channel for this process (one process per channel folder)
    scan()  -> [Entry]           what is complete and waiting (readiness rules applied);
                                 ignored() then lists what stays in the inbox and why;
                                 settling() how long until what still settles may be ready
    claim(entry) -> Entry        take it (local: rename inbox/ -> work/); ClaimLost if gone
    read(entry)  -> bytes        its content (capped by Limits.max_file_bytes)
    finalize(entry, outcome)     after the ledger commit: archive/YYYY/MM/DD/ or error/ + .reason.json
    recover() -> [Entry]         entries claimed earlier but never finalised (crash): resume them;
                                 only while the channel is acquired (else TransportError)
    release() / close()          give the channel back

Outbound::

    deliver(files)               atomic per file (temp name, fsync, rename), durable on return,
                                 never overwrites a different file (identical content = already done)
    recover() -> [str]           remove temporaries of deliveries interrupted by a crash

Failures of the environment (a full disk, a folder that became a file) are raised as
``TransportError`` (inbound) or ``DeliveryError`` (outbound) saying what was being done,
the path and the reason; the file being processed stays where it was.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from gateway.transports.names import display_name


@dataclass(frozen=True, slots=True)
class Entry:
    """A file seen on a channel.

    ``name`` is the name the file is kept under (safe, see
    :func:`gateway.transports.names.stored_name`); ``size`` and ``mtime_ns`` come
    from the listing. Together with the channel they form the transport idempotency
    key. ``sent_name`` is the name as the client sent it, when it differs from
    ``name`` (raw: it may hold anything; show it through ``display_name``). A file
    recovered from ``work/`` after a crash no longer knows it.
    """

    channel: str
    name: str
    size: int
    mtime_ns: int
    sent_name: str | None = None

    @property
    def shown_name(self) -> str:
        """The name people see (ledger, acknowledgement, reports): as sent, escaped if need be."""
        return display_name(self.sent_name) if self.sent_name is not None else self.name

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
class IgnoredFile:
    """Something in the inbox that scan() does not return, and why: reported, never silent.

    A hidden file, a temporary upload name, a folder, or an empty file still waiting
    for its content would otherwise sit there forever without a word.
    """

    name: str  # as on disk, escaped (``repr``) when it holds unprintable characters
    reason: str  # plain words for the operator
    size: int
    age_seconds: float  # since its last modification


@dataclass(frozen=True, slots=True)
class KeptFile:
    """Where a taken file is now: ``area`` is ``work``, ``archive`` or ``error``; ``location`` the
    path under the channel root, for people (``archive/2025/03/10/x.csv``)."""

    area: str
    location: str


@dataclass(frozen=True, slots=True)
class OutboundFile:
    name: str
    data: bytes


class InboundTransport(Protocol):
    channel: str

    def acquire(self, wait_seconds: float = 0.0) -> bool:
        """Take this channel for this process (waiting up to ``wait_seconds``); ``False`` if another
        live process holds it. Held until :meth:`release` or :meth:`close`, or the process ends."""
        ...

    def release(self) -> None: ...

    def holder(self) -> str | None:
        """Who holds the channel ("pid 1234 on host x since 2026-12-02T11:00:00Z"), for messages."""
        ...

    def scan(self) -> list[Entry]: ...

    def ignored(self) -> list[IgnoredFile]:
        """What the last :meth:`scan` saw in the inbox and left there (see :class:`IgnoredFile`)."""
        ...

    def settling(self) -> float:
        """Seconds after the last :meth:`scan` until the files it left waiting for quiet (still
        being written, or just arrived) could be ready if unchanged; 0 when none waits."""
        ...

    def recover(self) -> list[Entry]:
        """Claimed and never finalised, oldest first; :class:`TransportError` unless acquired."""
        ...

    def claim(self, entry: Entry) -> Entry: ...

    def read(self, entry: Entry, max_bytes: int) -> bytes: ...

    def deposit(self, name: str, data: bytes, mtime_ns: int | None = None) -> Entry:
        """Put a complete file into the inbox (``ingest``, the demo); never replaces one."""
        ...

    def read_head(self, entry: Entry, size: int) -> bytes:
        """The first ``size`` bytes only (the format, and so the size limit, before the whole)."""
        ...

    def finalize(self, entries: Sequence[tuple[Entry, Finalization]]) -> None: ...

    def kept(self, name: str, size: int, day: date | None) -> list[KeptFile]:
        """Where a file taken under ``name`` (``size`` bytes, finalised on ``day``) is now: in
        ``work/``, the archive of that day or ``error/`` (``name`` or its ``name.N`` clash copies)."""
        ...

    def read_kept(self, kept: KeptFile, max_bytes: int) -> bytes:
        """The bytes of a kept file (``gateway replay``); :class:`LimitExceeded` above ``max_bytes``."""
        ...

    def wait(self, timeout: float) -> None:
        """Sleep up to ``timeout`` seconds, returning early if something arrived (a hint only)."""
        ...

    def close(self) -> None: ...


class OutboundTransport(Protocol):
    channel: str

    def deliver(self, files: Sequence[OutboundFile]) -> None: ...

    def recover(self) -> list[str]:
        """Remove what interrupted deliveries left (temporary files); the names removed."""
        ...

    def close(self) -> None: ...
