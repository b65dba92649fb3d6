"""Two daemons on one workdir and one PostgreSQL ledger: every file decided once.

The issue "two processes on one workdir corrupt each other": each inbound channel is taken
by one process at a time (a ``flock`` on the channel folder plus a lease row in the ledger),
so two ``gateway run`` daemons started on the same folders and the same PostgreSQL ledger
share the work without ever processing a file twice, overwriting a decision or moving a
delivered file to ``error/``. 1,000 small valid files are dropped while both run.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from e2e_support import SAMPLES, prepare_workdir, run_gateway

pytestmark = pytest.mark.slow

FILES = 1_000
CLIENTS = ("acme", "bravo")
#: Whole test budget: the daemons need a few seconds for 1,000 files; the rest is a safety margin.
SETTLE_SECONDS = 45.0
BRAVO_AMOUNTS = "10.00;2.00;12.00"  # without VAT; VAT; with VAT


def _acme_ubl(number: str) -> bytes:
    """acme's sample UBL invoice (debtor BETA), renumbered and made small (12.00 EUR)."""
    text = (SAMPLES / "batches" / "acme" / "acme_F-1010.xml").read_text(encoding="utf-8")
    for old, new in (
        ("F-1010", number),
        (">5000.00<", ">10.00<"),
        (">1000.00<", ">2.00<"),
        (">6000.00<", ">12.00<"),
        (">50.00<", ">0.10<"),
    ):
        assert old in text, old
        text = text.replace(old, new)
    return text.encode("utf-8")


def _bravo_csv(number: str) -> bytes:
    """One row of bravo's sample CSV batch (debtor DELTA), renumbered and made small (12.00 EUR)."""
    header = (SAMPLES / "batches" / "bravo" / "bravo_batch_20250310.csv").read_text().splitlines()[0]
    row = (
        f"{number};380;2025-03-07;2025-05-06;EUR;443061841;BRAVO SAS;DELTA SA;823456785;{BRAVO_AMOUNTS};PO-1"
    )
    return f"{header}\n{row}\n".encode()


def _drop_files(workdir: Path) -> dict[str, set[str]]:
    """FILES files, alternating between the two clients, each written under a temporary
    dot-name and renamed into the inbox; returns the invoice numbers per client."""
    numbers: dict[str, set[str]] = {client: set() for client in CLIENTS}
    for index in range(FILES):
        client = CLIENTS[index % 2]
        inbox = workdir / "clients" / client / "inbox"
        if client == "acme":
            number, name, data = f"TA-{index:05d}", f"TA-{index:05d}.xml", _acme_ubl(f"TA-{index:05d}")
        else:
            number, name, data = f"TB-{index:05d}", f"TB-{index:05d}.csv", _bravo_csv(f"TB-{index:05d}")
        temporary = inbox / f".{name}.part"
        temporary.write_bytes(data)
        os.replace(temporary, inbox / name)
        numbers[client].add(number)
    return numbers


def _start_daemon(workdir: Path, ledger_url: str, name: str) -> tuple[subprocess.Popen[str], Path, Path]:
    """``gateway run --json`` in its own process; stdout and stderr go to files (a full pipe would
    block the daemon). "gateway started" (INFO) says the daemon is running."""
    env = {k: v for k, v in os.environ.items() if k != "GATEWAY_FAILPOINT"}
    out, err = workdir.parent / f"{name}.out", workdir.parent / f"{name}.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "gateway", "-v", "--ledger-url", ledger_url, "run", "--json"],
            cwd=workdir,
            env=env,
            stdout=stdout,
            stderr=stderr,
            text=True,
        )
    return daemon, out, err


def _wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _running_or_gone(daemon: subprocess.Popen[str], err: Path) -> bool:
    """The daemon's scheduler started (its first scan cycle is under way), or the daemon stopped."""
    return "gateway started" in err.read_text() or daemon.poll() is not None


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def _settled(workdir: Path, ledger_url: str) -> bool:
    """Every file out of inbox/ and work/, archived or in error/, and finalised in the ledger
    (so that SIGTERM finds both daemons idle)."""
    done = 0
    for client in CLIENTS:
        root = workdir / "clients" / client
        if any((root / "inbox").iterdir()) or any((root / "work").iterdir()):
            return False
        done += len(_files(root / "archive"))
        done += sum(1 for p in _files(root / "error") if not p.name.endswith(".reason.json"))
    if done < FILES:
        return False
    finalised = _rows(ledger_url, "SELECT count(*) FROM envelopes WHERE finalized_at IS NOT NULL")
    return bool(finalised[0][0] >= FILES)


