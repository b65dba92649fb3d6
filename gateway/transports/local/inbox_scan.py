"""Which files of an inbox are ready to be taken, and which are left there and why.

A file is ready by the channel's readiness rule: "rename" (it was renamed in from a
temporary upload name, so whatever is listed is complete), "stable" (size and mtime
unchanged for ``stable_seconds`` across two looks) or "closed" (inotify saw the writer
close it after its last write; otherwise the "stable" rule applies). The scan
remembers what it saw between calls, which is why it is an object: readiness always
takes two looks, names on disk may differ from the safe names handed out (NFC), and
a file left in the inbox is reported once, not at every scan.
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
from gateway.transports.names import display_name, safe_name

log = logging.getLogger(__name__)

#: Names writers use while a file is still being uploaded; never picked, whatever the readiness rule.
TEMPORARY_SUFFIXES = (".part", ".tmp", ".filepart", ".crdownload")

#: A file in the inbox that must not be processed, and the reason written beside it in ``error/``.
Quarantined = tuple[str, dict[str, object]]


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
    quarantine: list[Quarantined] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # safe names of the regular files


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
        self._raw_names: dict[str, str] = {}  # safe name -> name on disk (differs only by NFC)
        self._ignored: list[IgnoredFile] = []
        self._reported: set[_Key] = set()  # left in the inbox and already logged

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
        found.ready.sort(key=lambda e: (e.mtime_ns, e.name))
        return found.ready, found.quarantine

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
