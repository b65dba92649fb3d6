"""An inbound folder on this machine: scan the inbox, claim into ``work/``, read, finalise.

:class:`LocalFolderInbound` is the transport the pipeline talks to; it holds the
channel lock and puts together the parts that each do one job: :class:`.InboxScan`
(readiness), :class:`.InboxWatcher` (early wake-ups), :class:`.OutcomeFolders`
(archive and error moves). Claiming, recovering and reading are its own: they are
the few steps that touch ``work/``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import NoReturn

from gateway.errors import ClaimLost, LimitExceeded, TransportError
from gateway.settings import LocalFolderSettings
from gateway.transports.base import Entry, Finalization, IgnoredFile, KeptFile
from gateway.transports.channel_lock import LOCK_NAME, FolderLock
from gateway.transports.local.files import free_name, is_clash_copy, remove_quietly, write_file
from gateway.transports.local.inbox_scan import InboxScan
from gateway.transports.local.outcomes import OutcomeFolders
from gateway.transports.local.watcher import InboxWatcher
from gateway.transports.names import (
    checked_name,
    display_name,
    name_refusal,
    safe_name,
    sent_name,
    stored_name,
)
from gateway.transports.os_errors import failing_as

log = logging.getLogger(__name__)


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

    def settling(self) -> float:
        """Seconds after the last :meth:`scan` until the files it saw waiting for quiet could be
        ready (0 when none waits; see :meth:`.InboxScan.settling`)."""
        return self._scan.settling()

    # -- claim, recover, read ------------------------------------------------------

    def claim(self, entry: Entry) -> Entry:
        """Rename the file into ``work/``; :class:`ClaimLost` if it is gone (another worker was faster),
        if a file of that name is still in ``work/`` (it is left in the inbox for a later cycle), or
        if it changed since the scan judged it ready (it is put back into the inbox).

        Changed: the size or mtime seen right after the move differ from the scan's ``entry``: its
        writer wrote again after the quiet time. Processing it could take it half-written, under a
        transport key (name, size, mtime) that is not the one judged ready; so the move is undone
        (renamed back, never over a new file of that name: then under a free ``NAME.1`` name),
        logged as a WARNING, and its quiet time starts again at the next scan. This narrows the
        window to the instant of the move; a writer that still holds the file open and writes
        into it after the move is not seen (nothing on disk tells it), but it had then been
        silent for the whole quiet time before.

        The two-step check then rename leaves a tiny window in which a second worker could
        claim a *new* file of the same name; channels are polled by one worker at a time.
        """
        name = checked_name(entry.name)
        raw = entry.sent_name if entry.sent_name is not None else self._scan.disk_name(name)
        source, target = self.inbox / raw, self.work / name
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
        if (info.st_size, info.st_mtime_ns) != (entry.size, entry.mtime_ns):
            self._put_back(entry, source, target, info)
        return Entry(self.channel, name, info.st_size, info.st_mtime_ns, entry.sent_name)

    def _put_back(self, entry: Entry, source: Path, target: Path, info: os.stat_result) -> NoReturn:
        """Undo the claim of a file that changed since the scan judged it ready (see :meth:`claim`)."""
        with self._failing(f"cannot put {entry.name} back into the inbox (it changed after its scan)"):
            back = source
            if os.path.lexists(back):  # a new file took the name meanwhile: never overwrite it
                back = self.inbox / free_name(self.inbox, source.name)
            os.rename(target, back)
        self._scan.put_back(back.name, info)
        log.warning(
            "%s: %s changed after it was judged ready (%d bytes, mtime %d ns; then %d bytes, mtime %d ns): "
            "its writer is still writing; put back into the inbox%s, to be taken once unchanged for %g s",
            self.channel,
            entry.name,
            entry.size,
            entry.mtime_ns,
            info.st_size,
            info.st_mtime_ns,
            "" if back == source else f" as {back.name!r}",
            self.settings.stable_seconds,
        )
        raise ClaimLost(f"{entry.name} changed after it was judged ready; put back into the inbox")

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
        refusal = name_refusal(name)
        if refusal is not None:
            shown = display_name(name)
            raise TransportError(f"{self.channel}: {shown} cannot be put into the inbox: {refusal}")
        target = self.inbox / name
        temporary = self.inbox / f".{stored_name(name)}.deposit-{os.getpid()}.part"
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
        kept = stored_name(name)
        return Entry(self.channel, kept, info.st_size, info.st_mtime_ns, sent_name(name, kept))

    # -- what became of a file (gateway show, gateway replay) -----------------------------

    def kept(self, name: str, size: int, day: date | None) -> list[KeptFile]:
        checked_name(name)
        places = [("work", self.work), ("error", self.error)]
        if day is not None:
            places.insert(1, ("archive", self.archive / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"))
        found: list[KeptFile] = []
        root = self.work.parent
        with self._failing(f"cannot look for {name}"):
            for area, folder in places:
                if not folder.is_dir():
                    continue
                with os.scandir(folder) as listing:
                    for item in sorted(listing, key=lambda i: i.name):
                        if (area != "work" or item.name == name) and is_clash_copy(item.name, name):
                            info = item.stat(follow_symlinks=False)
                            if stat.S_ISREG(info.st_mode) and info.st_size == size:
                                found.append(KeptFile(area, Path(item.path).relative_to(root).as_posix()))
        return found

    def read_kept(self, kept: KeptFile, max_bytes: int) -> bytes:
        parts = kept.location.split("/")
        if parts[0] not in ("work", "archive", "error") or any(checked_name(p) != p for p in parts):
            raise TransportError(f"{self.channel}: {kept.location!r} is not a place of this channel")
        path = self.work.parent.joinpath(*parts)
        with self._failing(f"cannot read {kept.location}"):
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as handle:
                data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise _too_large(kept.location, max_bytes)
        return data

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
