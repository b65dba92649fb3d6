"""A ledger written by the previous schema (0001) upgrades at open and keeps everything.

The 0001 ledger is filled with raw SQL, as the previous version wrote it, including
the hole 0002 closes: one seller's receivable assigned by two clients.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from alembic import command
from alembic.config import Config
from conftest import Databases
from sqlalchemy import create_engine, text

from gateway.ledger import Ledger
from gateway.ledger.engine import MIGRATIONS_DIR, write_transaction

TABLES = ("envelopes", "content_fingerprints", "remittances", "documents", "assignment_keys", "deliveries")


def _at_revision_0001(url: str) -> None:
    engine = create_engine(url)
    try:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with write_transaction(engine) as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
    finally:
        engine.dispose()


def _fill_as_0001(url: str) -> None:
    """Two clients, each with a remittance; both assigned seller 123456789's F1 of 2025-03-01."""
    engine = create_engine(url)
    now = "2025-03-10 09:00:00"
    try:
        with engine.begin() as conn:
            for env_id, client in ((1, "acme"), (2, "bravo")):
                conn.execute(
                    text(
                        "INSERT INTO envelopes (id, client_id, channel, transport_key, source_name, state, "
                        "format, content_sha256, business_date, issues, received_at, updated_at, "
                        "delivered_at, finalized_at, attempts) VALUES (:id, :c, :ch, :k, :n, 'acknowledged', "
                        "'csv', :sha, :bd, '[]', :t, :t, :t, :t, 0)"
                    ),
                    {
                        "id": env_id,
                        "c": client,
                        "ch": f"{client}-in",
                        "k": f"k{env_id}",
                        "n": f"{client}.csv",
                        "sha": str(env_id) * 64,
                        "bd": date(2025, 3, 10),
                        "t": now,
                    },
                )
                conn.execute(
                    text("INSERT INTO content_fingerprints VALUES (:c, :sha, :id)"),
                    {"c": client, "sha": str(env_id) * 64, "id": env_id},
                )
                conn.execute(
                    text(
                        "INSERT INTO remittances (id, client_id, number, envelope_id, business_date, "
                        "created_at) VALUES (:id, :c, 1, :id, :bd, :t)"
                    ),
                    {"id": env_id, "c": client, "bd": date(2025, 3, 10), "t": now},
                )
                conn.execute(
                    text(
                        "INSERT INTO documents (id, envelope_id, client_id, position, location, number, "
                        "normalised_number, seller_key, issue_date, due_date, type_code, kind, currency, "
                        "amount, debtor_id, debtor_name, verdict, issues, remittance_id, line_no, "
                        "guaranteed, non_guaranteed) VALUES (:id, :id, :c, 1, 'line 2', 'F-1', 'F1', "
                        "'123456789', :d, :due, '380', 'invoice', 'EUR', '1200.50', 'ALPHA', 'Alpha SA', "
                        "'accepted', '[]', :id, 1, '1000.00', '200.50')"
                    ),
                    {"id": env_id, "c": client, "d": date(2025, 3, 1), "due": date(2025, 5, 1)},
                )
                conn.execute(
                    text("INSERT INTO assignment_keys VALUES (:c, '123456789', 'F1', :d, :id)"),
                    {"c": client, "d": date(2025, 3, 1), "id": env_id},
                )
                conn.execute(
                    text(
                        "INSERT INTO deliveries (envelope_id, channel, name, sha256, size, delivered_at) "
                        "VALUES (:id, 'factor', :n, :sha, 10, :t)"
                    ),
                    {"id": env_id, "n": f"REM_{client}_000001.csv", "sha": "f" * 64, "t": now},
                )
        with engine.begin() as conn:  # acme's approval on ALPHA: 1,000.00 of it consumed by F-1
            conn.execute(text("INSERT INTO approvals VALUES ('acme', 'ALPHA', '50000.00', 'EUR', '1000.00')"))
    finally:
        engine.dispose()


_QUERIES = {  # the upgrades recreate or reshape these tables: name their columns
    "assignment_keys": "SELECT client_id, seller_key, normalised_number, issue_date, document_id "
    "FROM assignment_keys ORDER BY document_id",
    "documents": "SELECT id, envelope_id, client_id, position, number, normalised_number, seller_key, "
    "issue_date, verdict, remittance_id, line_no, amount, guaranteed, non_guaranteed "
    "FROM documents ORDER BY id",
}
MONEY_AT = slice(11, 14)  # amount, guaranteed, non_guaranteed in the documents query


def _dump(url: str, *, hundredths: bool = False) -> dict[str, list[tuple[object, ...]]]:
    """Every row as text; amounts as exact decimals (0001 kept text or NUMERIC, 0003 hundredths)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            dump = {
                table: [
                    tuple(str(v) for v in row)
                    for row in conn.execute(text(_QUERIES.get(table, f"SELECT * FROM {table} ORDER BY 1, 2")))
                ]
                for table in TABLES
            }
    finally:
        engine.dispose()
    dump["documents"] = [
        row[: MONEY_AT.start]
        + tuple(
            str(Decimal(v).scaleb(-2) if hundredths else Decimal(v).quantize(Decimal("0.01")))
            for v in row[MONEY_AT]
        )
        for row in dump["documents"]
    ]
    return dump


def test_a_0001_ledger_upgrades_and_keeps_every_row(databases: Databases) -> None:
    url = databases.fresh_url()
    _at_revision_0001(url)
    _fill_as_0001(url)
    before = _dump(url)

    ledger = Ledger.open(url)  # upgrades to head
    try:
        identity = ledger.identity()
        status = ledger.status()
        assert ledger.remittance(1) is not None and ledger.remittance(2) is not None
        # The approval became a debtor version; its outstanding is rebuilt from movements.
        assert ledger.approval_states("acme") == {"ALPHA": (Decimal("50000.00"), "EUR", Decimal("1000.00"))}
    finally:
        ledger.close()
    after = _dump(url, hundredths=True)

    for table in TABLES:
        if table != "assignment_keys":
            assert after[table] == before[table], table
    # The key both clients held stays with the first assignment; the second is reported, not lost.
    assert after["assignment_keys"] == before["assignment_keys"][:1]
    assert len(identity) == 36
    assert sum(e.count for e in status.envelopes) == 2
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            events = conn.execute(text("SELECT kind, detail FROM ledger_events")).all()
    finally:
        engine.dispose()
    assert [kind for kind, _ in events] == ["upgrade-duplicate-key"]
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            movements = conn.execute(
                text("SELECT kind, amount, balance_after FROM approval_movements ORDER BY id")
            ).all()
            receivables = conn.execute(
                text("SELECT document_id, state, amount, open_amount FROM receivables ORDER BY 1")
            ).all()
    finally:
        engine.dispose()
    assert [tuple(m) for m in movements] == [("opening", 0, 0), ("assignment", 100000, 100000)]
    assert [tuple(r) for r in receivables] == [(1, "open", 120050, 120050), (2, "open", 120050, 120050)]
    detail = json.loads(events[0][1])
    assert (detail["client_id"], detail["document_id"], detail["normalised_number"]) == ("bravo", 2, "F1")
