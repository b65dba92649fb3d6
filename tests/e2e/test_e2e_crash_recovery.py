"""SIGKILL ``gateway run --once`` at every step of a cycle, restart it, and find exactly
the ledger and the files of an uninterrupted run — on SQLite and on PostgreSQL.

The kill points are the named failpoints of :mod:`gateway.failpoints`; ``NAME:N`` kills
the N-th time the point is reached. The test configuration uses batches of 2 files, so
the demo runs as three batches: acme [bordereau, F-1010], acme [AV-0011, truncated F-1012
(refused, to ``error/``)], bravo [B-2001, batch]. ``:2`` of a per-batch point therefore
kills in the middle of the cycle, after a first batch went all the way through.

The points inside the loops land in the middle of one batch:

* ``deliver-between-files`` (between two renames of one delivery; the demo writes each
  remittance in 5 formats and each acknowledgement in 4, so a delivery of n files has n - 1
  hits: batch 1 has 9 + 7, batch 2 has 4 + 7, batch 3 has 9 + 7, 43 hits in the reference run):
  ``:1`` after the first file of batch 1's remittances, ``:13`` with the remittances delivered
  and half of the acknowledgements, ``:18`` half-way through the remittance of batch 2 (its
  XLSX and PDF not yet in place), ``:24`` inside the acknowledgements of a batch holding a
  refused file; ``deliver-before-dir-fsync`` (6 hits: the factor's delivery, then the
  client's, per batch): ``:1`` with the remittances in place and no acknowledgement yet, ``:4``
  with the last delivery of batch 2 in place and nothing recorded. A restart renders the
  undelivered files again: the XLSX and PDF must come out byte-identical too;
* ``finalize-between-moves`` (one hit per batch): ``:1`` with one file archived and the
  other in ``work/``, ``:2`` with AV-0011 archived and the refused file's reason still a
  temporary in ``error/``, ``:3`` in bravo's batch; ``finalize-reason-before-file`` (the
  refused file): its reason in ``error/``, the file itself still in ``work/``.

The restart must remove every temporary, move every file once and leave no orphan:
every file under the working directory (dot files included) is compared.

Every point runs on PostgreSQL too (the ledger given with ``--ledger-url``, a fresh database
per case and one for the reference run); ``CRASH_TEST_POSTGRESQL=subset`` keeps one kill
point per phase there, for a quicker local run.

A restart registers again the envelopes it finds in ``work/``; on PostgreSQL an
``INSERT ... ON CONFLICT DO NOTHING`` would use up a sequence value per file and shift every
later envelope id (part of the acknowledgement's name and content): these kills are what
caught it, and the ledger now inserts only keys it does not know.
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest
from e2e_support import dump_files, dump_ledger, prepare_workdir, run_gateway

pytestmark = pytest.mark.slow

Picture = tuple[dict[str, list[tuple[object, ...]]], dict[str, str]]

KILL_POINTS = [
    "after-claim",
    "after-register",
    "after-register:2",
    "before-assign-commit",
    "before-assign-commit:2",
    "after-assign-commit",
    "deliver-between-files",
    "deliver-between-files:13",
    "deliver-between-files:18",
    "deliver-between-files:24",
    "deliver-before-dir-fsync",
    "deliver-before-dir-fsync:4",
    "after-deliver",
    "after-deliver:3",
    "after-mark-delivered",
    "finalize-between-moves",
    "finalize-between-moves:2",
    "finalize-between-moves:3",
    "finalize-reason-before-file",
    "after-finalize-move",
    "after-finalize-move:2",
]

#: One kill point per phase: claim, decision, delivery, delivery record, archive.
POSTGRESQL_KILL_POINTS = [
    "after-claim",
    "before-assign-commit:2",
    "deliver-between-files:24",
    "after-mark-delivered",
    "finalize-between-moves:2",
    "finalize-reason-before-file",
]

_POSTGRES = pytest.mark.postgres
BACKENDS = ["sqlite", pytest.param("postgresql", marks=_POSTGRES)]
_PG_POINTS = POSTGRESQL_KILL_POINTS if os.environ.get("CRASH_TEST_POSTGRESQL") == "subset" else KILL_POINTS
CASES = [pytest.param("sqlite", point, id=f"sqlite-{point}") for point in KILL_POINTS] + [
    pytest.param("postgresql", point, id=f"postgresql-{point}", marks=_POSTGRES) for point in _PG_POINTS
]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("template") / "work"
    prepare_workdir(workdir, batch_size=2, schematron=False)  # about crashes, not validation
    return workdir


@pytest.fixture(scope="module")
def references() -> dict[str, Picture]:
    """The uninterrupted run per backend, made on first use (PostgreSQL only when asked for)."""
    return {}


def _copy(template: Path, workdir: Path) -> Path:
    shutil.copytree(template, workdir, copy_function=shutil.copy2)
    return workdir


def _ledger(backend: str, workdir: Path, request: pytest.FixtureRequest) -> tuple[str, list[str]]:
    """The ledger URL of this working directory and the options that select it."""
    if backend == "sqlite":  # the configuration's own ledger_url
        return f"sqlite:///{workdir / 'var' / 'ledger.sqlite'}", []
    url: str = request.getfixturevalue("pg_server").create()
    return url, ["--ledger-url", url]


def _reference(
    backend: str,
    template: Path,
    references: dict[str, Picture],
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Picture:
    if backend not in references:
        workdir = _copy(template, tmp_path_factory.mktemp(f"reference-{backend}") / "work")
        url, options = _ledger(backend, workdir, request)
        done = run_gateway(*options, "run", "--once", cwd=workdir)
        assert done.returncode == 1, done.stderr  # the samples hold refused documents
        references[backend] = dump_ledger(url), dump_files(workdir)
    return references[backend]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_reference_run_assigned_and_refused_files(
    backend: str,
    template: Path,
    references: dict[str, Picture],
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    ledger, files = _reference(backend, template, references, request, tmp_path_factory)
    states = sorted(row[4] for row in ledger["envelopes"])
    assert states.count("acknowledged") >= 3
    assert "rejected" in states
    assert any(name.startswith("out/factor/REM_acme_") for name in files)
    assert any(name.endswith(".reason.json") for name in files)
    assert not [name for name in files if "/work/" in name or "/inbox/" in name]


@pytest.mark.parametrize(("backend", "point"), CASES)
def test_kill_then_restart_reaches_the_uninterrupted_ledger(
    backend: str,
    point: str,
    template: Path,
    references: dict[str, Picture],
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
) -> None:
    expected_ledger, expected_files = _reference(backend, template, references, request, tmp_path_factory)
    workdir = _copy(template, tmp_path / "work")
    url, options = _ledger(backend, workdir, request)

    killed = run_gateway(*options, "run", "--once", cwd=workdir, env={"GATEWAY_FAILPOINT": point})
    assert killed.returncode == -signal.SIGKILL, f"{point} was not reached: {killed.stdout}{killed.stderr}"

    resumed = run_gateway(*options, "run", "--once", cwd=workdir)
    # 1 when the resumed cycle itself finished refused documents, 0 when the killed run had; never 3.
    assert resumed.returncode in (0, 1), resumed.stderr

    ledger, files = dump_ledger(url), dump_files(workdir)
    assert ledger == expected_ledger
    assert files == expected_files
