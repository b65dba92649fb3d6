"""What a SQLite ledger file needs that a database server gives for free.

* **One writer process per file.** Two gateways on one SQLite ledger would each
  take the other's claimed files for crash leftovers. The first process to open
  the ledger for work holds an exclusive ``flock`` on ``<ledger>.lock`` (released
  by the kernel when the process dies, even by SIGKILL); a second one is refused
  with the holder's pid, host and start time.
* **A file deleted or replaced under a running process.** SQLite keeps writing
  into an unlinked file, and a new connection would create an empty ledger at the
  same path: the numbering would start again at 1 and known invoices would be
  assigned again. The guard remembers the device and inode of the ledger and of
  its write-ahead log at open (a connection is kept open so that SQLite never
  removes the log itself) and :meth:`SqliteFileGuard.check` refuses to go on when
  either changed.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from gateway.clock import utc_now
from gateway.errors import LedgerBusy, LedgerReplaced

LOCK_SUFFIX = ".lock"


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_dev, info.st_ino)


@dataclass
class SqliteFileGuard:
    """Watches one SQLite ledger file; see the module docstring."""

    path: Path
    inodes: dict[Path, tuple[int, int]] = field(default_factory=dict)
    lock_fd: int | None = None

    def watch(self) -> None:
        """Remember what the ledger and its log are now (call right after opening)."""
        for candidate in (self.path, Path(f"{self.path}-wal")):
            found = _inode(candidate)
            if found is not None:
                self.inodes[candidate] = found

    def check(self) -> None:
        """Raise :class:`LedgerReplaced` if the ledger or its log is no longer the file opened."""
        for candidate, expected in self.inodes.items():
            found = _inode(candidate)
            if found == expected:
                continue
            what = "its write-ahead log " + candidate.name if candidate != self.path else "the ledger file"
            change = "was deleted" if found is None else "was replaced by another file"
            raise LedgerReplaced(
                f"{what} {candidate} {change} while the gateway was running. Nothing more is "
                "processed: going on would number remittances again and assign known invoices a second "
                "time. Put the ledger back (from a backup) and restart; see `gateway ledger --help`."
            )

    def lock(self) -> None:
        """Take the one-writer lock, or raise :class:`LedgerBusy` naming the holder."""
        lock_path = Path(f"{self.path}{LOCK_SUFFIX}")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(os.pread(fd, 4096, 0))
            os.close(fd)
            raise LedgerBusy(
                f"another gateway process ({holder}) is already working on the ledger {self.path}. "
                "A SQLite ledger takes one process at a time: stop the other one first, or drop files "
                "into its inbox for it to take (for several processes, use a PostgreSQL ledger)."
            ) from None
        except OSError:
            os.close(fd)
            raise
        stamp = {"pid": os.getpid(), "host": socket.gethostname(), "since": utc_now().isoformat()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(stamp).encode(), 0)
        self.lock_fd = fd

    def release(self) -> None:
        fd, self.lock_fd = self.lock_fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock


@dataclass(frozen=True, slots=True)
class LockStamp:
    """Who took the one-writer lock of a ledger file last, as that process wrote it."""

    pid: int
    host: str
    since: str


def read_lock_stamp(ledger: Path) -> LockStamp | None:
    """The stamp in ``<ledger>.lock``, read without locking (``gateway doctor``); ``None`` when
    there is none. The stamp stays after its process ends: whether it still runs is the
    caller's question."""
    try:
        stamp = json.loads(Path(f"{ledger}{LOCK_SUFFIX}").read_bytes().decode("utf-8"))
        return LockStamp(int(stamp["pid"]), str(stamp["host"]), str(stamp["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _describe(raw: bytes) -> str:
    try:
        stamp = json.loads(raw.decode("utf-8"))
        return f"pid {stamp['pid']} on {stamp['host']}, since {stamp['since']}"
    except (ValueError, KeyError, TypeError):
        return "unknown pid"
