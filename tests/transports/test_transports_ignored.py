"""What the inbox holds and the scan leaves there is listed and reported, never silent."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.settings import LocalFolderSettings
from gateway.transports.base import IgnoredFile
from gateway.transports.local import LocalFolderInbound
from gateway.transports.memory import MemoryInbound


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def stable(tmp_path: Path, clock: FakeClock) -> Iterator[LocalFolderInbound]:
    settings = LocalFolderSettings(tmp_path, "stable", 2.0, report_after_seconds=600, empty_after_seconds=300)
    transport = LocalFolderInbound("acme", settings, clock=clock)
    yield transport
    transport.close()


def _put(path: Path, data: bytes, seconds_ago: float, clock: FakeClock) -> None:
    path.write_bytes(data)
    stamp = clock.now - seconds_ago
    os.utime(path, (stamp, stamp))


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


def test_local_ignored_lists_what_stays_and_why(stable: LocalFolderInbound, clock: FakeClock) -> None:
    _put(stable.inbox / ".invoices.csv", b"12345", 60, clock)
    _put(stable.inbox / "batch.csv.part", b"123", 30, clock)
    _put(stable.inbox / "empty.csv", b"", 10, clock)
    (stable.inbox / "sub").mkdir()
    _put(stable.inbox / "ok.csv", b"1", 3600, clock)
    assert stable.scan() == []  # first look
    found = {f.name: f for f in stable.ignored()}
    assert sorted(found) == [".invoices.csv", "batch.csv.part", "empty.csv", "sub"]
    hidden = found[".invoices.csv"]
    assert hidden == IgnoredFile(
        ".invoices.csv", "hidden file (its name starts with a dot): never taken", 5, hidden.age_seconds
    )
    assert 59 <= hidden.age_seconds <= 61
    assert found["batch.csv.part"].reason == "temporary upload name (.part): taken only once renamed"
    empty = "empty file: taken (and refused as empty) once unchanged for 300 seconds"
    assert found["empty.csv"].reason == empty
    assert found["sub"].reason.startswith("a folder")
    clock.now += 3
    assert [e.name for e in stable.scan()] == ["ok.csv"]
    os.unlink(stable.inbox / "batch.csv.part")
    stable.scan()
    assert [f.name for f in stable.ignored()] == [".invoices.csv", "empty.csv", "sub"]


def test_local_ignored_escapes_names_for_display(stable: LocalFolderInbound, clock: FakeClock) -> None:
    _put(stable.inbox / ".evil\x1b[2J.csv", b"x", 0, clock)
    stable.scan()
    assert [f.name for f in stable.ignored()] == [repr(".evil\x1b[2J.csv")]


def test_local_left_file_is_reported_once(
    stable: LocalFolderInbound, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    _put(stable.inbox / ".factures.csv", b"data", 0, clock)
    stable.scan()
    clock.now += 599
    stable.scan()
    assert _warnings(caplog) == []
    clock.now += 2
    for _ in range(3):
        stable.scan()
    [warning] = _warnings(caplog)
    assert warning == (
        f"acme: {stable.inbox}/.factures.csv has been left in the inbox for 10 minutes: "
        "hidden file (its name starts with a dot): never taken"
    )
    _put(stable.inbox / ".factures.csv", b"changed", 0, clock)  # a new version: reported again later
    stable.scan()
    clock.now += 3600 * 5
    stable.scan()
    stable.scan()
    assert len(_warnings(caplog)) == 2 and "5 hours" in _warnings(caplog)[1]


def test_local_old_file_renamed_in_is_reported_at_once(
    stable: LocalFolderInbound, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    _put(stable.inbox / "upload.tmp", b"stuck", 2 * 86_400, clock)
    stable.scan()
    [warning] = _warnings(caplog)
    assert "upload.tmp has been left in the inbox for 2 days: temporary upload name (.tmp)" in warning


@pytest.mark.parametrize("readiness", ["stable", "closed"])
def test_local_empty_file_is_taken_after_empty_after_seconds(
    tmp_path: Path, clock: FakeClock, readiness: str
) -> None:
    settings = LocalFolderSettings(tmp_path, readiness, 2.0, empty_after_seconds=30)
    transport = LocalFolderInbound("acme", settings, clock=clock)
    _put(transport.inbox / "empty.csv", b"", 0, clock)
    assert transport.scan() == []
    clock.now += 29
    assert transport.scan() == []
    assert [f.name for f in transport.ignored()] == ["empty.csv"]
    clock.now += 1
    [entry] = transport.scan()
    assert (entry.name, entry.size) == ("empty.csv", 0)
    assert transport.ignored() == []
    transport.close()


def test_local_empty_file_that_gets_content_waits_as_usual(
    stable: LocalFolderInbound, clock: FakeClock
) -> None:
    path = stable.inbox / "slow.csv"
    _put(path, b"", 0, clock)
    stable.scan()
    clock.now += 299
    stable.scan()
    _put(path, b"finally", 0, clock)  # the writer was only slow to start
    clock.now += 1
    assert stable.scan() == []  # changed: the "stable" rule starts again, 2 s
    assert stable.ignored() == []
    clock.now += 2
    assert [(e.name, e.size) for e in stable.scan()] == [("slow.csv", 7)]


def test_local_empty_file_under_rename_is_taken_at_once(tmp_path: Path) -> None:
    """Without waiting ``empty_after_seconds``: the rename said it was complete."""
    transport = LocalFolderInbound("acme", LocalFolderSettings(tmp_path, "rename", 0.0))
    (transport.inbox / "empty.csv").touch()
    assert [e.size for e in transport.scan()] == [0]
    transport.close()


def test_memory_ignored_is_empty() -> None:
    transport = MemoryInbound("acme")
    transport.drop(".hidden.csv", b"1")
    transport.scan()
    assert transport.ignored() == []
