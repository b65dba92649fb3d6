"""Every ledger test runs on SQLite (a temporary file) and on the real PostgreSQL.

PostgreSQL: one uniquely named database for the session (created through the
``postgres`` database, dropped at the end), emptied before each test; tests
that need a never-migrated database ask ``databases.fresh_url()``. Server URL:
``GATEWAY_TEST_PG_URL`` (any database on the server; default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``). Without a server the
PostgreSQL half is skipped, or fails when ``CI=true``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from gateway.ledger import Ledger
from gateway.ledger.schema import metadata

sys.path.insert(0, str(Path(__file__).resolve().parent))  # ledger_support, as tests/e2e does

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def pg_session_url(pg_server: Any) -> str:
    return pg_server.create()


@dataclass
class Databases:
    """Where a test's ledgers live, for the backend it runs on."""

    backend: str
    url: str  # the test's ledger database (migrated and emptied when first opened)
    fresh_url: Callable[[], str]  # a new database nothing was ever done to


def _empty_postgresql(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            tables = ", ".join(t.name for t in metadata.sorted_tables if t.name != "ledger_identity")
            if conn.execute(text("SELECT to_regclass('envelopes')")).scalar() is not None:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Databases:
    if request.param == "sqlite":
        counter = iter(range(1_000_000))

        def fresh_sqlite() -> str:
            folder = tmp_path / f"fresh{next(counter)}"
            folder.mkdir()
            return f"sqlite:///{folder / 'ledger.db'}"

        return Databases("sqlite", f"sqlite:///{tmp_path / 'ledger' / 'ledger.db'}", fresh_sqlite)
    server = request.getfixturevalue("pg_server")
    url: str = request.getfixturevalue("pg_session_url")
    _empty_postgresql(url)
    return Databases("postgresql", url, server.create)


@pytest.fixture
def ledger(databases: Databases) -> Iterator[Ledger]:
    opened = Ledger.open(databases.url)
    yield opened
    opened.close()


@pytest.fixture
def raw_engine(databases: Databases, ledger: Ledger) -> Iterator[Engine]:
    """A plain SQLAlchemy engine on the test database, bypassing the ledger's code."""
    engine = create_engine(databases.url)
    yield engine
    engine.dispose()
