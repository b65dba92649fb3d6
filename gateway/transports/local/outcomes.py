"""Where a claimed file ends: its dated archive folder, or ``error/`` with its reason beside it.

Moves are renames inside one file system (atomic: after a crash the file is in one
place or the other), never onto a taken name (``.1``, ``.2`` ... suffixes), and made
durable once per batch: one fsync per folder touched, one ``syncfs`` for all the
reasons of a batch. A reason is renamed into place just before its file, so that a
file in ``error/`` always has its reason, and a reason without its file can only be
the orphan of a crash between the two renames.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import GatewayError, TransportError
from gateway.failpoints import failpoint
from gateway.transports.base import Entry, Finalization, Outcome
from gateway.transports.local.files import (
    batched_sync,
    free_name,
    fsync_directory,
    make_folders,
    remove_leftovers,
    remove_quietly,
    sync_file_system,
    write_file,
)
from gateway.transports.local.inbox_scan import Quarantined
from gateway.transports.names import checked_name, quarantine_name, safe_name
from gateway.transports.os_errors import explain, failing_as

log = logging.getLogger(__name__)

REASON_SUFFIX = ".reason.json"
#: What an interrupted finalize leaves in ``error/``: ``.NAME.reason.json.tmp-PID``.
_REASON_LEFTOVER = re.compile(r"\..+\.reason\.json\.tmp-\d+")


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


class OutcomeFolders:
    """The ``archive/`` and ``error/`` folders of an inbound channel, and the moves into them."""

    def __init__(self, channel: str, work: Path, archive: Path, error: Path) -> None:
        self.channel = channel
        self.work = work
        self.archive = archive
        self.error = error

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
        for index, move in enumerate(self._write_reasons(moves, problems)):
            if index:
                failpoint("finalize-between-moves")  # some files moved, the others still in work/
            self._apply(move, problems)
        for folder in sorted(touched):
            try:
                fsync_directory(folder)
            except OSError as err:
                problems.add(f"cannot make the moves in {folder} durable", err)
        problems.raise_if_any(TransportError, self.channel)

    def quarantine(self, inbox: Path, items: Sequence[Quarantined]) -> None:
        """Park what must not be processed in ``error/``, so that nothing is lost or retried forever.

        If ``error/`` cannot take it, :class:`TransportError` says so and the file stays in
        the inbox (taken again at the next scan once the folder is repaired)."""
        for raw, reason in items:
            source = inbox / raw
            doing = f"{self.channel}: cannot move {reason['name']} from {inbox} to {self.error}"
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
            fsync_directory(inbox)

    def remove_reason_leftovers(self) -> None:
        """The reason temporaries an interrupted finalize left in ``error/``: removed. Housekeeping:
        its failures are logged, they do not stop the recovery of ``work/``."""
        try:
            _, problems = remove_leftovers(self.channel, self.error, _is_reason_leftover)
        except OSError as err:
            problems = [f"cannot look for leftovers in {self.error}: {explain(err)}"]
        for problem in problems:
            log.warning("%s: %s", self.channel, problem)

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
            name = checked_name(entry.name)
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
            touched.update(make_folders(self.archive, folder))
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
                remove_quietly(reason.temporary)
                problems.add(f"cannot write the reason for {name} into {self.error}", err)
                failed.add(name)
        if batched and len(failed) < len(pending):
            try:
                sync_file_system(self.error)
            except OSError as err:
                problems.add(f"cannot make the reasons in {self.error} durable", err)
                for name, reason in pending:
                    remove_quietly(reason.temporary)
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
                failpoint("finalize-reason-before-file")  # the reason in error/, its file still in work/
            os.rename(move.source, move.target)
        except OSError as err:
            if move.reason is not None:
                remove_quietly(move.reason.temporary)
                if placed:
                    remove_quietly(move.reason.final)
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
            remove_quietly(temporary)
            raise
        try:
            os.rename(source, self.error / final)
        except OSError:
            remove_quietly(placed)
            raise

    def _failing(self, doing: str) -> contextlib.AbstractContextManager[None]:
        return failing_as(TransportError, f"{self.channel}: {doing}")


def _is_reason_leftover(name: str, info: os.stat_result) -> bool:
    return _REASON_LEFTOVER.fullmatch(name) is not None


def _reason_json(reason: dict[str, object]) -> bytes:
    return (json.dumps(reason, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")
