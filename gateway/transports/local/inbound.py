"""An inbound folder on this machine: scan the inbox, claim into ``work/``, read, finalise.

:class:`LocalFolderInbound` is the transport the pipeline talks to; it holds the
channel lock and puts together the parts that each do one job: :class:`.InboxScan`
(readiness), :class:`.InboxWatcher` (early wake-ups), :class:`.OutcomeFolders`
(archive and error moves). Claiming, recovering and reading are its own: they are
the few steps that touch ``work/``.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from gateway.errors import ClaimLost, LimitExceeded, TransportError
from gateway.settings import LocalFolderSettings
from gateway.transports.base import Entry, Finalization, IgnoredFile
from gateway.transports.channel_lock import LOCK_NAME, FolderLock
from gateway.transports.local.files import remove_quietly, write_file
from gateway.transports.local.inbox_scan import InboxScan
from gateway.transports.local.outcomes import OutcomeFolders
from gateway.transports.local.watcher import InboxWatcher
from gateway.transports.names import checked_name, safe_name
from gateway.transports.os_errors import failing_as


class LocalFolderInbound:
    """An inbox folder on this machine (see :mod:`gateway.transports.local` for the layout)."""

    def __init__(
        self, channel: str, settings: LocalFolderSettings, *, clock: Callable[[], float] = time.time
    ) -> None:
        if settings.readiness not in ("stable", "rename", "closed"):
            raise ValueError(f"unknown readiness rule {settings.readiness!r} (stable, rename or closed)")
        self.channel = channel
        self.settings = settings
        root = Path(settings.root)
        self.inbox = root / "inbox"
        self.work = root / "work"
        self.archive = root / "archive"
        self.error = root / "error"
        with failing_as(TransportError, f"{channel}: cannot create the channel folders under {root}"):
            for folder in (self.inbox, self.work, self.archive, self.error):
                folder.mkdir(parents=True, exist_ok=True)
        self._lock = FolderLock(root / LOCK_NAME, TransportError, channel)
        self._watcher = InboxWatcher(channel, self.inbox)
        self._scan = InboxScan(channel, settings, self.inbox, clock, self._watcher.closed_after_write)
        self._outcomes = OutcomeFolders(channel, self.work, self.archive, self.error)

    # -- the channel lock ------------------------------------------------------------

    def acquire(self, wait_seconds: float = 0.0) -> bool:
        """Take this channel for this process (``root/.gateway-channel.lock``); ``False`` if another
        process holds it after ``wait_seconds``. Not counted: a second call while held returns
        ``True``, one :meth:`release` (or :meth:`close`) frees it. The kernel frees it if the
        process dies."""
        return self._lock.acquire(wait_seconds)

    def release(self) -> None:
        self._lock.release()

    def holder(self) -> str | None:
        """Who holds the channel ("pid 1234 on host x since 2026-12-02T11:00:00Z"), or ``None``."""
        return self._lock.holder()

    # -- scan ----------------------------------------------------------------------

    def scan(self) -> list[Entry]:
        """Ready files of the inbox, oldest first (mtime, then name).

        Symlinks, other non-regular files and files with unsafe names are moved
        to ``error/`` with a reason (never followed, never opened). Folders, dot
        files, temporary upload names and empty files still waiting are left alone,
        listed by :meth:`ignored` and logged once when left longer than
        ``report_after_seconds``. Under "stable" and "closed", an empty file unchanged
        for ``empty_after_seconds`` is returned (the pipeline refuses it as empty and
        tells the client), instead of waiting forever for content that never comes.
        """
        with self._failing(f"cannot scan the inbox {self.inbox}"):
            ready, quarantine = self._scan.scan()
        if quarantine:
            self._outcomes.quarantine(self.inbox, quarantine)
        return ready

    def ignored(self) -> list[IgnoredFile]:
        """What the last :meth:`scan` left in the inbox, and why, by name."""
        return self._scan.ignored()

    # -- claim, recover, read ------------------------------------------------------

    def claim(self, entry: Entry) -> Entry:
        """Rename the file into ``work/``; :class:`ClaimLost` if it is gone (another worker was faster)
        or if a file of that name is still in ``work/`` (it is left in the inbox for a later cycle).

        The two-step check then rename leaves a tiny window in which a second worker could
        claim a *new* file of the same name; channels are polled by one worker at a time.
        """
        name = checked_name(entry.name)
        source, target = self.inbox / self._scan.disk_name(name), self.work / name
        if os.path.lexists(target):
            raise ClaimLost(f"{name} is still in work/ from an earlier claim; it stays in the inbox")
        with self._failing(f"cannot claim {name} into {self.work}"):
            try:
                os.rename(source, target)
            except FileNotFoundError:
                if os.path.lexists(source):
                    raise  # work/ is missing, not the file
                raise ClaimLost(f"{name} is no longer in the inbox") from None
            self._scan.forget(name)
            info = target.stat(follow_symlinks=False)
        return Entry(self.channel, name, info.st_size, info.st_mtime_ns)

    def recover(self) -> list[Entry]:
        """Files claimed earlier and never finalised (a crash): to resume, oldest first.

        Only while this process holds the channel (:meth:`acquire`), else :class:`TransportError`:
        without the lock, the files in ``work/`` may be another live process's work in progress.
        Also removes the reason temporaries an interrupted finalize left in ``error/`` (they are
        ours: nobody else writes there while we hold the lock); that clean-up only logs its failures.
        """
        if not self._lock.held:
            raise TransportError(
                f"{self.channel}: recover() needs the channel lock {self._lock.path}; call acquire() "
                f"first (without it, the files in {self.work} may be another process's work in progress)"
            )
        self._outcomes.remove_reason_leftovers()
        found: list[Entry] = []
        with (
            self._failing(f"cannot list the claimed files in {self.work}"),
            os.scandir(self.work) as listing,
        ):
            for item in listing:
                try:
                    info = item.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if stat.S_ISREG(info.st_mode) and safe_name(item.name) == item.name:
                    found.append(Entry(self.channel, item.name, info.st_size, info.st_mtime_ns))
        found.sort(key=lambda e: (e.mtime_ns, e.name))
        return found

    def read(self, entry: Entry, max_bytes: int) -> bytes:
        """The content of a claimed file; :class:`LimitExceeded` above ``max_bytes`` (not read in full)."""
        path = self.work / checked_name(entry.name)
        with self._failing(f"cannot read {entry.name} in {self.work}"):
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            except FileNotFoundError:
                if not os.path.isdir(self.work):
                    raise  # work/ itself is gone: say so
                raise TransportError(
                    f"{entry.name} is not in work/ (it was not claimed, or was moved)"
                ) from None
            with os.fdopen(fd, "rb") as handle:
                if os.fstat(fd).st_size > max_bytes:
                    raise _too_large(entry.name, max_bytes)
                data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise _too_large(entry.name, max_bytes)
        return data

    def read_head(self, entry: Entry, size: int) -> bytes:
        """The first ``size`` bytes of a claimed file: enough to tell its format (and so its
        size limit) before the whole of it is read."""
        path = self.work / checked_name(entry.name)
        with self._failing(f"cannot read {entry.name} in {self.work}"):
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            try:
                return os.read(fd, size)
            finally:
                os.close(fd)

    def deposit(self, name: str, data: bytes, mtime_ns: int | None = None) -> Entry:
        """Put a file into the inbox as a well-behaved client does: written and synced under a
        hidden temporary name, then renamed in complete (``ingest``, the demo). Never replaces a
        file already waiting under that name."""
        target = self.inbox / checked_name(name)
        temporary = self.inbox / f".{name}.deposit-{os.getpid()}.part"
        with self._failing(f"cannot put {name} into {self.inbox}"):
            if os.path.lexists(target):
                raise TransportError(f"{self.channel}: {name} is already waiting in {self.inbox}")
            write_file(temporary, data, sync=True)
            try:
                if mtime_ns is not None:
                    os.utime(temporary, ns=(mtime_ns, mtime_ns))
                os.rename(temporary, target)
            finally:
                remove_quietly(temporary)
            info = target.stat()
        return Entry(self.channel, name, info.st_size, info.st_mtime_ns)

    # -- finalize, wait, close -----------------------------------------------------------

    def finalize(self, entries: Sequence[tuple[Entry, Finalization]]) -> None:
        """Move each claimed file to its dated archive folder or to ``error/`` (reason first);
        see :meth:`.OutcomeFolders.finalize` for the batching and what a failure leaves."""
        self._outcomes.finalize(entries)

    def wait(self, timeout: float) -> None:
        """Sleep up to ``timeout`` seconds; a file created or renamed into the inbox ends it early."""
        self._watcher.wait(timeout)

    def close(self) -> None:
        """Stop the watcher and release the channel."""
        self._watcher.close()
        self._lock.release()

    def _failing(self, doing: str) -> contextlib.AbstractContextManager[None]:
        return failing_as(TransportError, f"{self.channel}: {doing}")


def _too_large(name: str, max_bytes: int) -> LimitExceeded:
    return LimitExceeded(
        f"{name} is larger than the {max_bytes:,}-byte limit for one file", code="GW-FILE-TOO-LARGE"
    )
