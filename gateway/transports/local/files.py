"""File-system primitives of the local folder channels: durable writes, renames and clean-up.

Both directions need the same few guarantees from the kernel: a new file's bytes on
disk before its rename, a rename on disk before the next step relies on it, a name
never reused, leftovers of a crash recognised and removed. They live here, once, so
that inbound and outbound folders cannot drift apart on how durability is obtained.
"""

from __future__ import annotations

import ctypes
import logging
import os
import stat
import sys
from collections.abc import Callable, Collection
from pathlib import Path
from typing import cast

from gateway.transports.os_errors import explain

log = logging.getLogger(__name__)


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


def is_clash_copy(candidate: str, name: str) -> bool:
    """``name`` itself or one of the ``name.N`` that :func:`free_name` gives on a clash."""
    return candidate == name or (candidate.startswith(f"{name}.") and candidate[len(name) + 1 :].isdigit())


def make_folders(top: Path, folder: Path) -> list[Path]:
    """Create ``folder`` under ``top``; the parents whose listing changed (to fsync)."""
    changed: list[Path] = []
    current = folder
    while current != top and not current.exists():
        changed.append(current.parent)
        current = current.parent
    folder.mkdir(parents=True, exist_ok=True)
    return changed


def remove_quietly(path: Path) -> None:
    """Clean-up after a failure: never hide the failure behind a second one (a read-only folder)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as err:
        log.warning("cannot remove the temporary %s: %s", path, explain(err))


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
