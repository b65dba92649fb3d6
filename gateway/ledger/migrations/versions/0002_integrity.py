"""Integrity: a receivable is unique per seller across all clients; the ledger has an
identity; leases for nodes; a journal of operator decisions and notable events.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

* ``assignment_keys`` loses ``client_id`` from its primary key: the business key is
  (seller legal id, normalised number, issue date) whoever sends the receivable.
  ``client_id`` stays as a plain column (who assigned it). A ledger written by 0001
  may already hold the same key for two clients (the hole this revision closes):
  the first assignment keeps the key, the others are listed in ``ledger_events``
  (kind ``upgrade-duplicate-key``) for a person to look at; no document is deleted.
* ``ledger_identity``: one row, a random id given when the ledger is created (or
  upgraded). The working folders and the daemon check it, so a replaced or deleted
  ledger is noticed instead of silently starting the numbering again.
* ``leases``: who works on a channel (node, expiry), for several processes.
* ``ledger_events``: operator decisions (adopting a ledger…) and upgrade findings.

Written out in full, not imported from ``gateway.ledger.schema``, so that it keeps
doing the same thing whatever later versions of the schema module say.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
INSTANT = sa.DateTime(timezone=True)
KEY_COLUMNS = ("seller_key", "normalised_number", "issue_date")


def _now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(tzinfo=None) if op.get_bind().dialect.name == "sqlite" else now


def upgrade() -> None:
    op.create_table(
        "ledger_identity",
        sa.Column("singleton", sa.Integer(), nullable=False),
        sa.Column("ledger_id", sa.String(36), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("singleton", name="pk_ledger_identity"),
        sa.CheckConstraint("singleton = 1", name="ck_ledger_identity_one_row"),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("acquired_at", INSTANT, nullable=False),
        sa.Column("expires_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )
    op.create_table(
        "ledger_events",
        sa.Column("id", ID, primary_key=True),
        sa.Column("at", INSTANT, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_events"),
    )
    bind = op.get_bind()
    now = _now()
    bind.execute(
        sa.text("INSERT INTO ledger_identity (singleton, ledger_id, created_at) VALUES (1, :id, :at)"),
        {"id": str(uuid.uuid4()), "at": now},
    )
    _record_duplicate_keys(bind, now)
    bind.execute(
        sa.text(
            "DELETE FROM assignment_keys WHERE document_id NOT IN (SELECT MIN(document_id) "
            "FROM assignment_keys GROUP BY seller_key, normalised_number, issue_date)"
        )
    )
    with op.batch_alter_table("assignment_keys", recreate="auto") as batch:
        batch.drop_constraint("pk_assignment_keys", type_="primary")
        batch.create_primary_key("pk_assignment_keys", list(KEY_COLUMNS))
    op.create_index("ix_assignment_keys_client_id", "assignment_keys", ["client_id"])


def _record_duplicate_keys(bind: sa.Connection, now: datetime) -> None:
    """Keys that 0001 let two clients assign: keep the first, list the others."""
    rows = bind.execute(
        sa.text(
            "SELECT k.seller_key, k.normalised_number, k.issue_date, k.client_id, k.document_id "
            "FROM assignment_keys AS k WHERE k.document_id NOT IN (SELECT MIN(document_id) "
            "FROM assignment_keys GROUP BY seller_key, normalised_number, issue_date) "
            "ORDER BY k.document_id"
        )
    ).all()
    for seller, number, issued, client, document_id in rows:
        detail = {
            "seller_key": seller,
            "normalised_number": number,
            "issue_date": str(issued),
            "client_id": client,
            "document_id": document_id,
            "message": "This receivable was assigned by more than one client before the upgrade; "
            "the first assignment keeps it, this one needs a person's review.",
        }
        bind.execute(
            sa.text(
                "INSERT INTO ledger_events (at, kind, actor, detail) "
                "VALUES (:at, :kind, 'migration 0002', :d)"
            ),
            {"at": now, "kind": "upgrade-duplicate-key", "d": json.dumps(detail, ensure_ascii=False)},
        )


def downgrade() -> None:
    op.drop_index("ix_assignment_keys_client_id", table_name="assignment_keys")
    with op.batch_alter_table("assignment_keys", recreate="auto") as batch:
        batch.drop_constraint("pk_assignment_keys", type_="primary")
        batch.create_primary_key("pk_assignment_keys", ["client_id", *KEY_COLUMNS])
    op.drop_table("ledger_events")
    op.drop_table("leases")
    op.drop_table("ledger_identity")
