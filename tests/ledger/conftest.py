"""Every ledger test runs on SQLite (a temporary file) and on the real PostgreSQL.

PostgreSQL: one uniquely named database for the session (created through the
``postgres`` database, dropped at the end), emptied before each test; tests
that need a never-migrated database ask ``databases.fresh_url()``. Server URL:
``GATEWAY_TEST_PG_URL`` (any database on the server; default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``). Without a server the
PostgreSQL half is skipped, or fails when ``CI=true``.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import URL, Engine, create_engine, make_url, text

from gateway.ledger import Ledger
from gateway.ledger.schema import metadata

sys.path.insert(0, str(Path(__file__).resolve().parent))  # ledger_support, as tests/e2e does

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@dataclass
class PgServer:
    """Creates uniquely named databases on the test server and drops them all at the end."""

    admin_url: URL
    created: list[str] = field(default_factory=list)

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            self.admin_url.set(drivername="postgresql").render_as_string(hide_password=False),
            autocommit=True,
            connect_timeout=5,
        )

    def create(self) -> str:
        name = f"gateway_ledger_test_{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.admin_url.set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False
        )

    def drop_all(self) -> None:
        with self._admin() as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    admin_url = make_url(os.environ.get("GATEWAY_TEST_PG_URL", DEFAULT_PG_URL)).set(database="postgres")
    server = PgServer(admin_url)
    try:
        server._admin().close()
    except psycopg.Error as err:
        reason = (
            f"PostgreSQL not reachable at {admin_url.render_as_string(hide_password=True)} ({err}); "
            "start it or set GATEWAY_TEST_PG_URL"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def pg_session_url(pg_server: PgServer) -> str:
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
            tables = ", ".join(t.name for t in metadata.sorted_tables)
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
    server: PgServer = request.getfixturevalue("pg_server")
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
