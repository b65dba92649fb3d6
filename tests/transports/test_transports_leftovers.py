"""Temporaries of interrupted writes are removed by recover(), never anything else."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.settings import LocalFolderSettings
from gateway.transports.local import LocalFolderInbound, LocalFolderOutbound


def _dead_pid() -> int:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    return int(finished.stdout)


def _write(path: Path, seconds_ago: float = 0.0) -> Path:
    path.write_bytes(b"half a file")
    stamp = time.time() - seconds_ago
    os.utime(path, (stamp, stamp))
    return path


def test_local_outbound_recover_removes_only_dead_or_old_temporaries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = LocalFolderOutbound("factor", LocalFolderSettings(tmp_path / "out"))
    dead, alive = _dead_pid(), os.getpid()
    root = tmp_path / "out"
    _write(root / f".REM_0001.csv.tmp-{dead}")  # its writer was killed
    _write(root / f".REM_0002.json.tmp-{alive}", seconds_ago=2 * 3600)  # stuck for two hours
    kept = [
        _write(root / f".REM_0003.csv.tmp-{alive}"),  # a delivery in progress
        _write(root / "REM_0000.csv"),  # delivered files, whatever their age
        _write(root / f"REM_0004.csv.tmp-{dead}", seconds_ago=7200),  # not ours: no leading dot
        _write(root / ".partner-notes"),
    ]
    (root / f".folder.tmp-{dead}").mkdir()  # only regular files are ours to remove
    with caplog.at_level(logging.INFO, logger="gateway.transports.local"):
        removed = out.recover()
    assert removed == [f".REM_0001.csv.tmp-{dead}", f".REM_0002.json.tmp-{alive}"]
    assert sorted(os.listdir(root)) == sorted([*(p.name for p in kept), f".folder.tmp-{dead}"])
    logged = [r.getMessage() for r in caplog.records if r.levelname == "INFO"]
    assert len(logged) == 2 and all("removed" in m and str(root) in m for m in logged)
    assert out.recover() == []


def test_local_inbound_recover_removes_reason_temporaries_in_error(tmp_path: Path) -> None:
    transport = LocalFolderInbound("acme", LocalFolderSettings(tmp_path, "rename"))
    leftovers = [f".bad.csv.reason.json.tmp-{os.getpid()}", f".x.csv.1.reason.json.tmp-{_dead_pid()}"]
    for name in leftovers:
        _write(transport.error / name)
    kept = ["bad.csv", "bad.csv.reason.json", ".bad.csv.tmp-1", ".notes"]
    for name in kept:
        _write(transport.error / name)
    (transport.work / "claimed.csv").write_bytes(b"1")
    assert transport.acquire()
    assert [e.name for e in transport.recover()] == ["claimed.csv"]
    assert sorted(os.listdir(transport.error)) == sorted(kept)
    transport.close()


def test_local_inbound_recover_goes_on_when_error_cannot_be_cleaned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    transport = LocalFolderInbound("acme", LocalFolderSettings(tmp_path, "rename"))
    (transport.work / "claimed.csv").write_bytes(b"1")
    transport.error.rmdir()
    transport.error.write_bytes(b"someone made error/ a file")
    assert transport.acquire()
    assert [e.name for e in transport.recover()] == ["claimed.csv"]
    [warning] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert f"{transport.error} is not a folder" in warning
    transport.close()
