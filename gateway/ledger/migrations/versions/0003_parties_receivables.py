"""Parties and receivables in the ledger; money as integer hundredths; job runs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

* **Money as integer hundredths** (``BIGINT``) on both databases, so that SQL can sum
  and compare amounts on SQLite as on PostgreSQL (SQLite kept them as text, which
  its SUM reads as floats). The 0001 text (SQLite) was always exactly two decimals in
  plain notation, so removing the point is exact; NUMERIC(18,2) × 100 is exact too.
* **clients** and **debtors** as versioned rows (``version``, ``valid_from``,
  ``valid_to``; the current row has no ``valid_to``), synchronised from the
  configuration, later from approvals files. A debtor row carries its approval limit.
* **approval_movements**: the guaranteed outstanding of a debtor is the sum of its
  movements (an opening balance, then each assigned document's guaranteed part, and
  later payments), never a mutable number. The ``approvals`` table of 0001 is
  replaced: its limit becomes a debtor version, and its outstanding is rebuilt as an
  opening movement plus one movement per document already assigned.
* **receivables**: one per assigned document, with its state and open amount.
* **job_runs**: a scheduled job runs once per period key, whichever node starts it.

Written out in full, not imported from ``gateway.ledger.schema``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
INSTANT = sa.DateTime(timezone=True)
MINOR = sa.BigInteger()
RECEIVABLE_STATES = "('open', 'partly_paid', 'paid', 'disputed', 'recoursed', 'written_off')"
MONEY_COLUMNS = ("amount", "guaranteed", "non_guaranteed")


def _sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


def _now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(tzinfo=None) if _sqlite() else now


def _hundredths(value: object) -> int:
    exact = Decimal(str(value))
    return int(exact.scaleb(2).to_integral_exact())


def upgrade() -> None:
    _documents_in_hundredths()
    _create_parties()
    _create_receivables_and_jobs()
    _approvals_to_movements()
    op.drop_table("approvals")


def _documents_in_hundredths() -> None:
    bind = op.get_bind()
    for column in MONEY_COLUMNS:
        op.add_column("documents", sa.Column(f"{column}_minor", MINOR))
        if _sqlite():
            # '-1200.50' -> -120050: 0001 stored text with exactly two decimals, in plain notation;
            # anything else (a number typed in by hand) is rounded to the cent.
            sql = (
                f"UPDATE documents SET {column}_minor = CASE WHEN typeof({column}) = 'text' "
                f"AND instr({column}, '.') = length({column}) - 2 "
                f"THEN CAST(REPLACE({column}, '.', '') AS INTEGER) "
                f"ELSE CAST(ROUND({column} * 100) AS INTEGER) END"
            )
        else:
            sql = f"UPDATE documents SET {column}_minor = CAST({column} * 100 AS BIGINT)"
        bind.execute(sa.text(sql + f" WHERE {column} IS NOT NULL"))
    for column in MONEY_COLUMNS:
        # Plain ALTERs (SQLite >= 3.35 drops and renames columns in place): recreating
        # ``documents`` would break the foreign keys that point at it.
        op.execute(f"ALTER TABLE documents DROP COLUMN {column}")
        op.execute(f"ALTER TABLE documents RENAME COLUMN {column}_minor TO {column}")


def _create_parties() -> None:
    op.create_table(
        "clients",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("siren", sa.String(9)),
        sa.Column("vat_id", sa.String(32)),
        sa.Column("valid_from", INSTANT, nullable=False),
        sa.Column("valid_to", INSTANT),
        sa.PrimaryKeyConstraint("id", "version", name="pk_clients"),
    )
    op.create_table(
        "debtors",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("debtor_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("siren", sa.String(9)),
        sa.Column("vat_id", sa.String(32)),
        sa.Column("approval_limit", MINOR, nullable=False),
        sa.Column("approval_currency", sa.String(3), nullable=False),
        sa.Column("valid_from", INSTANT, nullable=False),
        sa.Column("valid_to", INSTANT),
        sa.PrimaryKeyConstraint("client_id", "debtor_id", "version", name="pk_debtors"),
    )
    op.create_table(
        "approval_movements",
        sa.Column("id", ID, primary_key=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("debtor_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("envelope_id", ID),
        sa.Column("amount", MINOR, nullable=False),
        sa.Column("balance_after", MINOR, nullable=False),
        sa.Column("at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_approval_movements"),
        sa.ForeignKeyConstraint(["envelope_id"], ["envelopes.id"], name="fk_approval_movements_envelope_id"),
        sa.CheckConstraint("kind IN ('opening', 'assignment')", name="ck_approval_movements_kind"),
    )
    op.create_index(
        "ix_approval_movements_client_id_debtor_id_id",
        "approval_movements",
        ["client_id", "debtor_id", "id"],
    )


def _create_receivables_and_jobs() -> None:
    op.create_table(
        "receivables",
        sa.Column("document_id", ID, nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("debtor_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", MINOR, nullable=False),
        sa.Column("open_amount", MINOR, nullable=False),
        sa.Column("due_date", sa.Date()),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("document_id", name="pk_receivables"),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name="fk_receivables_document_id"),
        sa.CheckConstraint(f"state IN {RECEIVABLE_STATES}", name="ck_receivables_state"),
    )
    op.create_index("ix_receivables_client_id_state", "receivables", ["client_id", "state"])
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(64), nullable=False),
        sa.Column("period_key", sa.String(64), nullable=False),
        sa.Column("node", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_at", INSTANT, nullable=False),
        sa.Column("finished_at", INSTANT),
        sa.Column("detail", sa.Text()),
        sa.PrimaryKeyConstraint("job", "period_key", name="pk_job_runs"),
        sa.CheckConstraint("state IN ('running', 'done', 'failed')", name="ck_job_runs_state"),
    )
    now = _now()
    op.get_bind().execute(
        sa.text(
            "INSERT INTO receivables (document_id, client_id, debtor_id, currency, amount, open_amount, "
            "due_date, state, updated_at) SELECT id, client_id, debtor_id, currency, amount, amount, "
            "due_date, 'open', :now FROM documents WHERE verdict = 'accepted'"
        ),
        {"now": now},
    )


def _approvals_to_movements() -> None:
    """0001's approvals: limit -> debtor version 1; outstanding -> an opening movement (what it
    was before any document) then one movement per envelope's guaranteed parts, each with the
    running balance after it."""
    bind = op.get_bind()
    now = _now()
    consumed: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for envelope_id, client_id, debtor_id, guaranteed in bind.execute(
        sa.text(
            "SELECT envelope_id, client_id, debtor_id, SUM(guaranteed) FROM documents "
            "WHERE verdict = 'accepted' AND guaranteed IS NOT NULL AND guaranteed <> 0 "
            "GROUP BY envelope_id, client_id, debtor_id ORDER BY envelope_id"
        )
    ):
        consumed[(client_id, debtor_id)].append((envelope_id, int(guaranteed)))
    insert = sa.text(
        "INSERT INTO approval_movements (client_id, debtor_id, kind, envelope_id, amount, balance_after, at) "
        "VALUES (:c, :d, :kind, :env, :amount, :balance, :at)"
    )
    approvals = bind.execute(
        sa.text("SELECT client_id, debtor_id, limit_amount, currency, outstanding FROM approvals")
    ).all()
    for client_id, debtor_id, limit, currency, outstanding in approvals:
        bind.execute(
            sa.text(
                "INSERT INTO debtors (client_id, debtor_id, version, name, approval_limit, "
                "approval_currency, valid_from) VALUES (:c, :d, 1, :name, :limit, :cur, :at)"
            ),
            {
                "c": client_id,
                "d": debtor_id,
                "name": debtor_id,
                "limit": _hundredths(limit),
                "cur": currency,
                "at": now,
            },  # the name is the id until the configuration is synchronised
        )
        moves = consumed.get((client_id, debtor_id), [])
        balance = _hundredths(outstanding) - sum(amount for _, amount in moves)
        rows = [{"kind": "opening", "env": None, "amount": balance, "balance": balance}]
        for envelope_id, amount in moves:
            balance += amount
            rows.append({"kind": "assignment", "env": envelope_id, "amount": amount, "balance": balance})
        bind.execute(insert, [{"c": client_id, "d": debtor_id, "at": now, **row} for row in rows])


def downgrade() -> None:
    raise NotImplementedError("the ledger is not downgraded below 0003: restore a backup instead")
