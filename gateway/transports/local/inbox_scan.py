"""Which files of an inbox are ready to be taken, and which are left there and why.

No rule takes a file that is still changing: each waits until the file has been quiet
(size and mtime unchanged, mtime in the past) for the channel's ``stable_seconds``.
What a writer must do, rule by rule:

* ``"rename"`` -- write under a temporary name (``*.part``, ``*.tmp``, ``*.filepart``,
  ``*.crdownload`` or a dot-file: never taken), then rename to the final name. A listed
  file is taken once its mtime is ``stable_seconds`` old and it did not change since the
  previous look (a file renamed in long after it was written is taken at first sight).
  A file written in place under its final name is taken only after ``stable_seconds``
  without change: the rename convention is not trusted blindly.
* ``"stable"`` -- write in place, never pausing ``stable_seconds`` or longer. Taken once
  size and mtime are unchanged across two looks ``stable_seconds`` apart, the mtime
  being at least that old.
* ``"closed"`` -- write in place and close the file when it is complete. Taken once
  inotify (the watcher, while the daemon runs) saw it closed after its last write AND
  it stayed unchanged for ``stable_seconds`` after that close (two looks): a close is
  not "complete" by itself, since a writer may close after every line. Without such a
  close (no watcher, as in ``run --once``; a network share; a lost event; the file
  still open) the "stable" rule applies.

Slow writers, under every rule: a writer that appends a line at a time (open, write,
close each time), writes in place with pauses, or pauses longer than the scan
interval, restarts the quiet time with each write; its file is taken once, complete,
``stable_seconds`` after the last write, provided no pause lasts ``stable_seconds``.
A pause that long cannot be told from the end of the file: such a writer must use
the temporary-name-then-rename convention (or the channel a longer ``stable_seconds``).
A file that still changes between the look that judged it ready and its claim is
put back by the claim (:meth:`.LocalFolderInbound.claim`) and judged again.

The scan remembers what it saw between calls, which is why it is an object: readiness
compares looks, names on disk may differ from the safe names handed out (NFC), and a
file left in the inbox is reported once, not at every scan.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gateway.settings import LocalFolderSettings
from gateway.transports.base import Entry, IgnoredFile
from gateway.transports.names import display_name, sent_name, stored_name

log = logging.getLogger(__name__)

#: Names writers use while a file is still being uploaded; never picked, whatever the readiness rule.
TEMPORARY_SUFFIXES = (".part", ".tmp", ".filepart", ".crdownload")

#: Added to :meth:`InboxScan.settling`: a sleep of exactly the time left may end a hair too early
#: by the wall clock that readiness is judged on.
_SETTLE_MARGIN = 0.05

#: A file in the inbox that must not be processed, and the reason written beside it in ``error/``.
Quarantined = tuple[str, dict[str, object]]


@dataclass(frozen=True, slots=True)
class _Observation:
    size: int
    mtime_ns: int
    since: float  # clock time when this size and mtime were first seen
    changed: bool  # seen with another size or mtime before (or put back by a claim): quiet from ``since``


_Key = tuple[str, int, int]  # name on disk, size, mtime_ns: one version of one file


@dataclass
class _Listing:
    """What one scan found; applied once the listing is complete."""

    now: float
    ready: list[Entry] = field(default_factory=list)
    left: list[tuple[_Key, IgnoredFile]] = field(default_factory=list)
    quarantine: list[Quarantined] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # safe names of the regular files
    settling: float = 0.0  # seconds until the files waiting for quiet could be ready, if unchanged


class InboxScan:
    """The scans of one inbox: what they remember between calls, and the readiness rules."""

    def __init__(
        self,
        channel: str,
        settings: LocalFolderSettings,
        inbox: Path,
        clock: Callable[[], float],
        closed_after_write: dict[str, int],
    ) -> None:
        self.channel = channel
        self.settings = settings
        self.inbox = inbox
        self._clock = clock
        self._closed_after_write = closed_after_write  # the watcher's notes, see InboxWatcher
        self._observed: dict[str, _Observation] = {}
        self._raw_names: dict[str, str] = {}  # name kept under -> name on disk (see stored_name)
        self._ignored: list[IgnoredFile] = []
        self._reported: set[_Key] = set()  # left in the inbox and already logged
        self._settling = 0.0

    def scan(self) -> tuple[list[Entry], list[Quarantined]]:
        """The ready files, oldest first (mtime, then name), and what must go to ``error/``.

        ``OSError`` if the inbox cannot be listed. What is left in the inbox is kept
        for :meth:`ignored` and logged once it has been there ``report_after_seconds``.
        """
        found = _Listing(self._clock())
        with os.scandir(self.inbox) as listing:
            for item in listing:
                self._look_at(item, found)
        self._forget_unseen(found)
        self._ignored = sorted((file for _, file in found.left), key=lambda f: f.name)
        self._report(found.left)
        self._settling = found.settling
        found.ready.sort(key=lambda e: (e.mtime_ns, e.name))
        return found.ready, found.quarantine

    def settling(self) -> float:
        """Seconds after the last :meth:`scan` until the files it saw waiting for quiet could be
        ready if they stay unchanged (0 when none waits), with a 50 ms margin; at most about
        ``stable_seconds``: an empty file waiting ``empty_after_seconds`` and a file whose mtime is
        in the future (a skewed clock) are not counted."""
        return self._settling

    def ignored(self) -> list[IgnoredFile]:
        """What the last :meth:`scan` left in the inbox, and why, by name."""
        return list(self._ignored)

    def disk_name(self, name: str) -> str:
        """The name on disk of the file the last scan listed as ``name``."""
        return self._raw_names.get(name, name)

    def forget(self, name: str) -> None:
        """``name`` left the inbox (claimed): a new file of that name starts afresh."""
        self._observed.pop(name, None)
        self._raw_names.pop(name, None)

    def put_back(self, raw: str, info: os.stat_result) -> None:
        """The file named ``raw`` on disk was claimed, found changed since it was judged ready and
        put back: its quiet time starts now, whatever its mtime says (under every rule)."""
        name = stored_name(raw)
        self._raw_names[name] = raw
        self._observed[name] = _Observation(info.st_size, info.st_mtime_ns, self._clock(), changed=True)

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
        else:
            # Any name is taken, under a stand-in when need be; one that cannot be taken at all is
            # still recorded and answered (see gateway.transports.names).
            name = stored_name(raw)
            found.seen.add(name)
            self._raw_names[name] = raw
            wait = self._wait(info)
            remaining = self._remaining(name, raw, info, found.now, wait)
            if remaining is None:
                sent = sent_name(raw, name)
                found.ready.append(Entry(self.channel, name, info.st_size, info.st_mtime_ns, sent))
                return
            if wait <= self.settings.stable_seconds and remaining <= wait + _SETTLE_MARGIN:
                # not an empty file waiting far longer, nor an mtime in the future
                found.settling = max(found.settling, remaining + _SETTLE_MARGIN)
            if info.st_size == 0:
                reason = f"empty file: taken (and refused as empty) once unchanged for {wait:g} seconds"
                found.left.append(_left(raw, reason, info, found.now))

    def _forget_unseen(self, found: _Listing) -> None:
        self._observed = {k: v for k, v in self._observed.items() if k in found.seen}
        self._raw_names = {k: v for k, v in self._raw_names.items() if k in found.seen}
        for raw in [r for r in list(self._closed_after_write) if stored_name(r) not in found.seen]:
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

    def _wait(self, info: os.stat_result) -> float:
        """How long this file must stay quiet: ``stable_seconds``, longer for an empty file
        (except under "rename", where the writer said it was complete by renaming it)."""
        if info.st_size == 0 and self.settings.readiness != "rename":
            return max(self.settings.stable_seconds, self.settings.empty_after_seconds)
        return self.settings.stable_seconds

    def _remaining(self, name: str, raw: str, info: os.stat_result, now: float, wait: float) -> float | None:
        """``None`` if the file is ready now, else the seconds it must still stay unchanged.

        Quiet is counted from the latest of: its mtime (its last write); under "closed", the
        close after that write noted by the watcher; the look that first saw this size and
        mtime -- always under "stable" and "closed" (two looks), under "rename" only once the
        file was seen changing (a file renamed in complete may be taken at first sight).
        """
        rule = self.settings.readiness
        seen = self._observed.get(name)
        if seen is None or (seen.size, seen.mtime_ns) != (info.st_size, info.st_mtime_ns):
            first_look = True
            seen = _Observation(info.st_size, info.st_mtime_ns, now, changed=seen is not None)
            self._observed[name] = seen
        else:
            first_look = False
        quiet_from = info.st_mtime_ns / 1e9
        if rule == "closed":
            closed_ns = self._closed_after_write.get(raw)
            if closed_ns is not None and closed_ns >= info.st_mtime_ns:
                quiet_from = closed_ns / 1e9  # closed after its last write: quiet from the close
        counts_looks = rule != "rename" or seen.changed
        if counts_looks:
            quiet_from = max(quiet_from, seen.since)
        remaining = quiet_from + wait - now
        if remaining <= 0 and not (first_look and counts_looks):
            return None
        return max(remaining, 0.0)

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
