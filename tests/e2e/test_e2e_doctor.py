"""``gateway doctor`` on real working directories: what it finds, and that it changes nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from e2e_support import prepare_workdir, run_gateway

pytestmark = pytest.mark.slow

#: The checks every healthy workdir reports, once at least.
CHECKS = {
    "configuration", "ledger", "folders", "same-file-system", "binding",
    "disk-space", "running", "work", "error",
}  # fmt: skip


def _doctor(workdir: Path, *args: str) -> tuple[int, dict[str, Any]]:
    done = run_gateway("doctor", "--json", "--min-free-mib", "1", *args, cwd=workdir)
    assert done.returncode in (0, 3), done.stderr
    return done.returncode, json.loads(done.stdout)


def _problems(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if not f["ok"]]


def _one(report: dict[str, Any], check: str, subject_part: str) -> dict[str, Any]:
    (found,) = [f for f in report["findings"] if f["check"] == check and subject_part in f["subject"]]
    return found


@pytest.fixture
def processed(tmp_path: Path) -> Path:
    """The demo's working directory after one cycle."""
    workdir = tmp_path / "w"
    prepare_workdir(workdir)
    done = run_gateway("run", "--once", cwd=workdir)
    assert done.returncode in (0, 1), done.stderr
    return workdir


def test_a_healthy_workdir_is_all_ok(processed: Path) -> None:
    code, report = _doctor(processed)
    assert code == 0, _problems(report)
    assert report["ok"] and report["problems"] == 0
    assert {f["check"] for f in report["findings"]} >= CHECKS
    assert "schema revision" in _one(report, "ledger", "ledger.sqlite")["message"]
    assert _one(report, "binding", "out/factor")["message"] == "belongs to this ledger"
    assert "no gateway process" in _one(report, "running", "acme-inbox")["message"]
    # the demo's truncated file was refused: counted, not a problem
    assert _one(report, "error", "acme-inbox")["message"].startswith("1 file(s) in error/")

    text = run_gateway("doctor", "--min-free-mib", "1", cwd=processed)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert len(lines) == len(report["findings"]) + 1
    assert all(line.startswith("OK ") for line in lines[:-1]) and lines[-1] == "Everything is OK."


def test_no_ledger_yet_is_said_and_nothing_is_created(tmp_path: Path) -> None:
    workdir = tmp_path / "w"
    prepare_workdir(workdir)
    before = sorted(p.relative_to(workdir) for p in workdir.rglob("*"))
    code, report = _doctor(workdir)
    assert code == 0, _problems(report)
    ledger = _one(report, "ledger", "ledger.sqlite")
    assert ledger["ok"] and ledger["message"] == "no ledger yet: it will be created by the first run"
    assert "not bound yet" in _one(report, "binding", "acme-inbox")["message"]
    assert sorted(p.relative_to(workdir) for p in workdir.rglob("*")) == before  # no ledger, no marker


def test_a_file_where_a_folder_is_expected(processed: Path) -> None:
    factor = processed / "out" / "factor"
    for item in factor.iterdir():
        item.unlink()
    factor.rmdir()
    factor.write_text("not a folder\n", encoding="utf-8")
    config = processed / "gateway.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('path = "clients/bravo/out"', 'path = "blocker/out"'), encoding="utf-8")
    (processed / "blocker").write_text("a file, where the bravo acknowledgements' parent should be\n")

    code, report = _doctor(processed)
    assert code == 3
    problems = {(f["check"], f["subject"].split(" (")[0]): f for f in _problems(report)}
    folders = problems[("folders", str(factor))]
    assert "is a file, not a folder" in folders["message"] and folders["fix"]
    blocked = problems[("folders", str(processed / "blocker" / "out"))]
    assert f"cannot be created: {processed / 'blocker'} is a file" in blocked["message"]

    text = run_gateway("doctor", cwd=processed)
    assert text.returncode == 3
    problem_lines = [line for line in text.stdout.splitlines() if line.startswith("PROBLEM")]
    assert len(problem_lines) == report["problems"] and all("Fix: " in line for line in problem_lines)


