"""Engines, transactions, migrations and error translation: the ledger's plumbing.

SQLite is tuned for a durable single-writer ledger: WAL (readers never block
the writer), ``synchronous=FULL`` (a commit is on disk before the file it
records is archived), foreign keys on, a 30 s busy timeout, and write
transactions that start with ``BEGIN IMMEDIATE`` so that two processes queue
for the write lock up front instead of deadlocking on a read-to-write upgrade.
pysqlite's own transaction handling is switched off as SQLAlchemy documents
("Enabling Non-Legacy SQLite Transactional Modes"), which also makes the
migration DDL transactional.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, Table, create_engine, event, exc, text
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from gateway.errors import LedgerError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Connection execution option that makes the next SQLite transaction ``BEGIN IMMEDIATE``.
WRITE_OPTION = "gateway_ledger_write"
#: Key of the PostgreSQL advisory lock that serialises migrations run by several nodes at once.
MIGRATION_LOCK_KEY = 0x6C6564676572  # "ledger"


def describe_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def create_ledger_engine(url_text: str, *, create_folder: bool = True) -> Engine:
    """An engine for ``sqlite:///path`` or ``postgresql+psycopg://…`` (``postgresql://`` means psycopg)."""
    try:
        url = make_url(url_text)
    except exc.ArgumentError as err:
        raise LedgerError(f"{url_text!r} is not a database URL ({err})") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, create_folder)
    if backend == "postgresql":
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        return create_engine(url, pool_pre_ping=True)
    raise LedgerError(
        f"unsupported ledger database {describe_url(url)}: use sqlite:/// or postgresql+psycopg://"
    )


def _sqlite_engine(url: URL, create_folder: bool = True) -> Engine:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise LedgerError(
            "the ledger needs a SQLite file (sqlite:///path/to/ledger.db), not an in-memory database"
        )
    try:
        if create_folder:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise LedgerError(f"cannot create the folder of the ledger {database}: {err}") from None
    engine = create_engine(url, connect_args={"timeout": 30.0})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
    dbapi_connection.isolation_level = None  # pysqlite must not emit BEGIN itself
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction: commit on normal exit, roll back on exception."""
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            yield connection


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a read transaction: one consistent snapshot on both databases
    (SQLite's WAL snapshot; REPEATABLE READ on PostgreSQL, whose default would take a
    new snapshot per statement), so a remittance is never read half-way through a change."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        connection.begin()
        try:
            yield connection
        finally:
            connection.rollback()


@contextmanager
def translated_errors(action: str) -> Iterator[None]:
    """Turn SQLAlchemy/driver exceptions into :class:`LedgerError` with a readable message."""
    try:
        yield
    except LedgerError:
        raise
    except exc.SQLAlchemyError as err:
        raise LedgerError(f"{action}: {describe_error(err)}") from err


def describe_error(err: exc.SQLAlchemyError) -> str:
    if isinstance(err, exc.StatementError) and err.orig is not None:
        detail = str(err.orig).strip().splitlines()
        return detail[0] if detail else type(err.orig).__name__
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (``alembic upgrade head``), one node at a time."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with write_transaction(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    """The newest schema revision this version of the gateway knows."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def known_revisions() -> set[str]:
    """Every schema revision this version of the gateway has a migration for."""
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}


def schema_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None``: never migrated), read without writing."""
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def insert_or_skip(dialect_name: str, table: Table) -> PgInsert | SqliteInsert:
    """An INSERT that can take ``ON CONFLICT`` clauses, for the dialect.

    Conflicts are resolved by the database, never by catching an
    IntegrityError inside a transaction (which aborts it on PostgreSQL).
    """
    if dialect_name == "postgresql":
        return pg_insert(table)
    return sqlite_insert(table)


def insert_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert rows already converted to driver values (see ``schema.money_to_db``).

    For 100,000 documents SQLAlchemy's per-row parameter processing costs more
    than the database's own work, so the hot inserts hand plain tuples to the
    driver: ``executemany`` on SQLite, ``COPY`` on PostgreSQL (one round trip
    instead of one per row). Column names still come from the ``Table``.
    """
    if not rows:
        return
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(table.c[name].name) for name in columns)
    if connection.dialect.name != "postgresql":
        sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join(['?'] * len(columns))})"
        connection.exec_driver_sql(sql, rows)
        return
    sql = f"COPY {quote(table.name)} ({names}) FROM STDIN"
    driver_connection: Any = connection.connection.driver_connection
    try:
        with driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except connection.dialect.loaded_dbapi.Error as err:
        # Same exception classes as every other statement (IntegrityError, OperationalError…).
        raise exc.DBAPIError.instance(sql, None, err, connection.dialect.loaded_dbapi.Error) from err
