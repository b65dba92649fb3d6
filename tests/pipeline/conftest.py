"""The fixtures every pipeline test module shares: a ledger database per backend (SQLite and the
real PostgreSQL) and the three-client gateway of :mod:`pipeline_support` on it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pipeline_support, as tests/ledger does

from pipeline_support import BACKENDS, Databases, Gateway, databases_for, write_config

from gateway.config import load_settings


@pytest.fixture(params=BACKENDS)
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Databases:
    return databases_for(request, tmp_path)


@pytest.fixture
def gateway(databases: Databases, tmp_path: Path) -> Iterator[Gateway]:
    settings = load_settings(write_config(tmp_path / "etc"), ledger_url=databases.url)
    opened = Gateway(settings, databases.url)
    yield opened
    opened.close()
