"""Fixtures shared by every test folder: the real PostgreSQL server.

Tests that need PostgreSQL ask for ``pg_server`` and create their own uniquely
named databases on it (all dropped at the end of the session). Server URL:
``GATEWAY_TEST_PG_URL`` (any database on the server; default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``). Without a server the
tests that need it are skipped, or fail when ``CI=true``: CI must prove the
PostgreSQL path, not quietly skip it.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import URL, make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))  # builders.py, shared by every folder

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


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
