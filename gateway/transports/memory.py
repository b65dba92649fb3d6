"""In-memory transports for tests, with the local folder's semantics.

Like httpx's ``MockTransport``: the pipeline runs unchanged while a test drops
files with :meth:`MemoryInbound.drop` and looks at :attr:`MemoryInbound.archived`,
:attr:`MemoryInbound.errors` and :attr:`MemoryOutbound.files`. The folders live
in a :class:`MemoryFolders` object that outlives the transport, so a test can
"restart" (``MemoryInbound(channel, folders=old.folders)``) and see what a
crash left in ``work``.

The channel lock lives in the :class:`MemoryFolders` too, so two transports on the
same folders exclude each other as two processes on one folder do. Like the kernel's
``flock`` for a killed process, a transport that is garbage-collected (``del`` in a
test: "the process died") no longer holds it.
"""

from __future__ import annotations

import itertools
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from gateway.errors import ClaimLost, DeliveryError, LimitExceeded, TransportError
from gateway.transports.base import Entry, Finalization, IgnoredFile, KeptFile, OutboundFile, Outcome
from gateway.transports.channel_lock import POLL_SECONDS, this_process
from gateway.transports.local.files import is_clash_copy
from gateway.transports.names import safe_name, sent_name, stored_name


@dataclass(frozen=True, slots=True)
class StoredFile:
    data: bytes
    mtime_ns: int
    business_date: date | None = None
    reason: dict[str, object] | None = None


@dataclass
class MemoryLock:
    """The channel lock of a :class:`MemoryFolders`: which transport holds it (weakly), since when."""

    owner: weakref.ref[object] | None = None
    description: str | None = None

    def holder(self) -> object | None:
        return self.owner() if self.owner is not None else None


@dataclass
class MemoryFolders:
    """The four folders of a channel; archive and error are flat (name with ``.1``... on a clash)."""

    inbox: dict[str, StoredFile] = field(default_factory=dict)
    work: dict[str, StoredFile] = field(default_factory=dict)
    archive: dict[str, StoredFile] = field(default_factory=dict)
    error: dict[str, StoredFile] = field(default_factory=dict)
    lock: MemoryLock = field(default_factory=MemoryLock)


_ticks = itertools.count(1)


