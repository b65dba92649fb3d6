"""The ledger knows who it is, notices being replaced, keeps a second writer off a SQLite
file, and shares channels between processes with leases."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Databases
from sqlalchemy import Engine, create_engine, text

from gateway.errors import LedgerBusy, LedgerReplaced
from gateway.ledger import Ledger


def test_a_ledger_has_one_identity_that_stays(databases: Databases) -> None:
    url = databases.fresh_url()
    first = Ledger.open(url)
    try:
        identity = first.identity()
        first.verify()
    finally:
        first.close()
    again = Ledger.open(url)
    try:
        assert again.identity() == identity and len(identity) == 36
    finally:
        again.close()
    other = Ledger.open(databases.fresh_url())
    try:
        assert other.identity() != identity
    finally:
        other.close()


def _own_ledger(databases: Databases) -> tuple[Ledger, Engine]:
    """A ledger in a database of its own: these tests damage it on purpose."""
    url = databases.fresh_url()
    return Ledger.open(url), create_engine(url)


def test_a_replaced_identity_stops_the_ledger(databases: Databases) -> None:
    ledger, raw_engine = _own_ledger(databases)
    try:
        ledger.verify()
        with raw_engine.begin() as conn:
            conn.execute(text("UPDATE ledger_identity SET ledger_id = 'someone-else'"))
        with pytest.raises(LedgerReplaced, match="replaced"):
            ledger.verify()
    finally:
        ledger.close()
        raw_engine.dispose()


@pytest.mark.parametrize("how", ["deleted", "replaced", "wal-deleted"])
def test_a_sqlite_file_deleted_or_replaced_under_the_ledger_is_noticed(tmp_path: Path, how: str) -> None:
    path = tmp_path / "ledger.sqlite"
    ledger = Ledger.open(f"sqlite:///{path}")
    try:
        ledger.register_envelopes("C1", "in", [("k", "a.csv")])
        ledger.verify()
        if how == "deleted":
            for leftover in tmp_path.glob("ledger.sqlite*"):
                leftover.unlink()
        elif how == "replaced":
            other = tmp_path / "other" / "ledger.sqlite"
            Ledger.open(f"sqlite:///{other}").close()
            shutil.copyfile(other, tmp_path / "copy.sqlite")
            os.replace(tmp_path / "copy.sqlite", path)
        else:
            Path(f"{path}-wal").unlink()
        with pytest.raises(LedgerReplaced):
            ledger.verify()
    finally:
        ledger.close()


def test_a_second_writer_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    first = Ledger.open(url, exclusive=True)
    try:
        with pytest.raises(LedgerBusy, match=f"pid {os.getpid()}"):
            Ledger.open(url, exclusive=True)
        reader = Ledger.open(url)  # reading (status) stays possible
        reader.close()
    finally:
        first.close()
    Ledger.open(url, exclusive=True).close()  # free again once the first one closed


def test_a_killed_writer_frees_the_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"from gateway.ledger import Ledger; Ledger.open({url!r}, exclusive=True); "
         "print('open', flush=True); import time; time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(LedgerBusy, match=f"pid {holder.pid}"):
            Ledger.open(url, exclusive=True)
    finally:
        holder.kill()
        holder.wait()
    Ledger.open(url, exclusive=True).close()


def test_leases_are_held_renewed_expired_and_taken_from_the_dead(ledger: Ledger) -> None:
    me, other = f"{socket.gethostname()}:{os.getpid()}", "elsewhere:123"
    assert ledger.take_lease("channel:a", me, 60) is None
    assert ledger.take_lease("channel:a", me, 60) is None  # renewed
    held = ledger.take_lease("channel:a", other, 60)
    assert held is not None and held.holder == me
    ledger.drop_lease("channel:a", me)
    assert ledger.take_lease("channel:a", other, 60) is None
    assert ledger.take_lease("channel:a", me, 60) is not None  # the other node holds it
    assert ledger.take_lease("channel:b", other, -1) is None  # already expired
    assert ledger.take_lease("channel:b", me, 60) is None
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    ghost = f"{socket.gethostname()}:{dead.stdout.strip()}"  # a process of this host that has ended
    assert ledger.take_lease("channel:c", ghost, 600) is None
    assert ledger.take_lease("channel:c", me, 60) is None


def test_events_are_recorded_in_order(ledger: Ledger) -> None:
    ledger.record_event("ledger-adopted", "alice", {"reason": "restored from backup"})
    ledger.record_event("ledger-adopted", "bob", {"reason": "moved to PostgreSQL"})
    events = ledger.events()
    assert [(e.actor, e.detail["reason"]) for e in events] == [
        ("bob", "moved to PostgreSQL"),
        ("alice", "restored from backup"),
    ]


def test_a_ledger_emptied_under_a_running_process_is_noticed(databases: Databases) -> None:
    ledger, raw_engine = _own_ledger(databases)
    try:
        with raw_engine.begin() as conn:
            conn.execute(text("DELETE FROM ledger_identity"))
        with pytest.raises(LedgerReplaced, match="no longer holds"):
            ledger.verify()
    finally:
        ledger.close()
        raw_engine.dispose()
