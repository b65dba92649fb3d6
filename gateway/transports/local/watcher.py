"""The inbox watcher: watchdog wakes the daemon early, inotify tells when a file was closed.

Both are hints, never the truth: events are lost on network shares and when the
queue overflows, so the periodic scan decides what is ready and nothing waits on an
event. The watcher starts lazily (at the first :meth:`InboxWatcher.wait`, as the daemon
does), restarts if its thread died, and gives up for good (with one warning) where it
cannot be set up, leaving a plain sleep.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

log = logging.getLogger(__name__)

_WAKING_EVENTS = frozenset({"created", "moved", "closed"})


class InboxWatcher:
    """Shortens the wait between scans of one inbox, and notes which files were closed after writing."""

    def __init__(self, channel: str, inbox: Path) -> None:
        self.channel = channel
        self.inbox = inbox
        #: Name on disk -> ``time.time_ns()`` of its last IN_CLOSE_WRITE (only while the watcher runs).
        #: Written by watchdog's thread, read and pruned by the scan: plain dict operations, atomic
        #: under the GIL.
        self.closed_after_write: dict[str, int] = {}
        self._wake = threading.Event()
        self._observer: Any = None
        self._failed = False

    def wait(self, timeout: float) -> None:
        """Sleep up to ``timeout`` seconds; a file created or renamed into the inbox ends it early."""
        self._ensure_watching()
        if self._wake.wait(timeout):
            self._wake.clear()

    def _ensure_watching(self) -> None:
        if self._failed:
            return
        if self._observer is not None:
            if self._observer.is_alive():
                return
            log.warning("%s: the inbox watcher stopped; restarting it", self.channel)
        try:
            observer = Observer()
            handler = _WakeHandler(self._wake, self.closed_after_write)
            observer.schedule(handler, str(self.inbox), recursive=False)
            observer.daemon = True
            observer.start()
        except Exception as err:  # inotify limits, unsupported file system ...
            log.warning("%s: cannot watch %s (%s); the periodic scan goes on", self.channel, self.inbox, err)
            self._failed = True
            self._observer = None
            return
        self._observer = observer

    def close(self) -> None:
        """Stop the watcher thread (a later :meth:`wait` starts a new one)."""
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)


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
