"""The same scenarios against every inbound and outbound transport: memory and local folder."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import pytest

from gateway.errors import ClaimLost, DeliveryError, LimitExceeded, TransportError
from gateway.settings import LocalFolderSettings
from gateway.transports.base import (
    Entry,
    Finalization,
    InboundTransport,
    OutboundFile,
    OutboundTransport,
    Outcome,
)
from gateway.transports.local import LocalFolderInbound, LocalFolderOutbound
from gateway.transports.memory import MemoryFolders, MemoryInbound, MemoryOutbound
from gateway.transports.names import safe_name

DAY = date(2025, 3, 10)
CHANNEL = "acme-in"


class Harness(Protocol):
    """What a scenario needs to see behind a transport: the client's side and the folders."""

    def open(self) -> InboundTransport: ...
    def drop(self, name: str, data: bytes, mtime_ns: int | None = None) -> None: ...
    def archived(self, day: date) -> dict[str, bytes]: ...
    def errors(self) -> dict[str, tuple[bytes, dict[str, object]]]: ...
    def inbox_names(self) -> set[str]: ...
    def outbound(self) -> OutboundTransport: ...
    def delivered(self) -> dict[str, bytes]: ...


@dataclass
class MemoryHarness:
    folders: MemoryFolders
    out: MemoryOutbound

    def open(self) -> InboundTransport:
        return MemoryInbound(CHANNEL, folders=self.folders)

    def drop(self, name: str, data: bytes, mtime_ns: int | None = None) -> None:
        MemoryInbound(CHANNEL, folders=self.folders).drop(name, data, mtime_ns)

    def archived(self, day: date) -> dict[str, bytes]:
        return {n: f.data for n, f in self.folders.archive.items() if f.business_date == day}

    def errors(self) -> dict[str, tuple[bytes, dict[str, object]]]:
        return {n: (f.data, dict(f.reason or {})) for n, f in self.folders.error.items()}

    def inbox_names(self) -> set[str]:
        return set(self.folders.inbox)

    def outbound(self) -> OutboundTransport:
        return self.out

    def delivered(self) -> dict[str, bytes]:
        return dict(self.out.files)


@dataclass
class LocalHarness:
    root: Path

    def open(self) -> InboundTransport:
        # No quiet time asked (stable_seconds 0): a file renamed in is taken at first sight unless
        # its mtime is in the future, as the memory transport takes a drop at once.
        settings = LocalFolderSettings(root=self.root / "in", readiness="rename", stable_seconds=0.0)
        return LocalFolderInbound(CHANNEL, settings)

    def drop(self, name: str, data: bytes, mtime_ns: int | None = None) -> None:
        inbox = self.root / "in" / "inbox"
        inbox.mkdir(parents=True, exist_ok=True)
        upload = inbox / f"upload-{len(os.listdir(inbox))}.part"
        upload.write_bytes(data)
        if mtime_ns is not None:
            os.utime(upload, ns=(mtime_ns, mtime_ns))
        os.rename(upload, inbox / name)

    def archived(self, day: date) -> dict[str, bytes]:
        folder = self.root / "in" / "archive" / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
        return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {}

    def errors(self) -> dict[str, tuple[bytes, dict[str, object]]]:
        folder = self.root / "in" / "error"
        found: dict[str, tuple[bytes, dict[str, object]]] = {}
        for path in folder.iterdir():
            if path.name.endswith(".reason.json"):
                continue
            reason = json.loads((folder / f"{path.name}.reason.json").read_text(encoding="utf-8"))
            found[path.name] = (b"" if path.is_symlink() else path.read_bytes(), reason)
        return found

    def inbox_names(self) -> set[str]:
        return set(os.listdir(self.root / "in" / "inbox"))

    def outbound(self) -> OutboundTransport:
        return LocalFolderOutbound("factor-out", LocalFolderSettings(root=self.root / "out"))

    def delivered(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in (self.root / "out").iterdir()}