class MemoryInbound:
    def __init__(self, channel: str, *, folders: MemoryFolders | None = None) -> None:
        self.channel = channel
        self.folders = folders if folders is not None else MemoryFolders()

    @property
    def archived(self) -> dict[str, StoredFile]:
        return self.folders.archive

    @property
    def errors(self) -> dict[str, StoredFile]:
        return self.folders.error

    def acquire(self, wait_seconds: float = 0.0) -> bool:
        """Take the folders' lock (see the module docstring); not counted, like the local folder's."""
        deadline = time.monotonic() + max(0.0, wait_seconds)
        while (holder := self.folders.lock.holder()) not in (None, self):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(POLL_SECONDS, remaining))
        if holder is None:
            self.folders.lock = MemoryLock(weakref.ref(self), this_process(time.time()))
        return True

    def release(self) -> None:
        if self.folders.lock.holder() is self:
            self.folders.lock = MemoryLock()

    def holder(self) -> str | None:
        return self.folders.lock.description if self.folders.lock.holder() is not None else None

    def drop(self, name: str, data: bytes, mtime_ns: int | None = None) -> None:
        """What a client's upload does: the file appears, complete, in the inbox."""
        stamp = mtime_ns if mtime_ns is not None else time.time_ns() + next(_ticks)
        self.folders.inbox[name] = StoredFile(data, stamp)

    def deposit(self, name: str, data: bytes, mtime_ns: int | None = None) -> Entry:
        """The protocol's way in (``ingest``, the demo): a drop that never replaces a waiting file."""
        if name in self.folders.inbox:
            raise TransportError(f"{self.channel}: {name} is already waiting in the inbox")
        self.drop(name, data, mtime_ns)
        return Entry(self.channel, name, len(data), self.folders.inbox[name].mtime_ns)

    def scan(self) -> list[Entry]:
        """Every inbox file (a drop is complete at once), under the name it is kept under
        (:func:`stored_name`; the name as sent rides along in ``sent_name``)."""
        entries = []
        for raw, file in self.folders.inbox.items():
            name = stored_name(raw)
            entries.append(Entry(self.channel, name, len(file.data), file.mtime_ns, sent_name(raw, name)))
        return sorted(entries, key=lambda e: (e.mtime_ns, e.name))

    def ignored(self) -> list[IgnoredFile]:
        """Nothing: a drop is complete at once."""
        return []

    def settling(self) -> float:
        """Nothing settles: a drop is complete at once."""
        return 0.0

    def recover(self) -> list[Entry]:
        if self.folders.lock.holder() is not self:
            raise TransportError(f"{self.channel}: recover() needs the channel lock; call acquire() first")
        entries = [Entry(self.channel, n, len(f.data), f.mtime_ns) for n, f in self.folders.work.items()]
        return sorted(entries, key=lambda e: (e.mtime_ns, e.name))

    def claim(self, entry: Entry) -> Entry:
        if entry.name in self.folders.work:
            raise ClaimLost(f"{entry.name} is still in work/ from an earlier claim; it stays in the inbox")
        raw = entry.sent_name
        if raw is None:  # kept under its own name, perhaps typed with decomposed accents
            raw = next((n for n in self.folders.inbox if stored_name(n) == entry.name), entry.name)
        file = self.folders.inbox.pop(raw, None)
        if file is None:
            raise ClaimLost(f"{entry.shown_name} is no longer in the inbox")
        self.folders.work[entry.name] = file
        return Entry(self.channel, entry.name, len(file.data), file.mtime_ns, entry.sent_name)

    def read(self, entry: Entry, max_bytes: int) -> bytes:
        file = self.folders.work.get(entry.name)
        if file is None:
            raise TransportError(f"{entry.name} is not in work/ (it was not claimed, or was moved)")
        if len(file.data) > max_bytes:
            message = f"{entry.name} is larger than the {max_bytes:,}-byte limit for one file"
            raise LimitExceeded(message, code="GW-FILE-TOO-LARGE")
        return file.data

    def read_head(self, entry: Entry, size: int) -> bytes:
        file = self.folders.work.get(entry.name)
        if file is None:
            raise TransportError(f"{entry.name} is not in work/ (it was not claimed, or was moved)")
        return file.data[:size]

    def finalize(self, entries: Sequence[tuple[Entry, Finalization]]) -> None:
        missing: list[str] = []
        for entry, finalization in entries:
            file = self.folders.work.pop(entry.name, None)
            if file is None:
                missing.append(entry.name)
            elif finalization.outcome is Outcome.ARCHIVED:
                stored = StoredFile(file.data, file.mtime_ns, finalization.business_date)
                self.folders.archive[_free(self.folders.archive, entry.name)] = stored
            else:
                reason = {"outcome": finalization.outcome.value, **(finalization.reason or {})}
                self._park(entry.name, file, reason, finalization.business_date)
        if missing:
            raise TransportError(f"not in work/, cannot finalise: {', '.join(missing)}")

    def kept(self, name: str, size: int, day: date | None) -> list[KeptFile]:
        found = []
        claimed = self.folders.work.get(name)
        if claimed is not None and len(claimed.data) == size:
            found.append(KeptFile("work", f"work/{name}"))
        for area, folder in (("archive", self.folders.archive), ("error", self.folders.error)):
            for candidate, file in folder.items():
                if is_clash_copy(candidate, name) and len(file.data) == size:
                    if area == "archive" and day is not None and file.business_date != day:
                        continue
                    found.append(KeptFile(area, f"{area}/{candidate}"))
        return found

    def read_kept(self, kept: KeptFile, max_bytes: int) -> bytes:
        area, _, name = kept.location.partition("/")
        folders = {"work": self.folders.work, "archive": self.folders.archive, "error": self.folders.error}
        file = folders.get(area, {}).get(name)
        if file is None:
            raise TransportError(f"{self.channel}: {kept.location} is no longer there")
        if len(file.data) > max_bytes:
            raise LimitExceeded(
                f"{kept.location} is larger than {max_bytes:,} bytes", code="GW-FILE-TOO-LARGE"
            )
        return file.data

    def _park(self, name: str, file: StoredFile, reason: dict[str, object], day: date | None) -> None:
        parked = StoredFile(file.data, file.mtime_ns, day, reason)
        self.folders.error[_free(self.folders.error, name)] = parked

    def wait(self, timeout: float) -> None:
        """Returns at once: tests drive the cycles themselves."""

    def close(self) -> None:
        """Release the channel."""
        self.release()


class MemoryOutbound:
    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.files: dict[str, bytes] = {}

    def deliver(self, files: Sequence[OutboundFile]) -> None:
        """Same rules as the local folder: safe names, identical re-delivery skipped, never overwrite."""
        batch: dict[str, bytes] = {}
        for file in files:
            if safe_name(file.name) != file.name:
                raise DeliveryError(f"{self.channel}: refusing unsafe output name {file.name!r}")
            if self.files.get(file.name, file.data) != file.data:
                raise DeliveryError(
                    f"{self.channel}: {file.name} already exists with different content; not overwritten"
                )
            if batch.setdefault(file.name, file.data) != file.data:
                raise DeliveryError(f"{self.channel}: two different files named {file.name} in one delivery")
        self.files.update(batch)

    def recover(self) -> list[str]:
        """Nothing to clean: a memory delivery is never half done."""
        return []

    def close(self) -> None:
        """Nothing to release."""


def _free(folder: dict[str, StoredFile], name: str) -> str:
    candidate, counter = name, 0
    while candidate in folder:
        counter += 1
        candidate = f"{name}.{counter}"
    return candidate
