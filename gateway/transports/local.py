"""Local folder channels: a client's drop folder in, a partner's folder out.

Inbound layout under ``root``::

    inbox/               the client drops files here (top level only)
    work/                claimed: renamed here before anything reads them
    archive/YYYY/MM/DD/  processed, filed under the business date
    error/               refused or failed, each with NAME.reason.json beside it

Nothing is ever deleted or overwritten: every move is a ``rename`` inside one
file system (atomic: after a crash the file is in one place or the other), and
a name already taken gets a ``.1``, ``.2`` ... suffix. A claim is not fsynced:
if power fails, the rename may be undone and the file shows in ``inbox/`` again,
where the ledger's transport key (name, size, mtime, unchanged by a rename)
recognises it. Archive and error moves are made durable once per
:meth:`LocalFolderInbound.finalize` call (one fsync per directory, not per file).

The periodic scan is the truth. watchdog only shortens :meth:`~LocalFolderInbound.wait`;
events are lost on network shares and when the queue overflows, and nothing
depends on them.

One process per inbound channel: :meth:`LocalFolderInbound.acquire` takes an
exclusive lock on ``root/.gateway-channel.lock`` (see :mod:`.channel_lock`), and
:meth:`~LocalFolderInbound.recover` refuses to run without it, because without it
the files in ``work/`` may be another process's work in progress.

Nothing stays without a word: what the scan leaves in the inbox is listed by
:meth:`~LocalFolderInbound.ignored` and logged once; temporaries of an interrupted
finalize or delivery are removed by ``recover()``; an ``OSError`` becomes a
``TransportError`` or ``DeliveryError`` naming the step, the path and the reason
(:mod:`.os_errors`), and the file being processed stays where it was.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import re
import stat
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from gateway.errors import ClaimLost, DeliveryError, GatewayError, LimitExceeded, TransportError
from gateway.settings import LocalFolderSettings
from gateway.transports.base import Entry, Finalization, IgnoredFile, OutboundFile, Outcome
from gateway.transports.channel_lock import LOCK_NAME, FolderLock, process_alive
from gateway.transports.names import display_name, quarantine_name, safe_name
from gateway.transports.os_errors import explain, failing_as

log = logging.getLogger(__name__)

#: Names writers use while a file is still being uploaded; never picked, whatever the readiness rule.
TEMPORARY_SUFFIXES = (".part", ".tmp", ".filepart", ".crdownload")
REASON_SUFFIX = ".reason.json"
_WAKING_EVENTS = frozenset({"created", "moved", "closed"})
#: What an interrupted finalize leaves in ``error/``: ``.NAME.reason.json.tmp-PID``.
_REASON_LEFTOVER = re.compile(r"\..+\.reason\.json\.tmp-\d+")
#: What an interrupted delivery leaves in an outbound folder: ``.NAME.tmp-PID``.
_DELIVERY_LEFTOVER = re.compile(r"\..+\.tmp-(?P<pid>\d+)")
#: A delivery takes seconds: a temporary this old is a leftover, whichever host wrote it.
LEFTOVER_AFTER_SECONDS = 3600.0


def fsync_directory(path: Path) -> None:
    """Make the renames and creations inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(path: Path, data: bytes, *, sync: bool) -> None:
    """Write ``data`` to a new temporary ``path`` (the caller renames it into place)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o640)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def _load_syncfs() -> Callable[[int], int] | None:
    """Linux ``syncfs(2)``: flush one file system, synchronously (write-back errors reported since 5.8)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return cast("Callable[[int], int]", function)


_SYNCFS = _load_syncfs()
#: From this many new files on, one ``syncfs`` of the folder's file system replaces one fsync per file.
BATCHED_SYNC_FROM = 4


def batched_sync(count: int) -> bool:
    """Whether ``count`` files written together are better made durable by one ``syncfs``.

    Measured on this project's ext4 volume, 1,000 files of 180 bytes: one fsync each
    took 0.44-1.5 s, one ``syncfs`` (or ``os.sync``) 60-150 ms. ``os.sync`` is not used:
    it flushes every file system of the machine, and POSIX lets it return before the
    data is written (macOS does). Below a handful of files, per-file fsync costs the same
    and does not wait for other writers' dirty data on the same file system.
    """
    return _SYNCFS is not None and count >= BATCHED_SYNC_FROM


