"""Real slow writers against every readiness rule: each file is taken once, and complete.

A writer is a separate process (:mod:`slow_writers`) that copies a file into the inbox
line by line, as a client's ERP does, with real pauses: one line at a time (open, append,
close each time), in place under the final name (held open, flushed after each line), in
two bursts with a pause longer than the scan interval (but shorter than
``stable_seconds``), or under a temporary name renamed at the end. Meanwhile the test
scans every ``SCAN_INTERVAL`` as the daemon does (the watcher running, so "closed" sees
the closes), claims what is ready and reads it. No clock is faked.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from slow_writers import start_writer

from gateway.errors import ClaimLost
from gateway.settings import LocalFolderSettings
from gateway.transports.base import Finalization, Outcome
from gateway.transports.local import LocalFolderInbound

DAY = date(2025, 3, 10)
STABLE_SECONDS = 1.0
SCAN_INTERVAL = 0.1
PAUSE = 0.2  # between two lines: longer than nothing, far shorter than STABLE_SECONDS
LONG_PAUSE = 0.5  # longer than SCAN_INTERVAL, shorter than STABLE_SECONDS
LINES = [b"number;amount\n", *(f"F-{n:03d};{n}.00\n".encode() for n in range(1, 9))]


@pytest.fixture(params=["stable", "rename", "closed"])
def transport(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalFolderInbound]:
    settings = LocalFolderSettings(tmp_path / "channel", request.param, STABLE_SECONDS)
    opened = LocalFolderInbound("acme", settings)
    opened.wait(0.01)  # starts the watcher, as the daemon does: "closed" needs its close events
    yield opened
    opened.close()


def _start_writer(transport: LocalFolderInbound, mode: str) -> subprocess.Popen[bytes]:
    content = b"".join(LINES)
    return start_writer(content, transport.inbox / "batch.csv", mode, pause=PAUSE, long_pause=LONG_PAUSE)


def _take_while_written(transport: LocalFolderInbound, writer: subprocess.Popen[bytes]) -> list[bytes]:
    """Scan, claim, read and archive as the daemon does, until the writer is done and the inbox
    empty (or a time limit); the content of every file taken."""
    taken: list[bytes] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done = writer.poll() is not None  # before the scan: what it then sees is all there is
        for entry in transport.scan():
            try:
                claimed = transport.claim(entry)
            except ClaimLost:
                continue  # changed after it was judged ready: put back, judged again
            taken.append(transport.read(claimed, 1_000_000))
            transport.finalize([(claimed, Finalization(Outcome.ARCHIVED, DAY))])
        if done and not os.listdir(transport.inbox):
            break
        transport.wait(SCAN_INTERVAL)
    writer.wait(5)
    assert writer.returncode == 0
    return taken


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["line-at-a-time", "in-place", "two-bursts"])
def test_a_slow_writer_s_file_is_taken_once_and_complete(transport: LocalFolderInbound, mode: str) -> None:
    """The old "closed" rule took the file at the first close ("line-at-a-time", "two-bursts":
    several partial envelopes), the old "rename" rule at the first scan (only the header)."""
    writer = _start_writer(transport, mode)
    taken = _take_while_written(transport, writer)
    assert taken == [b"".join(LINES)]
    assert os.listdir(transport.inbox) == [] and os.listdir(transport.work) == []


@pytest.mark.slow
def test_a_file_written_under_a_temporary_name_is_taken_once_renamed(transport: LocalFolderInbound) -> None:
    writer = _start_writer(transport, "temporary-name")
    assert _take_while_written(transport, writer) == [b"".join(LINES)]


def test_rename_leaves_a_file_modified_within_stable_seconds(tmp_path: Path) -> None:
    """The old "rename" rule took whatever was listed, at once."""
    transport = LocalFolderInbound("acme", LocalFolderSettings(tmp_path, "rename", STABLE_SECONDS))
    try:
        fresh, renamed_in = transport.inbox / "in-place.csv", transport.inbox / "renamed-in.csv"
        fresh.write_bytes(LINES[0])
        renamed_in.write_bytes(LINES[0])
        old = time.time_ns() - 3_600 * 10**9
        os.utime(renamed_in, ns=(old, old))  # written an hour ago, renamed in now
        assert [e.name for e in transport.scan()] == ["renamed-in.csv"]  # at first sight
        assert 0 < transport.settling() <= STABLE_SECONDS + 0.1  # what in-place.csv still needs
        with fresh.open("ab") as handle:
            handle.write(LINES[1])
        os.utime(fresh, ns=(old, old))  # an old mtime, but changed since the last look
        assert [e.name for e in transport.scan()] == ["renamed-in.csv"]
        time.sleep(STABLE_SECONDS + 0.05)
        assert [(e.name, e.size) for e in transport.scan()] == [
            ("in-place.csv", len(LINES[0] + LINES[1])),
            ("renamed-in.csv", len(LINES[0])),
        ]
    finally:
        transport.close()


@pytest.mark.parametrize("rule", ["stable", "rename", "closed"])
def test_a_file_changed_between_its_scan_and_its_claim_is_put_back(tmp_path: Path, rule: str) -> None:
    """The old claim took the file whatever happened after the scan: half-written, under a
    transport key that was not the one judged ready."""
    transport = LocalFolderInbound("acme", LocalFolderSettings(tmp_path, rule, 0.2))
    try:
        path = transport.inbox / "late.csv"
        path.write_bytes(LINES[0])
        old = time.time_ns() - 60 * 10**9
        os.utime(path, ns=(old, old))
        transport.scan()
        time.sleep(0.25)
        [entry] = transport.scan()
        with path.open("ab") as handle:  # the writer was not done after all
            handle.write(LINES[1])
        with pytest.raises(ClaimLost, match="changed after it was judged ready"):
            transport.claim(entry)
        assert os.listdir(transport.work) == [] and os.listdir(transport.inbox) == ["late.csv"]
        assert transport.scan() == []  # quiet again from now
        time.sleep(0.25)
        while not (entries := transport.scan()):  # "stable" and "closed" need a second look
            time.sleep(0.05)
        [entry] = entries
        claimed = transport.claim(entry)
        assert transport.read(claimed, 1_000) == LINES[0] + LINES[1]
    finally:
        transport.close()
