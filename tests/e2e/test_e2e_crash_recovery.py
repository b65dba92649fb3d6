"""SIGKILL ``gateway run --once`` at every step of a cycle, restart it, and find exactly
the ledger and the files of an uninterrupted run.

The kill points are the named failpoints of :mod:`gateway.failpoints`; ``NAME:2``
kills the second time the point is reached, i.e. in the middle of the cycle after a
first batch has gone all the way through (the test configuration uses batches of 2
files).
"""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pytest
from e2e_support import dump_files, dump_ledger, prepare_workdir, run_gateway

pytestmark = pytest.mark.slow

KILL_POINTS = [
    "after-claim",
    "after-register",
    "after-register:2",
    "before-assign-commit",
    "before-assign-commit:2",
    "after-assign-commit",
    "after-deliver",
    "after-deliver:3",
    "after-mark-delivered",
    "after-finalize-move",
    "after-finalize-move:2",
]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("template") / "work"
    prepare_workdir(workdir, batch_size=2)
    return workdir


@pytest.fixture(scope="module")
def reference(template: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    workdir = tmp_path_factory.mktemp("reference") / "work"
    shutil.copytree(template, workdir, copy_function=shutil.copy2)
    done = run_gateway("run", "--once", cwd=workdir)
    assert done.returncode == 0, done.stderr
    return dump_ledger(_ledger_url(workdir)), dump_files(workdir)


def _ledger_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'var' / 'ledger.sqlite'}"


def test_the_reference_run_assigned_and_refused_files(reference: tuple[dict, dict]) -> None:
    ledger, files = reference
    states = sorted(row[4] for row in ledger["envelopes"])
    assert states.count("acknowledged") >= 3
    assert "rejected" in states
    assert any(name.startswith("out/factor/REM_acme_") for name in files)


@pytest.mark.parametrize("point", KILL_POINTS)
def test_kill_then_restart_reaches_the_uninterrupted_ledger(
    point: str, template: Path, reference: tuple[dict, dict], tmp_path: Path
) -> None:
    workdir = tmp_path / "work"
    shutil.copytree(template, workdir, copy_function=shutil.copy2)

    killed = run_gateway("run", "--once", cwd=workdir, env={"GATEWAY_FAILPOINT": point})
    assert killed.returncode == -signal.SIGKILL, f"{point} was not reached: {killed.stdout}{killed.stderr}"

    resumed = run_gateway("run", "--once", cwd=workdir)
    assert resumed.returncode == 0, resumed.stderr

    ledger, files = dump_ledger(_ledger_url(workdir)), dump_files(workdir)
    expected_ledger, expected_files = reference
    assert ledger == expected_ledger
    assert files == expected_files