def test_folders_bound_to_another_ledger(processed: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    code, report = _doctor(processed, "--ledger-url", f"sqlite:///{other}")
    assert code == 3
    bindings = [f for f in _problems(report) if f["check"] == "binding"]
    assert len(bindings) == 5  # two inboxes, the factor's remittances, two acknowledgement folders
    assert all("belongs to the ledger" in f["message"] for f in bindings)
    assert "gateway ledger adopt" in bindings[0]["fix"]
    assert not other.exists()  # the doctor never creates a ledger


def test_an_unreachable_postgresql_ledger(processed: Path) -> None:
    started = time.monotonic()
    url = "postgresql+psycopg://gateway:secret@127.0.0.1:1/ledger"
    code, report = _doctor(processed, "--ledger-url", url)
    assert code == 3
    ledger = _one(report, "ledger", "127.0.0.1:1")
    assert not ledger["ok"] and "cannot be read" in ledger["message"] and "server runs" in ledger["fix"]
    assert "secret" not in json.dumps(report)
    assert time.monotonic() - started < 60


def test_leftovers_in_work_and_a_filesystem_split(processed: Path) -> None:
    (processed / "clients" / "acme" / "work" / "F-3000.xml").write_text("<Invoice/>", encoding="utf-8")
    code, report = _doctor(processed)
    assert code == 0
    assert "1 file(s) in work/, left by an interrupted run" in _one(report, "work", "acme-inbox")["message"]

    elsewhere = Path("/dev/shm")
    if not elsewhere.is_dir() or elsewhere.stat().st_dev == processed.stat().st_dev:
        pytest.skip("no second file system to split a channel across")
    work = processed / "clients" / "bravo" / "work"
    target = elsewhere / f"gateway-doctor-test-{os.getpid()}"
    target.mkdir()
    try:
        work.rmdir()
        work.symlink_to(target)
        code, report = _doctor(processed)
    finally:
        target.rmdir()
    assert code == 3
    split = _one(report, "same-file-system", "bravo-inbox")
    assert not split["ok"] and "cannot cross file systems" in split["message"]


def test_disk_space_below_the_threshold(processed: Path) -> None:
    done = run_gateway("doctor", "--json", "--min-free-mib", str(1 << 40), cwd=processed)
    assert done.returncode == 3
    spaces = [f for f in json.loads(done.stdout)["findings"] if f["check"] == "disk-space"]
    assert spaces and not any(f["ok"] for f in spaces) and "free" in spaces[0]["message"]


def test_a_configuration_error_exits_2(tmp_path: Path) -> None:
    (tmp_path / "gateway.toml").write_text("[gateway]\nledger_url = 3\n", encoding="utf-8")
    done = run_gateway("doctor", cwd=tmp_path)
    assert done.returncode == 2
    assert "configuration has" in done.stderr


def test_a_running_daemon_is_reported_and_left_alone(processed: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GATEWAY_FAILPOINT"}
    daemon = subprocess.Popen(
        [sys.executable, "-m", "gateway", "run"],
        cwd=processed, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            code, report = _doctor(processed)
            ledger = _one(report, "running", "ledger.sqlite")["message"]
            if f"pid {daemon.pid} works on it now" in ledger or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert f"pid {daemon.pid} works on it now" in ledger
        assert code == 0, _problems(report)
        assert daemon.poll() is None, daemon.communicate()  # the doctor disturbed the daemon
    finally:
        daemon.send_signal(signal.SIGTERM)
        _out, err = daemon.communicate(timeout=30)
    # 0 once its scheduler runs; killed by the signal when it came before the handler was set
    assert daemon.returncode in (0, -signal.SIGTERM), err


@pytest.mark.postgres
def test_a_postgresql_ledger_empty_then_in_use(tmp_path: Path, pg_server: Any) -> None:
    url = pg_server.create()
    workdir = tmp_path / "w"
    prepare_workdir(workdir)
    code, report = _doctor(workdir, "--ledger-url", url)
    assert code == 0, _problems(report)
    ledger = _one(report, "ledger", "postgresql")
    assert ledger["message"].startswith("no ledger yet (the database is empty)")
    assert _rows_of_tables(url) == 0  # not migrated by the doctor

    done = run_gateway("--ledger-url", url, "run", "--once", cwd=workdir)
    assert done.returncode in (0, 1), done.stderr
    code, report = _doctor(workdir, "--ledger-url", url)
    assert code == 0, _problems(report)
    assert "schema revision" in _one(report, "ledger", "postgresql")["message"]
    assert {f["message"] for f in report["findings"] if f["check"] == "binding"} == {"belongs to this ledger"}


def _rows_of_tables(url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            query = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            return int(conn.execute(sa.text(query)).scalar_one())
    finally:
        engine.dispose()
