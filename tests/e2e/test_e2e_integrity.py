"""The holes a hostile test found in "never twice, never lost", as a user would hit them.

Each test drives the real ``gateway`` command in its own process on real folders.
"""

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

ACME_XML = (SAMPLES / "batches" / "acme" / "acme_F-1010.xml").read_text(encoding="utf-8")


def _drop(inbox: Path, name: str, number: str) -> None:
    temporary = inbox / f".{name}.part"
    temporary.write_text(ACME_XML.replace("F-1010", number), encoding="utf-8")
    os.replace(temporary, inbox / name)


def _wait_for(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _fast_daemon_config(workdir: Path) -> Path:
    config = prepare_workdir(workdir)
    text = config.read_text(encoding="utf-8").replace(
        "scan_interval_seconds = 5", "scan_interval_seconds = 1"
    )
    config.write_text(text, encoding="utf-8")
    return config


def test_a_ledger_deleted_under_the_daemon_stops_it_and_a_restart_is_refused(tmp_path: Path) -> None:
    workdir = tmp_path / "w"
    _fast_daemon_config(workdir)
    env = {k: v for k, v in os.environ.items() if k != "GATEWAY_FAILPOINT"}
    daemon = subprocess.Popen(
        [sys.executable, "-m", "gateway", "run", "--json"],
        cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    archive = workdir / "clients" / "acme" / "archive"
    try:
        assert _wait_for(lambda: len(list(archive.rglob("*.*"))) == 3, 60), "first cycle did not run"
        ledger_files = [p for p in workdir.rglob("*.sqlite*") if not p.name.endswith(".lock")]
        assert ledger_files
        for path in ledger_files:
            path.unlink()
        _drop(workdir / "clients" / "acme" / "inbox", "F-2001.xml", "F-2001")
        daemon.wait(timeout=30)
    finally:
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
        out, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 3, (out, err)
    assert "deleted" in err and "ledger" in err
    assert not any(archive.rglob("F-2001.xml")), "a file was processed into a deleted ledger"
    before = sorted(p.name for p in (workdir / "out" / "factor").iterdir())

    # A restart finds an empty ledger beside folders full of work: refused, nothing processed.
    again = run_gateway("run", "--once", cwd=workdir)
    assert again.returncode == 3, again.stderr
    assert "which is empty: a new ledger" in again.stderr and "gateway ledger adopt" in again.stderr
    assert sorted(p.name for p in (workdir / "out" / "factor").iterdir()) == before
    assert (workdir / "clients" / "acme" / "inbox" / "F-2001.xml").exists()

    # The operator says so explicitly; the decision is recorded in the ledger.
    adopted = run_gateway("ledger", "adopt", "--reason", "test: ledger lost, starting anew", cwd=workdir)
    assert adopted.returncode == 0, adopted.stderr
    info = json.loads(run_gateway("ledger", "info", "--json", cwd=workdir).stdout)
    assert [e["kind"] for e in info["events"]] == ["ledger-adopted"]
    assert info["events"][0]["detail"]["reason"] == "test: ledger lost, starting anew"
    assert all(f["ledger_id"] == info["ledger_id"] for f in info["folders"])


def test_folders_bound_to_another_ledger_are_refused(tmp_path: Path) -> None:
    workdir = tmp_path / "w"
    config = prepare_workdir(workdir)
    first = run_gateway("run", "--once", cwd=workdir)
    assert first.returncode == 1, first.stderr  # the samples hold refused documents
    other = tmp_path / "other.sqlite"
    second = run_gateway("--ledger-url", f"sqlite:///{other}", "run", "--once", cwd=workdir)
    assert second.returncode == 3
    assert "belongs to the ledger" in second.stderr
    assert config.exists()


def test_a_second_process_on_one_sqlite_ledger_is_refused(tmp_path: Path) -> None:
    workdir = tmp_path / "w"
    _fast_daemon_config(workdir)
    env = {k: v for k, v in os.environ.items() if k != "GATEWAY_FAILPOINT"}
    daemon = subprocess.Popen(
        [sys.executable, "-m", "gateway", "run"],
        cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        archive = workdir / "clients" / "acme" / "archive"
        assert _wait_for(lambda: len(list(archive.rglob("*.*"))) == 3, 60), "first cycle did not run"
        second = run_gateway("run", "--once", cwd=workdir)
        assert second.returncode == 3
        assert "another gateway process" in second.stderr and f"pid {daemon.pid}" in second.stderr
        status = run_gateway("status", "--json", cwd=workdir)  # reading stays possible
        assert status.returncode == 0, status.stderr
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.communicate(timeout=30)
    assert daemon.returncode == 0


@pytest.mark.parametrize("breakage", ["archive-is-a-file", "out-is-a-file"])
def test_a_broken_environment_is_a_message_and_exit_code_3(tmp_path: Path, breakage: str) -> None:
    workdir = tmp_path / "w"
    prepare_workdir(workdir)
    if breakage == "archive-is-a-file":
        shutil.rmtree(workdir / "clients" / "acme" / "archive", ignore_errors=True)
        (workdir / "clients" / "acme" / "archive").write_text("not a folder")
    else:
        shutil.rmtree(workdir / "out" / "factor", ignore_errors=True)
        (workdir / "out" / "factor").parent.mkdir(parents=True, exist_ok=True)
        (workdir / "out" / "factor").write_text("not a folder")
    result = run_gateway("run", "--once", cwd=workdir)
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert "not a folder" in result.stderr.lower() or "not a directory" in result.stderr.lower()
    assert any((workdir / "clients" / "acme" / "inbox").iterdir()) or any(
        (workdir / "clients" / "acme" / "work").iterdir()
    ), "the files must wait, not vanish"


def test_names_and_values_from_files_never_reach_the_terminal_raw(tmp_path: Path) -> None:
    workdir = tmp_path / "w"
    prepare_workdir(workdir)
    inbox = workdir / "clients" / "acme" / "inbox"
    csv = (SAMPLES / "batches" / "acme" / "acme_bordereau_20250310.csv").read_text(encoding="utf-8-sig")
    header, row = csv.splitlines()[:2]
    number = row.split(";")[0] if ";" in row else row.split(",")[0]
    hostile = "\n".join([header, row.replace(number, "F\x1b[31mEVIL", 1), row.replace(number, "F\x00NUL", 1)])
    (inbox / "esc.csv").write_text(hostile + "\n", encoding="utf-8")
    result = run_gateway("-v", "run", "--once", cwd=workdir)
    assert "Traceback" not in result.stderr
    assert "\x1b" not in result.stdout + result.stderr and "\x00" not in result.stdout + result.stderr
    assert result.returncode == 1, result.stderr  # the hostile rows are refused
    ack = next((workdir / "clients" / "acme" / "out").glob("ACK_*esc*.json"))
    verdicts = json.loads(ack.read_text(encoding="utf-8"))
    codes = {i["code"] for line in verdicts["lines"] for i in line["issues"]}
    assert "GW-TEXT-CONTROL-CHAR" in codes
    assert "\x1b" not in ack.read_text(encoding="utf-8")

    # A path whose name reads as rich markup is printed as it is.
    (tmp_path / "[").mkdir()
    (tmp_path / "[" / "]x.csv").write_text(hostile, encoding="utf-8")
    shown = run_gateway("validate", "[/]x.csv", cwd=tmp_path)
    assert "Traceback" not in shown.stderr, shown.stderr
    assert "[/]x.csv" in shown.stdout
    assert "\x1b" not in shown.stdout + shown.stderr