def sync_file_system(folder: Path) -> None:
    """One ``syncfs`` for the file system holding ``folder`` (only when :func:`batched_sync`)."""
    if _SYNCFS is None:
        raise RuntimeError("syncfs is not available here; check batched_sync() first")
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if _SYNCFS(fd) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code), str(folder))
    finally:
        os.close(fd)


def free_name(directory: Path, name: str, planned: Collection[Path] = ()) -> str:
    """``name``, or ``name.1``, ``name.2`` ... whichever is not taken in ``directory``
    (nor ``planned`` by the batch being prepared)."""
    candidate, counter = name, 0
    while os.path.lexists(directory / candidate) or directory / candidate in planned:
        counter += 1
        candidate = f"{name}.{counter}"
    return candidate


@dataclass(frozen=True, slots=True)
class _Observation:
    size: int
    mtime_ns: int
    since: float  # clock time when this size and mtime were first seen


_Key = tuple[str, int, int]  # name on disk, size, mtime_ns: one version of one file


@dataclass
class _Listing:
    """What one scan found; applied once the listing is complete."""

    now: float
    ready: list[Entry] = field(default_factory=list)
    left: list[tuple[_Key, IgnoredFile]] = field(default_factory=list)
    quarantine: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # safe names of the regular files


class _Problems:
    """What went wrong in a batch, raised once the rest of the batch went through."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.cause: OSError | None = None

    def add(self, doing: str, err: OSError | None = None) -> None:
        self.messages.append(doing if err is None else f"{doing}: {explain(err)}")
        self.cause = self.cause or err

    def raise_if_any(self, error: type[GatewayError], channel: str) -> None:
        if self.messages:
            raise error(f"{channel}: {'; '.join(self.messages)}") from self.cause


@dataclass(frozen=True, slots=True)
class _Reason:
    temporary: Path
    final: Path
    data: bytes


@dataclass(frozen=True, slots=True)
class _Move:
    name: str
    source: Path
    target: Path
    reason: _Reason | None = None  # error area: written, then renamed into place just before the file


class LocalFolderInbound:
    """An inbox folder on this machine (see the module docstring for the layout)."""

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
        self._clock = clock
        self._observed: dict[str, _Observation] = {}
        self._raw_names: dict[str, str] = {}  # safe name -> name on disk (differs only by NFC)
        self._ignored: list[IgnoredFile] = []
        self._reported: set[_Key] = set()  # left in the inbox and already logged
        self._wake = threading.Event()
        self._closed_after_write: dict[str, int] = {}  # raw name -> time.time_ns() of its last IN_CLOSE_WRITE
        self._observer: Any = None
        self._watch_failed = False

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
        found = _Listing(self._clock())
        with (
            self._failing(f"cannot scan the inbox {self.inbox}"),
            os.scandir(self.inbox) as listing,
        ):
            for item in listing:
                self._look_at(item, found)
        self._forget_unseen(found)
        self._ignored = sorted((file for _, file in found.left), key=lambda f: f.name)
        self._report(found.left)
        if found.quarantine:
            self._quarantine(found.quarantine)
        found.ready.sort(key=lambda e: (e.mtime_ns, e.name))
        return found.ready

    def ignored(self) -> list[IgnoredFile]:
        """What the last :meth:`scan` left in the inbox, and why, by name."""
        return list(self._ignored)

    def _look_at(self, item: os.DirEntry[str], found: _Listing) -> None:
        raw = item.name
        try:
            info = item.stat(follow_symlinks=False)
        except FileNotFoundError:
            return  # taken or removed since the listing
        never = _never_taken(raw, info)
        if never is not None:
            found.left.append(_left(raw, never, info, found.now))
        elif not stat.S_ISREG(info.st_mode):
            found.quarantine.append((raw, self._not_regular_reason(raw, info)))
        elif (name := safe_name(raw)) is None:
            found.quarantine.append((raw, {"code": "GW-FILE-NAME-UNSAFE", "name": repr(raw)}))
        else:
            found.seen.add(name)
            self._raw_names[name] = raw
            if self._is_ready(name, info, found.now):
                found.ready.append(Entry(self.channel, name, info.st_size, info.st_mtime_ns))
            elif info.st_size == 0:
                wait = f"{self.settings.empty_after_seconds:g} seconds"
                reason = f"empty file: taken (and refused as empty) once unchanged for {wait}"
                found.left.append(_left(raw, reason, info, found.now))

    def _forget_unseen(self, found: _Listing) -> None:
        self._observed = {k: v for k, v in self._observed.items() if k in found.seen}
        self._raw_names = {k: v for k, v in self._raw_names.items() if k in found.seen}
        for raw in [r for r in list(self._closed_after_write) if safe_name(r) not in found.seen]:
            self._closed_after_write.pop(raw, None)

    def _report(self, left: Sequence[tuple[_Key, IgnoredFile]]) -> None:
        """One WARNING per file (per version of it, per process) once left for ``report_after_seconds``."""
        self._reported &= {key for key, _ in left}  # gone or changed: forgotten
        for key, file in left:
            if key not in self._reported and file.age_seconds >= self.settings.report_after_seconds:
                self._reported.add(key)
                log.warning(
                    "%s: %s/%s has been left in the inbox for %s: %s",
                    self.channel,
                    self.inbox,
                    file.name,
                    _duration(file.age_seconds),
                    file.reason,
                )

    def _is_ready(self, name: str, info: os.stat_result, now: float) -> bool:
        if self.settings.readiness == "rename":
            return True
        if self.settings.readiness == "closed" and info.st_size > 0:
            # The writer closed the file after its last modification (inotify IN_CLOSE_WRITE,
            # only while the watcher runs): complete now. Otherwise the "stable" rule applies.
            closed_ns = self._closed_after_write.get(self._raw_names.get(name, name))
            if closed_ns is not None and closed_ns >= info.st_mtime_ns:
                return True
        unchanged = self._unchanged_for(name, info, now)
        wait = self.settings.stable_seconds
        if info.st_size == 0:
            wait = max(wait, self.settings.empty_after_seconds)
        return unchanged is not None and unchanged >= wait

    def _unchanged_for(self, name: str, info: os.stat_result, now: float) -> float | None:
        """Seconds both this process and the file's mtime say it has not changed; ``None`` on the
        first sighting of this size and mtime (readiness always takes two looks)."""
        previous = self._observed.get(name)
        if previous is None or (previous.size, previous.mtime_ns) != (info.st_size, info.st_mtime_ns):
            self._observed[name] = _Observation(info.st_size, info.st_mtime_ns, now)
            return None
        return now - max(previous.since, info.st_mtime_ns / 1e9)

    def _not_regular_reason(self, raw: str, info: os.stat_result) -> dict[str, object]:
        if stat.S_ISLNK(info.st_mode):
            try:
                target = os.readlink(self.inbox / raw)
            except OSError:
                target = "?"
            return {
                "code": "GW-FILE-SYMLINK",
                "name": repr(raw),
                "target": target,
                "message": "Symbolic links are not followed; send the file itself.",
            }
        return {
            "code": "GW-FILE-NOT-REGULAR",
            "name": repr(raw),
            "mode": oct(info.st_mode),
            "message": "Only regular files are taken from the inbox.",
        }

    def _quarantine(self, items: Sequence[tuple[str, dict[str, object]]]) -> None:
        """Park what must not be processed in ``error/``, so that nothing is lost or retried forever.

        If ``error/`` cannot take it, :class:`TransportError` says so and the file stays in
        the inbox (taken again at the next scan once the folder is repaired)."""
        for raw, reason in items:
            source = self.inbox / raw
            doing = f"{self.channel}: cannot move {reason['name']} from {self.inbox} to {self.error}"
            with failing_as(TransportError, doing):
                try:
                    self._move_to_error(source, safe_name(raw) or quarantine_name(raw), reason)
                except FileNotFoundError:
                    if os.path.lexists(source):
                        raise  # the error area is missing, not the file
                    continue  # taken or removed since the listing
            log.warning("%s: %s moved to error/: %s", self.channel, reason["name"], reason["code"])
        with self._failing(f"cannot make the moves to {self.error} durable"):
            fsync_directory(self.error)
            fsync_directory(self.inbox)

    # -- claim, recover, read ------------------------------------------------------

    def claim(self, entry: Entry) -> Entry:
        """Rename the file into ``work/``; :class:`ClaimLost` if it is gone (another worker was faster)
        or if a file of that name is still in ``work/`` (it is left in the inbox for a later cycle).

        The two-step check then rename leaves a tiny window in which a second worker could
        claim a *new* file of the same name; channels are polled by one worker at a time.
        """
        name = _checked(entry.name)
        raw = self._raw_names.get(name, name)
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
            self._observed.pop(name, None)
            self._raw_names.pop(name, None)
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
        self._remove_reason_leftovers()
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

    def _remove_reason_leftovers(self) -> None:
        """Housekeeping: its failures are logged, they do not stop the recovery of ``work/``."""
        try:
            _, problems = remove_leftovers(self.channel, self.error, _is_reason_leftover)
        except OSError as err:
            problems = [f"cannot look for leftovers in {self.error}: {explain(err)}"]
        for problem in problems:
            log.warning("%s: %s", self.channel, problem)

    def read(self, entry: Entry, max_bytes: int) -> bytes:
        """The content of a claimed file; :class:`LimitExceeded` above ``max_bytes`` (not read in full)."""
        path = self.work / _checked(entry.name)
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
        path = self.work / _checked(entry.name)
        with self._failing(f"cannot read {entry.name} in {self.work}"):
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            try:
                return os.read(fd, size)
            finally:
                os.close(fd)

    # -- finalize --------------------------------------------------------------------

    def finalize(self, entries: Sequence[tuple[Entry, Finalization]]) -> None:
        """Move each claimed file to its dated archive folder or to ``error/`` (reason first).

        Batched, not per file: every reason is written under a temporary name, all of
        them are synced together, then each reason is renamed into place just before its
        file; finally one fsync per folder touched (destinations and ``work/``).

        A file that is missing from ``work/``, or whose move fails (an archive path that is
        a file, a full error area), does not stop the others: it stays in ``work/``, with no
        temporary left behind, and one :class:`TransportError` naming every such file and
        why is raised after the rest moved.
        """
        problems = _Problems()
        moves, touched = self._plan(entries, problems)
        for move in self._write_reasons(moves, problems):
            self._apply(move, problems)
        for folder in sorted(touched):
            try:
                fsync_directory(folder)
            except OSError as err:
                problems.add(f"cannot make the moves in {folder} durable", err)
        problems.raise_if_any(TransportError, self.channel)

    def _plan(
        self, entries: Sequence[tuple[Entry, Finalization]], problems: _Problems
    ) -> tuple[list[_Move], set[Path]]:
        """Where each file goes (archive folders are created here); the folders to fsync."""
        moves: list[_Move] = []
        touched: set[Path] = {self.work}
        missing: list[str] = []
        sources: set[Path] = set()
        planned: set[Path] = set()
        for entry, finalization in entries:
            name = _checked(entry.name)
            source = self.work / name
            if source in sources or not os.path.lexists(source):
                missing.append(name)
                continue
            sources.add(source)
            try:
                move = self._plan_one(name, finalization, planned, touched)
            except OSError as err:
                problems.add(f"cannot archive {name}", err)
                continue
            moves.append(move)
            planned.add(move.target)
        if missing:
            problems.add(f"not in work/, cannot finalise: {', '.join(missing)}")
        return moves, touched

    def _plan_one(
        self, name: str, finalization: Finalization, planned: set[Path], touched: set[Path]
    ) -> _Move:
        source = self.work / name
        if finalization.outcome is Outcome.ARCHIVED:
            day = finalization.business_date
            folder = self.archive / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
            touched.update(_make_folders(self.archive, folder))
            touched.add(folder)
            return _Move(name, source, folder / free_name(folder, name, planned))
        reason = finalization.reason if finalization.reason is not None else {}
        final = free_name(self.error, name, planned)
        text = _reason_json({"outcome": finalization.outcome.value, **reason})
        temporary = self.error / f".{final}{REASON_SUFFIX}.tmp-{os.getpid()}"
        touched.add(self.error)
        reason_file = _Reason(temporary, self.error / f"{final}{REASON_SUFFIX}", text)
        return _Move(name, source, self.error / final, reason_file)

    def _write_reasons(self, moves: list[_Move], problems: _Problems) -> list[_Move]:
        """Write every reason under its temporary name and make them durable together; the moves
        whose reason could not be written are dropped (their file stays in ``work/``)."""
        pending = [(move.name, move.reason) for move in moves if move.reason is not None]
        batched = batched_sync(len(pending))
        failed: set[str] = set()
        for name, reason in pending:
            try:
                write_file(reason.temporary, reason.data, sync=not batched)
            except OSError as err:
                _remove_quietly(reason.temporary)
                problems.add(f"cannot write the reason for {name} into {self.error}", err)
                failed.add(name)
        if batched and len(failed) < len(pending):
            try:
                sync_file_system(self.error)
            except OSError as err:
                problems.add(f"cannot make the reasons in {self.error} durable", err)
                for name, reason in pending:
                    _remove_quietly(reason.temporary)
                    failed.add(name)
        return [move for move in moves if move.name not in failed]

    def _apply(self, move: _Move, problems: _Problems) -> None:
        """Rename the reason (if any) then the file; on failure the file stays in ``work/`` and its
        reason is taken back (destinations were checked free; a reason orphan is ours)."""
        placed = False
        try:
            if move.reason is not None:
                os.replace(move.reason.temporary, move.reason.final)
                placed = True
            os.rename(move.source, move.target)
        except OSError as err:
            if move.reason is not None:
                _remove_quietly(move.reason.temporary)
                if placed:
                    _remove_quietly(move.reason.final)
            if move.reason is None:
                problems.add(f"cannot archive {move.name}", err)
            else:
                problems.add(f"cannot move {move.name} to error/", err)

    def _move_to_error(self, source: Path, name: str, reason: dict[str, object]) -> None:
        """Write ``error/<name>.reason.json`` atomically, then move the file beside it.

        The data file decides which name is free: a reason without its file is an orphan
        of a crash between the two steps of this very move, and is replaced."""
        final = free_name(self.error, name)
        temporary = self.error / f".{final}{REASON_SUFFIX}.tmp-{os.getpid()}"
        placed = self.error / f"{final}{REASON_SUFFIX}"
        try:
            write_file(temporary, _reason_json(reason), sync=True)
            os.replace(temporary, placed)
        except OSError:
            _remove_quietly(temporary)
            raise
        try:
            os.rename(source, self.error / final)
        except OSError:
            _remove_quietly(placed)
            raise

    # -- waiting ------------------------------------------------------------------------

    def wait(self, timeout: float) -> None:
        """Sleep up to ``timeout`` seconds; a file created or renamed into the inbox ends it early."""
        self._ensure_watching()
        if self._wake.wait(timeout):
            self._wake.clear()

    def _ensure_watching(self) -> None:
        if self._watch_failed:
            return
        if self._observer is not None:
            if self._observer.is_alive():
                return
            log.warning("%s: the inbox watcher stopped; restarting it", self.channel)
        try:
            observer = Observer()
            handler = _WakeHandler(self._wake, self._closed_after_write)
            observer.schedule(handler, str(self.inbox), recursive=False)
            observer.daemon = True
            observer.start()
        except Exception as err:  # inotify limits, unsupported file system ...
            log.warning("%s: cannot watch %s (%s); the periodic scan goes on", self.channel, self.inbox, err)
            self._watch_failed = True
            self._observer = None
            return
        self._observer = observer

    def close(self) -> None:
        """Stop the watcher and release the channel."""
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)
        self._lock.release()

    def _failing(self, doing: str) -> contextlib.AbstractContextManager[None]:
        return failing_as(TransportError, f"{self.channel}: {doing}")


class _WakeHandler(FileSystemEventHandler):
    """Sets an event and notes closes-after-write, nothing else: an exception here would kill
    watchdog's dispatcher thread."""

    def __init__(self, wake: threading.Event, closed_after_write: dict[str, int]) -> None:
        super().__init__()
        self._wake = wake
        self._closed = closed_after_write

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            if event.event_type == "closed":
                # A plain dict assignment is atomic under the GIL; the scan only reads it.
                self._closed[os.path.basename(os.fsdecode(event.src_path))] = time.time_ns()
            if event.event_type in _WAKING_EVENTS:
                self._wake.set()
        except Exception:  # pragma: no cover - defensive: never let the watcher thread die
            pass


