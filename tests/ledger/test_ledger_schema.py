"""The schema itself: migration from nothing, agreement with schema.py, and the
uniqueness rules enforced by the database (raw SQL, bypassing the ledger's code)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import Databases
from ledger_support import document
from sqlalchemy import Engine, create_engine, exc, inspect, text

from gateway.errors import LedgerError
from gateway.ledger import EnvelopeState, Ledger
from gateway.ledger.schema import metadata
from gateway.model import Verdict

LEDGER_TABLES = {
    "envelopes",
    "content_fingerprints",
    "documents",
    "assignment_keys",
    "remittances",
    "counters",
    "deliveries",
    "ledger_identity",
    "leases",
    "ledger_events",
    "clients",
    "debtors",
    "approval_movements",
    "receivables",
    "job_runs",
}


def test_open_migrates_an_empty_database_and_reopening_is_harmless(databases: Databases) -> None:
    url = databases.fresh_url()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert not set(inspect(conn).get_table_names()) & LEDGER_TABLES
        Ledger.open(url).close()
        Ledger.open(url).close()
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) >= LEDGER_TABLES | {"alembic_version"}
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == ["0003"]
            assert not compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), metadata
            )
    finally:
        engine.dispose()


def test_sqlite_connections_are_durable_and_check_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "ledger.db"
    ledger = Ledger.open(f"sqlite:///{path}")
    try:
        assert path.exists()
        with ledger._engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        ledger.close()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres:secret@127.0.0.1:1/nowhere?connect_timeout=2",
        "not a url",
        "sqlite://",
        "mysql://someone@localhost/ledger",
    ],
)
def test_unusable_databases_give_a_readable_ledger_error(url: str) -> None:
    with pytest.raises(LedgerError) as caught:
        Ledger.open(url)
    assert str(caught.value)
    assert "secret" not in str(caught.value)


def _populate(ledger: Ledger) -> tuple[int, int]:
    """Two envelopes; the first assigned with remittance 1 (one accepted, one rejected document)."""
    first, second = ledger.register_envelopes("C1", "inbox", [("k1", "a.csv"), ("k2", "b.csv")])
    with ledger.assignment() as work:
        assert work.claim_content("C1", "a" * 64, first.id) is None
        work.record_outcome(
            first.id,
            state=EnvelopeState.ASSIGNED,
            format="csv",
            content_sha256="a" * 64,
            business_date=date(2025, 3, 10),
            file_issues=(),
            documents=[document(1, "F-1"), document(2, "F-2", verdict=Verdict.REJECTED)],
            remittance_number=work.next_remittance_number("C1"),
        )
    return first.id, second.id


def _refused(engine: Engine, sql: str, **params: object) -> None:
    with pytest.raises(exc.IntegrityError), engine.begin() as conn:
        conn.execute(text(sql), params)


def test_business_key_is_unique_across_clients_in_the_schema(ledger: Ledger, raw_engine: Engine) -> None:
    _populate(ledger)
    with raw_engine.connect() as conn:
        rejected_id = conn.execute(text("SELECT id FROM documents WHERE verdict = 'rejected'")).scalar_one()
    _refused(  # another client, same seller, number and date: the seller's receivable is taken
        raw_engine,
        "INSERT INTO assignment_keys (client_id, seller_key, normalised_number, issue_date, document_id) "
        "VALUES ('C2', '123456789', 'F1', :d, :doc)",
        d=date(2025, 3, 1),
        doc=rejected_id,
    )


def test_content_fingerprint_is_unique_per_client_in_the_schema(ledger: Ledger, raw_engine: Engine) -> None:
    _, second = _populate(ledger)
    _refused(
        raw_engine,
        "INSERT INTO content_fingerprints (client_id, content_sha256, envelope_id) VALUES ('C1', :sha, :env)",
        sha="a" * 64,
        env=second,
    )
    with raw_engine.begin() as conn:  # another client may send the same bytes
        conn.execute(
            text(
                "INSERT INTO content_fingerprints (client_id, content_sha256, envelope_id) "
                "VALUES ('C2', :s, :e)"
            ),
            {"s": "a" * 64, "e": second},
        )


def test_transport_key_is_unique_per_channel_in_the_schema(ledger: Ledger, raw_engine: Engine) -> None:
    _populate(ledger)
    _refused(
        raw_engine,
        "INSERT INTO envelopes (client_id, channel, transport_key, source_name, state, issues, received_at, "
        "updated_at, attempts) VALUES ('C1', 'inbox', 'k1', 'renamed.csv', 'received', '[]', "
        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0)",
    )


def test_remittance_number_is_unique_per_client_in_the_schema(ledger: Ledger, raw_engine: Engine) -> None:
    _, second = _populate(ledger)
    _refused(
        raw_engine,
        "INSERT INTO remittances (client_id, number, envelope_id, business_date, created_at) "
        "VALUES ('C1', 1, :env, :d, CURRENT_TIMESTAMP)",
        env=second,
        d=date(2025, 3, 10),
    )


def test_delivery_names_are_unique_per_channel_and_accepted_documents_need_a_remittance(
    ledger: Ledger, raw_engine: Engine
) -> None:
    first, second = _populate(ledger)
    insert = (
        "INSERT INTO deliveries (envelope_id, channel, name, sha256, size, delivered_at) "
        "VALUES (:env, 'factor', 'R1.csv', :sha, 10, CURRENT_TIMESTAMP)"
    )
    with raw_engine.begin() as conn:
        conn.execute(text(insert), {"env": first, "sha": "b" * 64})
    _refused(raw_engine, insert, env=second, sha="c" * 64)
    _refused(
        raw_engine,
        "INSERT INTO documents (envelope_id, client_id, position, location, verdict, issues) "
        "VALUES (:env, 'C1', 1, 'line 2', 'accepted', '[]')",
        env=second,
    )