@pytest.fixture(params=["memory", "local"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "memory":
        yield MemoryHarness(MemoryFolders(), MemoryOutbound("factor-out"))
    else:
        yield LocalHarness(tmp_path)


def _archive(day: date = DAY) -> Finalization:
    return Finalization(Outcome.ARCHIVED, day)


def test_transports_round_trip_oldest_first(harness: Harness) -> None:
    harness.drop("newer.csv", b"new;1\n", mtime_ns=1_500_000_000_000_000_000)  # in the past: 2017
    harness.drop("older.xml", b"<old/>", mtime_ns=1_000_000_000_000_000_000)
    transport = harness.open()
    assert transport.acquire()
    waiting = transport.scan()
    assert [(e.name, e.size) for e in waiting] == [("older.xml", 6), ("newer.csv", 6)]
    claimed = [transport.claim(e) for e in waiting]
    assert claimed == waiting
    assert harness.inbox_names() == set() and transport.scan() == []
    assert transport.read(claimed[1], 1_000) == b"new;1\n"
    reason: dict[str, object] = {"code": "GW-XML-MALFORMED", "message": "not XML"}
    transport.finalize([(claimed[0], Finalization(Outcome.REJECTED, DAY, reason)), (claimed[1], _archive())])
    assert harness.archived(DAY) == {"newer.csv": b"new;1\n"}
    assert harness.errors() == {"older.xml": (b"<old/>", {"outcome": "rejected", **reason})}
    assert transport.recover() == []


def test_transports_claim_twice_is_lost(harness: Harness) -> None:
    harness.drop("a.csv", b"x")
    first, second = harness.open(), harness.open()
    [entry] = first.scan()
    assert second.scan() == [entry]
    first.claim(entry)
    with pytest.raises(ClaimLost):
        second.claim(entry)
    with pytest.raises(ClaimLost):
        first.claim(Entry(CHANNEL, "never-dropped.csv", 1, 1))


def test_transports_crash_after_claim_is_recovered_with_the_same_key(harness: Harness) -> None:
    harness.drop("b.csv", b"abc")
    before = harness.open()
    assert before.acquire()
    [seen] = before.scan()
    before.claim(seen)
    del before  # the process dies here: nothing but the folders survives, the lock goes with it
    after = harness.open()
    assert after.acquire()
    assert after.scan() == []
    [resumed] = after.recover()
    assert resumed.transport_key == seen.transport_key
    assert after.read(resumed, 10) == b"abc"
    after.finalize([(resumed, _archive())])
    assert harness.archived(DAY) == {"b.csv": b"abc"} and after.recover() == []


def test_transports_name_still_in_work_stays_in_inbox(harness: Harness) -> None:
    harness.drop("c.csv", b"first")
    transport = harness.open()
    [first] = transport.scan()
    first = transport.claim(first)
    harness.drop("c.csv", b"second upload")
    [second] = transport.scan()
    with pytest.raises(ClaimLost):
        transport.claim(second)
    assert harness.inbox_names() == {"c.csv"}
    assert transport.read(first, 100) == b"first"
    transport.finalize([(first, _archive())])
    [again] = transport.scan()
    assert transport.read(transport.claim(again), 100) == b"second upload"


def test_transports_same_name_twice_gets_a_suffix_never_overwrites(harness: Harness) -> None:
    transport = harness.open()
    for content in (b"one", b"two", b"three"):
        harness.drop("d.csv", content)
        [entry] = transport.scan()
        transport.finalize([(transport.claim(entry), _archive())])
    assert harness.archived(DAY) == {"d.csv": b"one", "d.csv.1": b"two", "d.csv.2": b"three"}
    for code in ("A", "B"):
        harness.drop("e.csv", code.encode())
        [entry] = transport.scan()
        reason: dict[str, object] = {"code": code}
        transport.finalize([(transport.claim(entry), Finalization(Outcome.FAILED, DAY, reason))])
    assert harness.errors() == {
        "e.csv": (b"A", {"outcome": "failed", "code": "A"}),
        "e.csv.1": (b"B", {"outcome": "failed", "code": "B"}),
    }


def test_transports_say_where_a_taken_file_is_kept_and_read_it_back(harness: Harness) -> None:
    transport = harness.open()
    for content in (b"one", b"twotwo", b"three"):
        harness.drop("d.csv", content)
        [entry] = transport.scan()
        transport.finalize([(transport.claim(entry), _archive())])
    harness.drop("d.csv", b"four")
    [entry] = transport.scan()
    transport.finalize([(transport.claim(entry), Finalization(Outcome.REJECTED, DAY, {"code": "X"}))])
    harness.drop("d.csv", b"fiver")
    [entry] = transport.scan()
    claimed = transport.claim(entry)

    def found(size: int) -> list[tuple[str, bytes]]:
        return [(k.area, transport.read_kept(k, 100)) for k in transport.kept("d.csv", size, DAY)]

    assert found(3) == [("archive", b"one")]
    assert found(6) == [("archive", b"twotwo")]
    assert found(5) == [("work", b"fiver"), ("archive", b"three")]
    assert found(4) == [("error", b"four")]
    assert transport.kept("d.csv", 3, date(2025, 3, 11)) == []
    assert transport.kept("other.csv", 3, DAY) == []
    with pytest.raises(LimitExceeded):
        transport.read_kept(transport.kept("d.csv", 6, DAY)[0], 5)
    transport.finalize([(claimed, _archive())])


def test_transports_suffixed_names_in_one_batch_do_not_collide(harness: Harness) -> None:
    transport = harness.open()
    harness.drop("g.csv", b"earlier")
    transport.finalize([(transport.claim(transport.scan()[0]), Finalization(Outcome.REJECTED, DAY, {}))])
    for name in ("g.csv", "g.csv.1"):
        harness.drop(name, name.encode())
    claimed = [transport.claim(e) for e in transport.scan()]
    many = [(f"h{n}.csv", f"h{n}".encode()) for n in range(12)]  # enough for a batched sync
    for name, data in many:
        harness.drop(name, data)
    claimed += [transport.claim(e) for e in transport.scan()]
    transport.finalize([(e, Finalization(Outcome.REJECTED, DAY, {"code": e.name})) for e in claimed])
    parked = harness.errors()
    assert sorted(data for data, _ in parked.values()) == sorted(
        [b"earlier", b"g.csv", b"g.csv.1", *dict(many).values()]
    )
    assert all(parked[name][1]["code"] == name for name, _ in many)


def test_transports_read_is_capped(harness: Harness) -> None:
    harness.drop("big.xml", b"x" * 5_000)
    transport = harness.open()
    entry = transport.claim(transport.scan()[0])
    with pytest.raises(LimitExceeded) as caught:
        transport.read(entry, 4_999)
    assert caught.value.code == "GW-FILE-TOO-LARGE"
    assert len(transport.read(entry, 5_000)) == 5_000


def test_transports_finalize_moves_the_others_when_one_is_missing(harness: Harness) -> None:
    harness.drop("here.csv", b"1")
    transport = harness.open()
    here = transport.claim(transport.scan()[0])
    ghost = Entry(CHANNEL, "ghost.csv", 1, 1)
    with pytest.raises(TransportError, match=r"ghost\.csv"):
        transport.finalize([(ghost, _archive()), (here, _archive())])
    assert harness.archived(DAY) == {"here.csv": b"1"}


def test_transports_take_every_name_under_a_safe_name_and_keep_the_sent_one(harness: Harness) -> None:
    taken_as_they_are = ["Facture 2025-001 (copie).pdf", "Relevé.csv"]
    stand_ins = [
        "Relevé d'avoirs.csv",
        "Facture N°123.xml",
        "export&co.csv",
        "CON.csv",
        "-rf.csv",
        "trailing. ",
    ]
    refused = ["evil\x1b[31m.csv", "x" * 210 + ".csv", "facture\u202egpj.exe", "a..b.csv"]
    names = taken_as_they_are + stand_ins + refused
    for number, name in enumerate(names):
        harness.drop(name, f"payload {number}".encode(), mtime_ns=1_000_000_000 * (number + 1))
    transport = harness.open()
    entries = transport.scan()
    assert [e.sent_name if e.sent_name is not None else e.name for e in entries] == names
    assert all(safe_name(e.name) == e.name for e in entries)
    assert len({e.name for e in entries}) == len(names)
    assert [e.name for e in entries[:2]] == taken_as_they_are and all(
        e.sent_name is None for e in entries[:2]
    )
    assert all(e.name.startswith("refused-name-") for e in entries[len(names) - len(refused) :])
    assert [e.shown_name for e in entries][:8] == names[:8]
    assert "\x1b" not in entries[8].shown_name and "\\x1b" in entries[8].shown_name
    for number, entry in enumerate(entries):
        claimed = transport.claim(entry)
        assert (claimed.name, claimed.sent_name) == (entry.name, entry.sent_name)
        assert transport.read(claimed, 100) == f"payload {number}".encode()
    assert harness.inbox_names() == set()
    assert harness.errors() == {}


def test_transports_outbound_never_overwrites_and_accepts_identical_redelivery(harness: Harness) -> None:
    out = harness.outbound()
    batch = [OutboundFile("REM_0001.csv", b"a;b\n"), OutboundFile("REM_0001.json", b"{}")]
    out.deliver(batch)
    out.deliver(batch)  # a re-delivery after a crash: nothing to do, no error
    assert harness.delivered() == {"REM_0001.csv": b"a;b\n", "REM_0001.json": b"{}"}
    with pytest.raises(DeliveryError, match=r"REM_0001\.csv"):
        out.deliver([OutboundFile("REM_0002.csv", b"new"), OutboundFile("REM_0001.csv", b"other")])
    with pytest.raises(DeliveryError):
        out.deliver([OutboundFile("REM_0003.csv", b"1"), OutboundFile("REM_0003.csv", b"2")])
    assert harness.delivered() == {"REM_0001.csv": b"a;b\n", "REM_0001.json": b"{}"}


@pytest.mark.parametrize(
    "name", ["../escape.csv", "/etc/cron.d/x", ".hidden", "a\0b", "NUL", "", "sub/dir.csv"]
)
def test_transports_outbound_refuses_unsafe_names(harness: Harness, name: str) -> None:
    with pytest.raises(DeliveryError):
        harness.outbound().deliver([OutboundFile(name, b"data")])
    assert harness.delivered() == {}


def test_transports_one_holder_per_channel(harness: Harness) -> None:
    first, second = harness.open(), harness.open()
    assert first.holder() is None
    assert first.acquire() and first.acquire()  # not counted: a second call is a no-op
    assert not second.acquire()
    described = second.holder()
    assert described is not None and described.startswith(f"pid {os.getpid()} on ")
    assert described == first.holder()
    first.release()
    assert second.acquire() and not first.acquire()
    second.close()  # closing gives the channel back
    assert first.acquire()


def test_transports_recover_needs_the_channel(harness: Harness) -> None:
    harness.drop("r.csv", b"r")
    transport = harness.open()
    transport.claim(transport.scan()[0])
    with pytest.raises(TransportError, match="acquire"):
        transport.recover()
    assert transport.acquire()
    assert [e.name for e in transport.recover()] == ["r.csv"]
    transport.release()
    with pytest.raises(TransportError):
        transport.recover()


def test_transports_waiting_for_the_channel(harness: Harness) -> None:
    first, second = harness.open(), harness.open()
    assert first.acquire()
    started = time.monotonic()
    assert not second.acquire(wait_seconds=0.2)
    assert time.monotonic() - started >= 0.19
    releaser = threading.Timer(0.1, first.release)
    releaser.start()
    assert second.acquire(wait_seconds=5)
    releaser.join()


def test_transports_ignored_and_outbound_recover_on_clean_folders(harness: Harness) -> None:
    harness.drop("fine.csv", b"1")
    transport = harness.open()
    assert [e.name for e in transport.scan()] == ["fine.csv"]
    assert transport.ignored() == []
    out = harness.outbound()
    out.deliver([OutboundFile("REM_0009.csv", b"9")])
    assert out.recover() == []
    assert harness.delivered() == {"REM_0009.csv": b"9"}