class LocalFolderOutbound:
    """Delivers files into ``settings.root``: atomic, durable, never overwriting.

    Sync strategy: every temporary file is written, then made durable in one step
    (one ``syncfs`` of the folder's file system for a batch, one fsync per file for a
    few files: see :func:`batched_sync` for the measurements and why not ``os.sync``),
    renamed into place, the folder fsynced once; then the ``.done`` markers and the
    folder again, so that a marker never points at a file that is not on disk.

    A failure of the folder (full, read-only, replaced by a file) is a :class:`DeliveryError`
    naming the file, the folder and the reason; the temporaries of that batch are removed.
    """

    def __init__(self, channel: str, settings: LocalFolderSettings) -> None:
        self.channel = channel
        self.settings = settings
        self.root = Path(settings.root)
        with failing_as(DeliveryError, f"{channel}: cannot create the output folder {self.root}"):
            self.root.mkdir(parents=True, exist_ok=True)

    def deliver(self, files: Sequence[OutboundFile]) -> None:
        """Write every file; return only when all of them (and their markers) are on disk.

        A name already present with the same bytes is a re-delivery after a crash and is
        skipped; with different bytes, :class:`DeliveryError` is raised before anything
        of this batch is written.
        """
        todo = self._new_files(files)
        self._write_all(todo)
        if self.settings.done_marker:
            self._mark_done(file.name for file in files)

    def recover(self) -> list[str]:
        """Remove the temporaries (``.NAME.tmp-PID``) of deliveries interrupted by a crash; their names.

        A temporary is a leftover when its process no longer runs on this host, or when it is
        older than an hour (a delivery takes seconds; on a shared folder the PID may be another
        host's). Safe at any time, also while other processes deliver into the same folder.
        Files that cannot be removed do not stop the others; :class:`DeliveryError` names them.
        """
        now = time.time()

        def stale(name: str, info: os.stat_result) -> bool:
            match = _DELIVERY_LEFTOVER.fullmatch(name)
            if match is None:
                return False
            return now - info.st_mtime > LEFTOVER_AFTER_SECONDS or not process_alive(int(match["pid"]))

        with self._failing(f"cannot look for leftovers in {self.root}"):
            removed, problems = remove_leftovers(self.channel, self.root, stale)
        if problems:
            raise DeliveryError(f"{self.channel}: {'; '.join(problems)}")
        return removed

    def _new_files(self, files: Sequence[OutboundFile]) -> list[OutboundFile]:
        todo: dict[str, OutboundFile] = {}
        batch: dict[str, bytes] = {}
        for file in files:
            if safe_name(file.name) != file.name:
                raise DeliveryError(f"{self.channel}: refusing unsafe output name {file.name!r}")
            if batch.setdefault(file.name, file.data) != file.data:
                raise DeliveryError(f"{self.channel}: two different files named {file.name} in one delivery")
            if file.name in todo:
                continue
            with self._failing(f"cannot deliver {file.name} into {self.root}"):
                same = _same_content(self.root / file.name, file.data)
            if same is None:
                todo[file.name] = file
            elif not same:
                raise DeliveryError(
                    f"{self.channel}: {file.name} already exists with different content; not overwritten"
                )
        return list(todo.values())

    def _write_all(self, todo: Sequence[OutboundFile]) -> None:
        """Temporaries, one sync, renames, one folder fsync; no temporary survives a failure."""
        batched = batched_sync(len(todo))
        temporaries: list[tuple[Path, Path]] = []
        try:
            for file in todo:
                temporary = self.root / f".{file.name}.tmp-{os.getpid()}"
                temporaries.append((temporary, self.root / file.name))
                with self._failing(f"cannot write {file.name} into {self.root}"):
                    write_file(temporary, file.data, sync=not batched)
            if batched:
                with self._failing(f"cannot make the files in {self.root} durable"):
                    sync_file_system(self.root)
            for temporary, target in temporaries:
                if os.path.lexists(target):  # appeared since the check: never replace it
                    raise DeliveryError(f"{self.channel}: {target.name} appeared while delivering")
                with self._failing(f"cannot deliver {target.name} into {self.root}"):
                    os.rename(temporary, target)
        finally:
            for temporary, _ in temporaries:
                _remove_quietly(temporary)
        if todo:
            with self._failing(f"cannot make the files in {self.root} durable"):
                fsync_directory(self.root)

    def _mark_done(self, names: Iterable[str]) -> None:
        created = False
        for name in dict.fromkeys(names):
            marker = self.root / f"{name}.done"
            with self._failing(f"cannot write the marker {marker.name} into {self.root}"):
                try:
                    os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640))
                    created = True
                except FileExistsError:
                    continue
        if created:
            with self._failing(f"cannot make the markers in {self.root} durable"):
                fsync_directory(self.root)

    def close(self) -> None:
        """Nothing is held open between deliveries."""

    def _failing(self, doing: str) -> contextlib.AbstractContextManager[None]:
        return failing_as(DeliveryError, f"{self.channel}: {doing}")


