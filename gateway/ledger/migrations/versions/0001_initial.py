"""Initial ledger: envelopes, fingerprints, documents, business keys, remittances,
counters, approvals and deliveries.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Written out in full (not imported from ``gateway.ledger.schema``) so that this
migration keeps creating the same tables whatever later versions of the schema
module say. Money is NUMERIC(18,2) on PostgreSQL and its decimal text on SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MONEY = sa.Text().with_variant(sa.Numeric(18, 2), "postgresql")
INSTANT = sa.DateTime(timezone=True)
CLIENT = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "envelopes",
        sa.Column("id", ID, primary_key=True),
        sa.Column("client_id", CLIENT, nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("transport_key", sa.Text(), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("format", sa.String(32)),
        sa.Column("content_sha256", sa.String(64)),
        sa.Column("business_date", sa.Date()),
        sa.Column("issues", sa.Text(), nullable=False),
        sa.Column("outcome_code", sa.String(64)),
        sa.Column("outcome_message", sa.Text()),
        sa.Column("received_at", INSTANT, nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
        sa.Column("delivered_at", INSTANT),
        sa.Column("finalized_at", INSTANT),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_envelopes"),
        sa.UniqueConstraint("channel", "transport_key", name="uq_envelopes_channel_transport_key"),
        sa.CheckConstraint(
            "state IN ('received', 'parsed', 'validated', 'assigned', 'acknowledged', 'rejected', 'failed')",
            name="ck_envelopes_state",
        ),
    )
    op.create_index("ix_envelopes_channel_finalized_at", "envelopes", ["channel", "finalized_at"])

    op.create_table(
        "content_fingerprints",
        sa.Column("client_id", CLIENT, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("envelope_id", ID, nullable=False),
        sa.PrimaryKeyConstraint("client_id", "content_sha256", name="pk_content_fingerprints"),
        sa.ForeignKeyConstraint(
            ["envelope_id"], ["envelopes.id"], name="fk_content_fingerprints_envelope_id"
        ),
    )

    op.create_table(
        "remittances",
        sa.Column("id", ID, primary_key=True),
        sa.Column("client_id", CLIENT, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("envelope_id", ID, nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_remittances"),
        sa.UniqueConstraint("client_id", "number", name="uq_remittances_client_id_number"),
        sa.UniqueConstraint("envelope_id", name="uq_remittances_envelope_id"),
        sa.ForeignKeyConstraint(["envelope_id"], ["envelopes.id"], name="fk_remittances_envelope_id"),
    )

    op.create_table(
        "documents",
        sa.Column("id", ID, primary_key=True),
        sa.Column("envelope_id", ID, nullable=False),
        sa.Column("client_id", CLIENT, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("number", sa.Text()),
        sa.Column("normalised_number", sa.Text()),
        sa.Column("seller_key", sa.String(64)),
        sa.Column("issue_date", sa.Date()),
        sa.Column("due_date", sa.Date()),
        sa.Column("type_code", sa.String(8)),
        sa.Column("kind", sa.String(16)),
        sa.Column("currency", sa.String(3)),
        sa.Column("amount", MONEY),
        sa.Column("debtor_id", sa.String(64)),
        sa.Column("debtor_name", sa.Text()),
        sa.Column("preceding_invoice", sa.Text()),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("issues", sa.Text(), nullable=False),
        sa.Column("remittance_id", ID),
        sa.Column("line_no", sa.Integer()),
        sa.Column("guaranteed", MONEY),
        sa.Column("non_guaranteed", MONEY),
        sa.PrimaryKeyConstraint("id", name="pk_documents"),
        sa.UniqueConstraint("envelope_id", "position", name="uq_documents_envelope_id_position"),
        sa.UniqueConstraint("remittance_id", "line_no", name="uq_documents_remittance_id_line_no"),
        sa.ForeignKeyConstraint(["envelope_id"], ["envelopes.id"], name="fk_documents_envelope_id"),
        sa.ForeignKeyConstraint(["remittance_id"], ["remittances.id"], name="fk_documents_remittance_id"),
        sa.CheckConstraint("verdict IN ('accepted', 'rejected')", name="ck_documents_verdict"),
        sa.CheckConstraint(
            "verdict = 'rejected' OR remittance_id IS NOT NULL", name="ck_documents_accepted_in_remittance"
        ),
    )

    op.create_table(
        "assignment_keys",
        sa.Column("client_id", CLIENT, nullable=False),
        sa.Column("seller_key", sa.String(64), nullable=False),
        sa.Column("normalised_number", sa.Text(), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("document_id", ID, nullable=False),
        sa.PrimaryKeyConstraint(
            "client_id", "seller_key", "normalised_number", "issue_date", name="pk_assignment_keys"
        ),
        sa.UniqueConstraint("document_id", name="uq_assignment_keys_document_id"),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name="fk_assignment_keys_document_id"),
    )

    op.create_table(
        "counters",
        sa.Column("client_id", CLIENT, nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "name", name="pk_counters"),
    )

    op.create_table(
        "approvals",
        sa.Column("client_id", CLIENT, nullable=False),
        sa.Column("debtor_id", sa.String(64), nullable=False),
        sa.Column("limit_amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("outstanding", MONEY, nullable=False),
        sa.PrimaryKeyConstraint("client_id", "debtor_id", name="pk_approvals"),
    )

    op.create_table(
        "deliveries",
        sa.Column("id", ID, primary_key=True),
        sa.Column("envelope_id", ID, nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("delivered_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint("channel", "name", name="uq_deliveries_channel_name"),
        sa.ForeignKeyConstraint(["envelope_id"], ["envelopes.id"], name="fk_deliveries_envelope_id"),
    )


def downgrade() -> None:
    for table in (
        "deliveries",
        "approvals",
        "counters",
        "assignment_keys",
        "documents",
        "remittances",
        "content_fingerprints",
    ):
        op.drop_table(table)
    op.drop_index("ix_envelopes_channel_finalized_at", table_name="envelopes")
    op.drop_table("envelopes")
