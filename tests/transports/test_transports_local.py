"""What only a real folder can get wrong: readiness, temporary names, links, events, bursts."""

from __future__ import annotations

import json
import os
import threading
import time
import unicodedata
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from gateway.errors import DeliveryError, TransportError
from gateway.settings import LocalFolderSettings
from gateway.transports.base import Entry, Finalization, OutboundFile, Outcome
from gateway.transports.local import LocalFolderInbound, LocalFolderOutbound

DAY = date(2025, 3, 10)


class FakeClock:
    """Readiness is judged on this clock; it starts at the real time so file mtimes compare."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def stable(tmp_path: Path, clock: FakeClock) -> Iterator[LocalFolderInbound]:
    transport = LocalFolderInbound("acme", LocalFolderSettings(tmp_path, "stable", 2.0), clock=clock)
    yield transport
    transport.close()


@pytest.fixture
def renamed(tmp_path: Path) -> Iterator[LocalFolderInbound]:
    # no quiet time asked: a file renamed in is taken at first sight
    transport = LocalFolderInbound("acme", LocalFolderSettings(tmp_path, "rename", 0.0))
    yield transport
    transport.close()


def _age(path: Path, seconds_ago: float) -> None:
    stamp = int((time.time() - seconds_ago) * 1e9)
    os.utime(path, ns=(stamp, stamp))


def test_local_folders_are_created(tmp_path: Path) -> None:
    LocalFolderInbound("acme", LocalFolderSettings(tmp_path / "deep" / "root")).close()
    assert sorted(p.name for p in (tmp_path / "deep" / "root").iterdir()) == [
        "archive",
        "error",
        "inbox",
        "work",
    ]


def test_local_stable_first_scan_only_records(stable: LocalFolderInbound, clock: FakeClock) -> None:
    path = stable.inbox / "old.csv"
    path.write_bytes(b"complete")
    _age(path, 3600)
    assert stable.scan() == []
    clock.advance(1.9)
    assert stable.scan() == []
    clock.advance(0.2)
    assert [e.name for e in stable.scan()] == ["old.csv"]


def test_local_stable_growing_file_is_not_ready(stable: LocalFolderInbound, clock: FakeClock) -> None:
    path = stable.inbox / "upload.xml"
    path.write_bytes(b"<Invoice>")
    _age(path, 60)
    assert stable.scan() == []
    for _ in range(3):
        clock.advance(5)
        with path.open("ab") as handle:
            handle.write(b"<more/>")
        _age(path, 60)  # an mtime that looks old: only the size tells it is still growing
        assert stable.scan() == []
    clock.advance(2)
    [entry] = stable.scan()
    assert entry.size == len(b"<Invoice>") + 3 * len(b"<more/>")


def test_local_stable_recent_mtime_is_not_ready(stable: LocalFolderInbound, clock: FakeClock) -> None:
    path = stable.inbox / "fresh.csv"
    path.write_bytes(b"x")
    stamp = int((clock.now + 10) * 1e9)  # written "later" than the clock says (a share's skewed clock)
    os.utime(path, ns=(stamp, stamp))
    assert stable.scan() == []
    clock.advance(5)
    assert stable.scan() == []  # unchanged for 5 s, but the mtime is not yet 2 s old
    clock.advance(7)
    assert [e.name for e in stable.scan()] == ["fresh.csv"]


def test_local_zero_byte_file_is_taken_once_empty_long_enough(
    stable: LocalFolderInbound, clock: FakeClock
) -> None:
    path = stable.inbox / "empty.csv"
    path.touch()
    _age(path, 3600)
    for _ in range(3):  # 0, 100 and 200 s: maybe the content is still coming
        assert stable.scan() == []
        clock.advance(100)
    [entry] = stable.scan()  # unchanged and empty for 300 s: taken, for the pipeline to refuse as empty
    assert (entry.name, entry.size) == ("empty.csv", 0)


def test_local_temporary_names_dot_files_and_folders_are_ignored(renamed: LocalFolderInbound) -> None:
    ignored = ["x.csv.part", "y.TMP", "z.filepart", "w.crdownload", ".hidden.csv"]
    for name in ignored:
        (renamed.inbox / name).write_bytes(b"partial")
    (renamed.inbox / "folder").mkdir()
    (renamed.inbox / "folder" / "inner.csv").write_bytes(b"not recursed")
    assert renamed.scan() == []
    os.rename(renamed.inbox / "x.csv.part", renamed.inbox / "x.csv")
    assert [e.name for e in renamed.scan()] == ["x.csv"]
    assert sorted(os.listdir(renamed.inbox)) == sorted([*ignored[1:], "folder", "x.csv"])


def test_local_symlink_is_parked_never_followed(renamed: LocalFolderInbound, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"do not read")
    (renamed.inbox / "link.csv").symlink_to(secret)
    (renamed.inbox / "dangling.csv").symlink_to(tmp_path / "nowhere")
    assert renamed.scan() == []
    assert os.listdir(renamed.inbox) == []
    for name, target in (("link.csv", secret), ("dangling.csv", tmp_path / "nowhere")):
        parked = renamed.error / name
        assert parked.is_symlink() and os.readlink(parked) == str(target)
        reason = json.loads((renamed.error / f"{name}.reason.json").read_text(encoding="utf-8"))
        assert reason["code"] == "GW-FILE-SYMLINK" and reason["target"] == str(target)
    assert secret.read_bytes() == b"do not read"


def test_local_fifo_is_parked_not_opened(renamed: LocalFolderInbound) -> None:
    os.mkfifo(renamed.inbox / "pipe.csv")
    assert renamed.scan() == []
    reason = json.loads((renamed.error / "pipe.csv.reason.json").read_text(encoding="utf-8"))
    assert reason["code"] == "GW-FILE-NOT-REGULAR"


def test_local_decomposed_accents_become_one_name(renamed: LocalFolderInbound) -> None:
    decomposed = unicodedata.normalize("NFD", "facture-été.csv")
    (renamed.inbox / decomposed).write_bytes(b"1")
    [entry] = renamed.scan()
    assert entry.name == "facture-été.csv" != decomposed
    claimed = renamed.claim(entry)
    assert os.listdir(renamed.work) == ["facture-été.csv"]
    assert renamed.acquire()
    assert renamed.recover() == [claimed]


@pytest.mark.parametrize("name", ["../inbox/x.csv", "/etc/passwd", "a/b.csv", ".."])
def test_local_hand_made_entries_cannot_leave_the_folders(renamed: LocalFolderInbound, name: str) -> None:
    entry = Entry("acme", name, 1, 1)
    with pytest.raises(TransportError):
        renamed.claim(entry)
    with pytest.raises(TransportError):
        renamed.read(entry, 10)
    with pytest.raises(TransportError):
        renamed.finalize([(entry, Finalization(Outcome.ARCHIVED, DAY))])


def test_local_claim_keeps_size_and_mtime(renamed: LocalFolderInbound) -> None:
    path = renamed.inbox / "k.csv"
    path.write_bytes(b"12345")
    os.utime(path, ns=(1_700_000_000_123_456_789, 1_700_000_000_123_456_789))
    [entry] = renamed.scan()
    assert entry.mtime_ns == 1_700_000_000_123_456_789
    assert renamed.claim(entry).transport_key == entry.transport_key == "k.csv|5|1700000000123456789"


def test_local_archive_is_dated_and_error_has_reason_without_leftovers(renamed: LocalFolderInbound) -> None:
    for name in ("ok.csv", "bad.csv"):
        (renamed.inbox / name).write_bytes(name.encode())
    ok, bad = (renamed.claim(e) for e in renamed.scan())
    reason: dict[str, object] = {"code": "GW-CSV-HEADER", "message": "é missing", "when": DAY}
    renamed.finalize(
        [(ok, Finalization(Outcome.ARCHIVED, DAY)), (bad, Finalization(Outcome.REJECTED, DAY, reason))]
    )
    assert (renamed.archive / "2025" / "03" / "10" / "ok.csv").read_bytes() == b"ok.csv"
    assert sorted(os.listdir(renamed.error)) == ["bad.csv", "bad.csv.reason.json"]
    text = (renamed.error / "bad.csv.reason.json").read_text(encoding="utf-8")
    assert json.loads(text) == {
        "outcome": "rejected",
        "code": "GW-CSV-HEADER",
        "message": "é missing",
        "when": "2025-03-10",
    }
    assert '\n  "code"' in text  # indented for people
    assert os.listdir(renamed.work) == []


def test_local_orphan_reason_from_a_crash_is_replaced(renamed: LocalFolderInbound) -> None:
    (renamed.error / "f.csv.reason.json").write_text(
        '{"outcome": "failed"}', encoding="utf-8"
    )  # file never moved
    (renamed.inbox / "f.csv").write_bytes(b"f")
    entry = renamed.claim(renamed.scan()[0])
    renamed.finalize([(entry, Finalization(Outcome.FAILED, DAY, {"code": "GW-INTERNAL"}))])
    assert sorted(os.listdir(renamed.error)) == ["f.csv", "f.csv.reason.json"]
    assert (
        json.loads((renamed.error / "f.csv.reason.json").read_text(encoding="utf-8"))["code"] == "GW-INTERNAL"
    )


def test_local_burst_of_two_thousand_files(renamed: LocalFolderInbound) -> None:
    for number in range(2_000):
        (renamed.inbox / f"batch-{number:04d}.csv").write_bytes(b"x")
    found = renamed.scan()
    assert len(found) == 2_000
    assert found == sorted(found, key=lambda e: (e.mtime_ns, e.name))
    claimed = [renamed.claim(e) for e in found]
    renamed.finalize([(e, Finalization(Outcome.ARCHIVED, DAY)) for e in claimed])
    assert len(os.listdir(renamed.archive / "2025" / "03" / "10")) == 2_000


def test_local_wait_wakes_early_on_a_rename_into_the_inbox(
    renamed: LocalFolderInbound, tmp_path: Path
) -> None:
    outside = tmp_path / "upload.part"
    outside.write_bytes(b"data")

    def upload() -> None:
        time.sleep(0.2)
        os.rename(outside, renamed.inbox / "arrived.csv")

    renamed.wait(0.01)  # starts the watcher
    uploader = threading.Thread(target=upload)
    started = time.monotonic()
    uploader.start()
    renamed.wait(10)
    elapsed = time.monotonic() - started
    uploader.join()
    assert 0.15 < elapsed < 3
    assert [e.name for e in renamed.scan()] == ["arrived.csv"]


def test_local_wait_without_events_sleeps_the_timeout(renamed: LocalFolderInbound) -> None:
    started = time.monotonic()
    renamed.wait(0.15)
    assert time.monotonic() - started >= 0.14


def test_local_outbound_writes_atomically_with_done_markers(tmp_path: Path) -> None:
    out = LocalFolderOutbound("factor", LocalFolderSettings(tmp_path / "out", done_marker=True))
    out.deliver([OutboundFile("REM_1.csv", b"a"), OutboundFile("REM_1.json", b"{}")])
    names = sorted(os.listdir(tmp_path / "out"))
    assert names == ["REM_1.csv", "REM_1.csv.done", "REM_1.json", "REM_1.json.done"]
    os.unlink(tmp_path / "out" / "REM_1.json.done")  # a crash after the data, before the marker
    out.deliver([OutboundFile("REM_1.csv", b"a"), OutboundFile("REM_1.json", b"{}")])
    assert sorted(os.listdir(tmp_path / "out")) == names


def test_local_outbound_failed_batch_leaves_nothing(tmp_path: Path) -> None:
    out = LocalFolderOutbound("factor", LocalFolderSettings(tmp_path / "out"))
    (tmp_path / "out" / "taken.csv").mkdir()
    with pytest.raises(DeliveryError, match=r"taken\.csv"):
        out.deliver([OutboundFile("fresh.csv", b"1"), OutboundFile("taken.csv", b"2")])
    assert os.listdir(tmp_path / "out") == ["taken.csv"]
    (tmp_path / "out" / "same-size.csv").write_bytes(b"AAAA")
    with pytest.raises(DeliveryError):
        out.deliver([OutboundFile("same-size.csv", b"BBBB")])
    assert (tmp_path / "out" / "same-size.csv").read_bytes() == b"AAAA"


def test_local_outbound_large_batch_is_complete_and_clean(tmp_path: Path) -> None:
    out = LocalFolderOutbound("factor", LocalFolderSettings(tmp_path / "out", done_marker=True))
    batch = [OutboundFile(f"ACK_{n:03d}.csv", f"line {n}\n".encode()) for n in range(200)]
    out.deliver(batch)
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").glob("ACK_*.csv")} == {
        f.name: f.data for f in batch
    }
    assert len(list((tmp_path / "out").glob("*.done"))) == 200
    assert not [name for name in os.listdir(tmp_path / "out") if name.startswith(".")]


def test_local_wait_falls_back_to_sleeping_when_the_watcher_cannot_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    transport = LocalFolderInbound("acme", LocalFolderSettings(tmp_path, "rename"))
    transport.inbox.rmdir()  # the watch cannot be set up (like an exhausted inotify limit)
    started = time.monotonic()
    transport.wait(0.1)
    transport.wait(0.1)
    assert time.monotonic() - started >= 0.19
    assert [r.levelname for r in caplog.records if "cannot watch" in r.getMessage()] == ["WARNING"]
    transport.close()


def test_local_closed_file_is_taken_stable_seconds_after_its_close_not_at_it(
    tmp_path: Path, clock: FakeClock
) -> None:
    """A close is not "complete" by itself (a writer may close after every line): the file must
    then stay unchanged for ``stable_seconds``. The old rule took it at the close."""
    transport = LocalFolderInbound("acme", LocalFolderSettings(tmp_path, "closed", 2.0), clock=clock)
    try:
        transport.wait(0.01)  # starts the watcher, as the daemon does
        with (transport.inbox / "done.xml").open("wb") as handle:
            handle.write(b"<Invoice/>")
        deadline = time.monotonic() + 1.5  # long enough for the close event to be noted
        while time.monotonic() < deadline:
            assert transport.scan() == []  # the fake clock stands still: no quiet time yet
            time.sleep(0.05)
        clock.advance(1.0)
        assert transport.scan() == []
        clock.advance(3.0)  # quiet for 2 s after the close (noted up to ~1.5 s after the write)
        assert [e.name for e in transport.scan()] == ["done.xml"]
    finally:
        transport.close()


def test_local_closed_then_written_again_is_not_ready(tmp_path: Path, clock: FakeClock) -> None:
    transport = LocalFolderInbound("acme", LocalFolderSettings(tmp_path, "closed", 2.0), clock=clock)
    try:
        transport.wait(0.01)
        path = transport.inbox / "twice.csv"
        path.write_bytes(b"first part")
        time.sleep(0.3)  # the close event is seen
        transport.close()  # no watcher any more: the next write's close goes unseen
        time.sleep(0.01)
        with path.open("ab") as handle:
            handle.write(b" second part")
        assert transport.scan() == []
    finally:
        transport.close()