def remove_leftovers(
    channel: str, folder: Path, stale: Callable[[str, os.stat_result], bool]
) -> tuple[list[str], list[str]]:
    """Unlink the regular files of ``folder`` that ``stale(name, stat)`` selects, each logged at INFO.

    Returns the names removed and, for those the OS refused, one message each (the caller
    decides whether that is an error). ``OSError`` if ``folder`` cannot be listed.
    """
    removed: list[str] = []
    problems: list[str] = []
    with os.scandir(folder) as listing:
        found = [(item.name, _lstat_or_none(item)) for item in listing if item.name.startswith(".")]
    for name, info in sorted(found, key=lambda pair: pair[0]):
        if info is None or not stat.S_ISREG(info.st_mode) or not stale(name, info):
            continue
        try:
            os.unlink(folder / name)
        except FileNotFoundError:
            continue
        except OSError as err:
            problems.append(f"cannot remove the leftover {folder / name}: {explain(err)}")
            continue
        removed.append(name)
        log.info("%s: removed %s, left by an interrupted write", channel, folder / name)
    return removed, problems


def _lstat_or_none(item: os.DirEntry[str]) -> os.stat_result | None:
    try:
        return item.stat(follow_symlinks=False)
    except FileNotFoundError:
        return None


def _is_reason_leftover(name: str, info: os.stat_result) -> bool:
    return _REASON_LEFTOVER.fullmatch(name) is not None