def _stop(daemon: subprocess.Popen[str], *, signalled: bool = False) -> int:
    """SIGTERM (once: a second one during the shutdown would kill the daemon), then its exit code."""
    if not signalled and daemon.poll() is None:
        daemon.send_signal(signal.SIGTERM)
    try:
        return daemon.wait(timeout=30)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait()
        raise


def _reports(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.read_text().splitlines() if line.startswith("{")]


def _rows(url: str, sql: str) -> list[sa.Row[Any]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql)))
    finally:
        engine.dispose()


def test_two_daemons_on_one_workdir_and_one_postgresql_ledger_decide_every_file_once(
    tmp_path: Path, pg_server: Any
) -> None:
    started = time.monotonic()
    ledger_url = pg_server.create()
    workdir = tmp_path / "work"
    config = prepare_workdir(workdir, schematron=False)  # about sharing the work, not validation
    text = config.read_text(encoding="utf-8")
    assert "scan_interval_seconds = 5" in text and text.count('readiness = "rename"') == 2
    # The machine formats only: this test is about sharing the work, and the demo's XLSX, PDF and
    # French CSV (tests/writers, test_e2e_demo) would more than double the files to deliver.
    text = re.sub(r"(?m)^formats = \[.*\]$", 'formats = ["csv", "json"]', text)
    config.write_text(
        text.replace("scan_interval_seconds = 5", "scan_interval_seconds = 1"), encoding="utf-8"
    )
    for client in CLIENTS:  # only this test's files: the demo's own batches are removed
        shutil.rmtree(workdir / "clients" / client / "inbox")
        (workdir / "clients" / client / "inbox").mkdir()

    daemons = [_start_daemon(workdir, ledger_url, name) for name in ("first", "second")]
    try:
        for daemon, _out, err in daemons:
            assert _wait_for(partial(_running_or_gone, daemon, err), 30), "a daemon did not start"
            assert daemon.poll() is None, f"a daemon stopped at start:\n{err.read_text()}"
        numbers = _drop_files(workdir)
        dropped = time.monotonic()
        assert _wait_for(lambda: _settled(workdir, ledger_url), SETTLE_SECONDS), (
            f"not every file was decided within {SETTLE_SECONDS:g} s"
        )
        settled = time.monotonic()
        assert all(d.poll() is None for d, _, _ in daemons), "a daemon stopped by itself"
    finally:
        codes = [_stop(daemon) for daemon, _, _ in daemons]
    logs = [err.read_text() for _, _, err in daemons]
    assert codes == [0, 0], "\n".join(logs)
    for log in logs:
        # While they worked side by side nothing failed, was retried, or was refused to be
        # overwritten, before or after SIGTERM.
        assert " ERROR " not in log and " CRITICAL " not in log, log
        assert "Traceback" not in log and "not marked failed" not in log, log

    # -- how the daemons shared the work (from their --json cycle reports) --------------------
    reports = [_reports(out) for _, out, _ in daemons]
    per_daemon = [sum(r["files"] for r in rep) for rep in reports]
    per_client = [dict(Counter(x["client_id"] for r in rep for x in r["remittances"])) for rep in reports]
    busy = [Counter(c for r in rep for c in r["busy_channels"]) for rep in reports]
    print(
        f"\n1,000 files settled {settled - dropped:.1f} s after the drop; "
        f"files per daemon {per_daemon}, remittances per client and daemon {per_client}; "
        f"channels found busy (in cycles that did work) {[dict(b) for b in busy]}"
    )
    assert sum(per_daemon) == FILES, "a file was registered twice, or not at all, by the daemons"
    for rep in reports:
        for r in rep:
            assert r["failed_files"] == 0 and r["rejected_files"] == 0, r
            assert r["files"] == r["assigned_files"], r

    # -- the ledger: 1,000 envelopes, each decided once and finalised ---------------------------
    envelopes = _rows(
        ledger_url,
        "SELECT id, client_id, source_name, state, attempts, outcome_code,"
        " delivered_at IS NOT NULL AS delivered, finalized_at IS NOT NULL AS finalized"
        " FROM envelopes ORDER BY id",
    )
    assert len(envelopes) == FILES
    expected_names = {f"{n}.xml" for n in numbers["acme"]} | {f"{n}.csv" for n in numbers["bravo"]}
    assert {e.source_name for e in envelopes} == expected_names
    assert Counter(e.state for e in envelopes) == {"acknowledged": FILES}, "an envelope not acknowledged"
    assert all(e.attempts == 0 and e.outcome_code is None for e in envelopes), "an envelope failed once"
    assert all(e.delivered and e.finalized for e in envelopes), "an envelope not delivered and finalised"

    documents = _rows(
        ledger_url, "SELECT envelope_id, client_id, number, verdict, remittance_id FROM documents"
    )
    assert len(documents) == FILES
    assert all(d.verdict == "accepted" and d.remittance_id is not None for d in documents)
    for client in CLIENTS:
        accepted = [d.number for d in documents if d.client_id == client]
        assert Counter(accepted) == Counter(numbers[client]), f"{client}: an invoice accepted twice or never"
    keys = _rows(ledger_url, "SELECT client_id, normalised_number FROM assignment_keys")
    assert len(keys) == len({(k.client_id, k.normalised_number) for k in keys}) == FILES

    remittances = _rows(ledger_url, "SELECT client_id, number, envelope_id FROM remittances")
    assert len({r.envelope_id for r in remittances}) == len(remittances) == FILES
    for client in CLIENTS:
        got = sorted(r.number for r in remittances if r.client_id == client)
        assert got == list(range(1, len(numbers[client]) + 1)), f"{client}: remittance numbers not gapless"

    # -- the folders: every delivered file is a deliveries row, nothing left behind -----------
    deliveries = _rows(ledger_url, "SELECT envelope_id, channel, name, sha256 FROM deliveries")
    assert len({(d.channel, d.name) for d in deliveries}) == len(deliveries)
    recorded = {d.name: d.sha256 for d in deliveries}
    assert len(recorded) == len(deliveries), "one file name delivered on two channels"
    out_folders = [workdir / "out" / "factor"] + [workdir / "clients" / c / "out" for c in CLIENTS]
    on_disk = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in out_folders
        for p in _files(folder)
        if not p.name.startswith(".")
    }
    assert on_disk == recorded, "the delivered files and the deliveries rows differ"
    # Two formats of remittance and two of acknowledgement per file.
    assert len(deliveries) == 4 * FILES
    for client in CLIENTS:
        root = workdir / "clients" / client
        assert _files(root / "error") == [], f"{client}: files in error/ though all were valid"
        assert list((root / "inbox").iterdir()) == [] and list((root / "work").iterdir()) == []
        archived = sorted(p.name for p in _files(root / "archive"))
        assert len(archived) == len(numbers[client]), f"{client}: archive holds {len(archived)} files"
    print(f"whole test {time.monotonic() - started:.1f} s")


