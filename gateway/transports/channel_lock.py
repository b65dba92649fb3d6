"""One process per channel folder: an exclusive ``flock`` on ``<root>/.gateway-channel.lock``.

Two gateways on one work folder corrupt each other: each takes the other's files
in ``work/`` for crash leftovers and processes them again. The lock makes the
second one wait or stop with a message naming the first ("pid 1234 on host x
since 2026-12-02T11:00:00Z").

Why ``flock``: the kernel drops the lock when the holder's descriptor is closed,
including when the process is killed (SIGKILL, OOM killer, power cut), so there
is never a stale lock to clean by hand and no expiry to guess. The file itself
is never deleted: deleting a lock file lets a third process lock a new file of the
same name while the second still holds the old one. Its content (who holds it)
is written after locking and emptied before unlocking; it is a message only.

On a network share the lock works only if the share supports it (NFSv4 does;
Linux maps ``flock`` to byte-range locks there); run one node per channel
otherwise.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import socket
import time
import weakref
from datetime import UTC, datetime
from pathlib import Path

from gateway.errors import GatewayError
from gateway.transports.os_errors import failing_as

LOCK_NAME = ".gateway-channel.lock"
#: How often a waiting :meth:`FolderLock.acquire` tries again.
POLL_SECONDS = 0.05
_DESCRIPTION = re.compile(r"pid (?P<pid>\d+) on (?P<host>\S+) since \S+")


def this_process(since: float) -> str:
    """How a holder describes itself: ``pid 1234 on host x since 2026-12-02T11:00:00Z``."""
    stamp = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"pid {os.getpid()} on {socket.gethostname()} since {stamp}"


def process_alive(pid: int) -> bool:
    """Whether a process of that number runs on this host (signal 0 checks without sending)."""
    if pid <= 0:  # 0 and negatives address process groups, not one process
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by someone else
    except OverflowError:
        return False
    return True


class FolderLock:
    """The lock file of one channel folder, held by at most one open descriptor on the machine.

    Not counted: :meth:`acquire` while held returns ``True`` and changes nothing, and one
    :meth:`release` frees it. Two :class:`FolderLock` objects on the same path exclude each
    other even inside one process (``flock`` belongs to the open file, not the process).
    """

    def __init__(self, path: Path, error: type[GatewayError], owner: str) -> None:
        self.path = path
        self._error = error
        self._owner = owner
        self._held: weakref.finalize[[int], FolderLock] | None = None
        self._description = ""

    @property
    def held(self) -> bool:
        return self._held is not None and self._held.alive

    def acquire(self, wait_seconds: float = 0.0) -> bool:
        """Take the lock, trying every 50 ms for up to ``wait_seconds``; ``False`` if another holds it."""
        if self.held:
            return True
        deadline = time.monotonic() + max(0.0, wait_seconds)
        while not self._try_lock():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(POLL_SECONDS, remaining))
        return True

    def release(self) -> None:
        """Free the lock (nothing happens if it is not held)."""
        held, self._held = self._held, None
        if held is not None:
            held()

    def holder(self) -> str | None:
        """Who holds the lock, for messages; ``None`` when nobody seems to.

        Read from the file without locking: a holder on this host whose process is
        gone (killed before it could empty the file) is not reported.
        """
        if self.held:
            return self._description
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return None
        match = _DESCRIPTION.fullmatch(text)
        if match and match["host"] == socket.gethostname() and not process_alive(int(match["pid"])):
            return None
        return text or None

    def _try_lock(self) -> bool:
        with failing_as(self._error, f"{self._owner}: cannot lock the channel with {self.path}"):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o640)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            except BaseException:
                os.close(fd)
                raise
            # From here the descriptor is closed when this object is garbage-collected, as the
            # kernel would on a crash: a forgotten transport never keeps its channel locked.
            self._held = weakref.finalize(self, _unlock, fd)
            self._description = this_process(time.time())
            _write_description(fd, self._description)
        return True


def _write_description(fd: int, text: str) -> None:
    """Say who holds the lock; a failure (a full disk) costs only the message, not the lock."""
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{text}\n".encode(), 0)


def _unlock(fd: int) -> None:
    """Empty the file (nobody holds it), then close: closing releases the ``flock``."""
    try:
        os.ftruncate(fd, 0)
    except OSError:
        pass  # only the message is stale; the lock itself goes with the descriptor
    finally:
        os.close(fd)