def _never_taken(raw: str, info: os.stat_result) -> str | None:
    """Why the scan leaves this inbox entry alone (and reports it), or ``None`` if it is considered."""
    if raw.startswith("."):
        return "hidden file (its name starts with a dot): never taken"
    suffix = next((s for s in TEMPORARY_SUFFIXES if raw.lower().endswith(s)), None)
    if suffix is not None:
        return f"temporary upload name ({suffix}): taken only once renamed"
    if stat.S_ISDIR(info.st_mode):
        return "a folder: only files directly in the inbox are taken"
    return None


def _left(raw: str, reason: str, info: os.stat_result, now: float) -> tuple[_Key, IgnoredFile]:
    age = max(0.0, now - info.st_mtime_ns / 1e9)
    return (raw, info.st_size, info.st_mtime_ns), IgnoredFile(display_name(raw), reason, info.st_size, age)


def _duration(seconds: float) -> str:
    """``45 seconds``, ``12 minutes``, ``1 hour``, ``3 days``: for people, not exact.

    >>> _duration(0.5), _duration(61), _duration(2 * 86_400 + 5)
    ('0 seconds', '1 minute', '2 days')
    """
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count > 1 else ''}"
    return "0 seconds"


def _same_content(path: Path, data: bytes) -> bool | None:
    """``None`` when ``path`` is free, else whether it already holds exactly ``data``."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        raise DeliveryError(f"{path.name} exists and is not a regular file; not overwritten")
    return info.st_size == len(data) and path.read_bytes() == data


def _make_folders(top: Path, folder: Path) -> list[Path]:
    """Create ``folder`` under ``top``; the parents whose listing changed (to fsync)."""
    changed: list[Path] = []
    current = folder
    while current != top and not current.exists():
        changed.append(current.parent)
        current = current.parent
    folder.mkdir(parents=True, exist_ok=True)
    return changed


def _remove_quietly(path: Path) -> None:
    """Clean-up after a failure: never hide the failure behind a second one (a read-only folder)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as err:
        log.warning("cannot remove the temporary %s: %s", path, explain(err))


def _checked(name: str) -> str:
    """Refuse an entry whose name could leave the channel's folders (hand-made entries)."""
    if safe_name(name) != name:
        raise TransportError(f"unsafe entry name {name!r}")
    return name


def _reason_json(reason: dict[str, object]) -> bytes:
    return (json.dumps(reason, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def _too_large(name: str, max_bytes: int) -> LimitExceeded:
    return LimitExceeded(
        f"{name} is larger than the {max_bytes:,}-byte limit for one file", code="GW-FILE-TOO-LARGE"
    )
