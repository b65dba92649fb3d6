"""The commands as a user runs them: the daemon, ingest, status, config check."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from e2e_support import SAMPLES, prepare_workdir, run_gateway

pytestmark = pytest.mark.slow


def _wait_for(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_daemon_takes_a_dropped_file_before_the_next_scan_and_stops_on_sigterm(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    config = prepare_workdir(workdir)
    # A long scan interval: only the inbox watcher can make the second file go through quickly.
    config.write_text(config.read_text().replace("scan_interval_seconds = 5", "scan_interval_seconds = 120"))
    env = {k: v for k, v in os.environ.items() if k != "GATEWAY_FAILPOINT"}
    daemon = subprocess.Popen(
        [sys.executable, "-m", "gateway", "run", "--json"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        archive = workdir / "clients" / "acme" / "archive"
        assert _wait_for(lambda: len(list(archive.rglob("*.*"))) == 3, 60), "first cycle did not run"
        time.sleep(0.5)  # let the watcher start

        inbox = workdir / "clients" / "acme" / "inbox"
        data = (SAMPLES / "batches" / "acme" / "acme_F-1010.xml").read_text()
        (inbox / ".F-1020.xml.part").write_text(data.replace("F-1010", "F-1020"))
        os.replace(inbox / ".F-1020.xml.part", inbox / "F-1020.xml")
        assert _wait_for(lambda: any(archive.rglob("F-1020.xml")), 15), "the watcher did not wake the scan"
    finally:
        daemon.send_signal(signal.SIGTERM)
        out, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, err
    reports = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert sum(r["files"] for r in reports) == 7
    assert any((r["client_id"], r["number"]) == ("acme", 4) for rep in reports for r in rep["remittances"])


def test_ingest_then_status(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    shutil.copyfile(SAMPLES / "gateway.toml", workdir / "gateway.toml")
    batch = SAMPLES / "batches" / "acme" / "acme_bordereau_20250310.csv"

    ingested = run_gateway("ingest", str(batch), "--client", "acme", "--json", cwd=workdir)
    assert ingested.returncode == 1, ingested.stderr  # four of its eight rows are refused
    report = json.loads(ingested.stdout)
    assert (report["accepted_documents"], report["rejected_documents"]) == (4, 4)
    assert batch.exists(), "ingest must never move the caller's file"

    status = run_gateway("status", "--json", cwd=workdir)
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["remittances"] == [{"client_id": "acme", "count": 1, "last_number": 1}]
    alpha = next(a for a in data["approvals"] if (a["client_id"], a["debtor_id"]) == ("acme", "ALPHA"))
    assert alpha["outstanding"] == "40000.00"

    again = run_gateway("ingest", str(batch), "--client", "acme", "--json", cwd=workdir)
    assert again.returncode == 1
    assert json.loads(again.stdout)["remittances"] == []


def test_ingest_unknown_client_is_a_usage_error(tmp_path: Path) -> None:
    shutil.copyfile(SAMPLES / "gateway.toml", tmp_path / "gateway.toml")
    done = run_gateway("ingest", str(SAMPLES / "gateway.toml"), "--client", "nobody", cwd=tmp_path)
    assert done.returncode == 2
    assert "nobody" in done.stderr


def test_config_check_names_every_problem(tmp_path: Path) -> None:
    text = (SAMPLES / "gateway.toml").read_text()
    text = text.replace('advance_rate = "0.90"', 'advance_rate = "1.5"').replace(
        'siren = "443061841"', 'siren = "443061842"'
    )
    (tmp_path / "gateway.toml").write_text(text)
    done = run_gateway("config", "check", cwd=tmp_path)
    assert done.returncode == 2
    assert "clients.acme.contract.advance_rate" in done.stderr
    assert "clients.bravo.siren" in done.stderr
    ok = run_gateway("--config", str(SAMPLES / "gateway.toml"), "config", "check", cwd=tmp_path)
    assert ok.returncode == 0 and "OK" in ok.stdout


def test_as_of_moves_the_business_date(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    shutil.copyfile(SAMPLES / "gateway.toml", workdir / "gateway.toml")
    batch = SAMPLES / "batches" / "bravo" / "bravo_B-2001.xml"
    late = run_gateway(
        "--as-of", "2025-06-01", "ingest", str(batch), "--client", "bravo", "--json", cwd=workdir
    )
    assert late.returncode == 1
    ack = next((workdir / "clients" / "bravo" / "out").glob("ACK_*.json"))
    issues = [i for line in json.loads(ack.read_text())["lines"] for i in line["issues"]]
    assert [i["code"] for i in issues if i["severity"] == "fatal"] == ["GW-DUE-DATE-PAST"]


def test_status_never_creates_a_ledger(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    prepare_workdir(workdir)
    ledgers = lambda: [p for p in workdir.rglob("*.sqlite*")]  # noqa: E731
    assert ledgers() == []
    result = run_gateway("status", cwd=workdir)
    assert result.returncode == 2, result.stderr
    assert "There is no ledger at" in result.stderr
    assert ledgers() == [], "status created a ledger"
