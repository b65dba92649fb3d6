"""An outbound folder on this machine: deliveries that are atomic, durable and never overwrite.

A delivery is a batch: every file is written under a temporary name in the target
folder (``.NAME.tmp-PID``), made durable in one step, then renamed into place. A crash
leaves at most temporaries, which :meth:`LocalFolderOutbound.recover` removes; a name
already present is never replaced, only recognised as already delivered when it holds
the very same bytes (the pipeline renders outputs from the ledger, so a re-delivery
after a crash is byte-identical).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from gateway.errors import DeliveryError
from gateway.failpoints import failpoint
from gateway.settings import LocalFolderSettings
from gateway.transports.base import OutboundFile
from gateway.transports.channel_lock import process_alive
from gateway.transports.local.files import (
    batched_sync,
    fsync_directory,
    remove_leftovers,
    remove_quietly,
    sync_file_system,
    write_file,
)
from gateway.transports.names import safe_name
from gateway.transports.os_errors import failing_as

#: What an interrupted delivery leaves in an outbound folder: ``.NAME.tmp-PID``.
_DELIVERY_LEFTOVER = re.compile(r"\..+\.tmp-(?P<pid>\d+)")
#: A delivery takes seconds: a temporary this old is a leftover, whichever host wrote it.
LEFTOVER_AFTER_SECONDS = 3600.0


class LocalFolderOutbound:
    """Delivers files into ``settings.root``: atomic, durable, never overwriting.

    Sync strategy: every temporary file is written, then made durable in one step
    (one ``syncfs`` of the folder's file system for a batch, one fsync per file for a
    few files: see :func:`.batched_sync` for the measurements and why not ``os.sync``),
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
            for index, (temporary, target) in enumerate(temporaries):
                if index:
                    failpoint("deliver-between-files")  # some files in place, the others still temporaries
                if os.path.lexists(target):  # appeared since the check: never replace it
                    raise DeliveryError(f"{self.channel}: {target.name} appeared while delivering")
                with self._failing(f"cannot deliver {target.name} into {self.root}"):
                    os.rename(temporary, target)
        finally:
            for temporary, _ in temporaries:
                remove_quietly(temporary)
        if todo:
            failpoint("deliver-before-dir-fsync")
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


def _same_content(path: Path, data: bytes) -> bool | None:
    """``None`` when ``path`` is free, else whether it already holds exactly ``data``."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        raise DeliveryError(f"{path.name} exists and is not a regular file; not overwritten")
    return info.st_size == len(data) and path.read_bytes() == data