def test_a_stopping_daemon_keeps_its_channel_until_its_work_on_it_is_done(
    tmp_path: Path, pg_server: Any
) -> None:
    """SIGTERM "finishes the current batch, then stops": until then the channel stays taken, so
    that another daemon cannot take it (and the files in ``work/``) from under the batch."""
    ledger_url = pg_server.create()
    workdir = tmp_path / "work"
    prepare_workdir(workdir, batch_size=20, schematron=False)
    for client in CLIENTS:
        shutil.rmtree(workdir / "clients" / client / "inbox")
        (workdir / "clients" / client / "inbox").mkdir()
    inbox = workdir / "clients" / "bravo" / "inbox"
    for index in range(600):  # a backlog: the cycle that takes it runs for seconds
        (inbox / f"TB-{index:05d}.csv").write_bytes(_bravo_csv(f"TB-{index:05d}"))
    daemon, _out, err = _start_daemon(workdir, ledger_url, "stopping")
    archive = workdir / "clients" / "bravo" / "archive"
    lock = workdir / "clients" / "bravo" / ".gateway-channel.lock"
    signalled = False
    try:
        assert _wait_for(lambda: bool(_files(archive)) or daemon.poll() is not None, 30), err.read_text()
        daemon.send_signal(signal.SIGTERM)
        signalled = True
        freed_with: int | None = None  # files archived when the channel lock was first seen free
        while daemon.poll() is None and freed_with is None:
            fd = os.open(lock, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
                freed_with = len(_files(archive))
            except BlockingIOError:
                pass
            finally:
                os.close(fd)
            time.sleep(0.005)
    finally:
        code = _stop(daemon, signalled=signalled)
    assert code == 0, err.read_text()
    archived = len(_files(archive))
    assert freed_with is None or archived == freed_with, (
        f"the channel lock was free while the stopping daemon still worked on the channel: "
        f"{freed_with} files archived then, {archived} at its exit"
    )
    # It stopped after its current batch, not after the whole backlog; what it had claimed waits
    # in work/ and the next start resumes it.
    waiting = _files(workdir / "clients" / "bravo" / "work")
    assert archived + len(waiting) + len(_files(inbox)) == 600
    assert archived < 600, "the daemon worked through the whole backlog before stopping"
    resumed = run_gateway("--ledger-url", ledger_url, "run", "--once", cwd=workdir)
    assert resumed.returncode == 0, resumed.stderr
    assert len(_files(archive)) == 600
