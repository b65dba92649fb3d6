"""The ledger's tables as SQLAlchemy Core objects, and the column types they need.

Migration ``0001_initial`` creates the same tables; a test compares the two so
they cannot drift apart. The uniqueness rules that make assignment idempotent
live here as constraints, not in code: transport key (``envelopes``), content
fingerprint (``content_fingerprints``) and business key (``assignment_keys``).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

from gateway.model import CENT, Issue, Severity

NAMING_CONVENTION = {
    "pk": "pk_%(table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

#: NUMERIC(18,2): 16 digits before the point, on both databases so that they agree.
MONEY_BOUND = Decimal(10) ** 16
#: 64-bit ids on PostgreSQL; on SQLite only ``INTEGER PRIMARY KEY`` is the (64-bit) rowid.
IdType = BigInteger().with_variant(Integer(), "sqlite")

ENVELOPE_STATES = ("received", "parsed", "validated", "assigned", "acknowledged", "rejected", "failed")
VERDICTS = ("accepted", "rejected")


def exact_cents(value: object) -> Decimal:
    """``value`` as a Decimal with exactly 2 decimals, or an error: never a float, never rounded."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"money must be a Decimal, not {type(value).__name__}: {value!r}")
    try:
        exact = Decimal(value).quantize(CENT)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a storable amount") from None
    if not exact.is_finite() or abs(exact) >= MONEY_BOUND:
        raise ValueError(f"{value!r} is not a storable amount (at most 16 digits before the point)")
    if exact != value:
        raise ValueError(f"{value!r} has more than 2 decimals; round it explicitly before recording")
    return exact


def is_storable_amount(value: Decimal | None) -> bool:
    """Whether the ledger can keep ``value`` exactly (a refused document's amount may not be)."""
    if value is None:
        return True
    try:
        exact_cents(value)
    except (TypeError, ValueError):
        return False
    return True


#: Widths of the coded columns of ``documents``; longer values are not stored (see intake).
SELLER_KEY_WIDTH = 64
TYPE_CODE_WIDTH = 8
CURRENCY_WIDTH = 3


def money_to_db(value: object) -> int | None:
    """What the driver gets for an amount: its number of hundredths, an exact integer."""
    if value is None:
        return None
    if type(value) is Decimal:
        text = str(value)
        if text[-3:-2] == "." and len(text) <= 20 and (len(text) < 20 or text[0] == "-"):
            # exactly 2 decimals in plain notation, within bounds: the usual case, checked cheaply
            return int(text.replace(".", "", 1))
    return int(exact_cents(value).scaleb(2))


def money_from_db(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value).scaleb(-2)


def date_to_db(value: date | None, postgresql: bool) -> date | str | None:
    """What the driver gets for a DATE: SQLite keeps ISO text (as SQLAlchemy's Date does)."""
    if value is None or postgresql:
        return value
    return value.isoformat()


def issues_to_json(issues: tuple[Issue, ...] | list[Issue]) -> str:
    if not issues:
        return "[]"
    return json.dumps([i.to_dict() for i in issues], ensure_ascii=False)


class Money(TypeDecorator[Decimal]):
    """A 2-decimal amount stored as its integer number of hundredths (BIGINT) on both databases.

    Integers are exact everywhere and SQL can sum and compare them on SQLite as on
    PostgreSQL (SQLite has no exact decimal type: its SUM of text reads floats). A float,
    or an amount with more than 2 decimals, is refused rather than stored approximately.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return money_to_db(value)

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, int):
            return Decimal(value).scaleb(-2)
        if isinstance(value, Decimal):  # an aggregate PostgreSQL returns as NUMERIC
            return value.scaleb(-2)
        raise TypeError(f"unexpected {type(value).__name__} read from a money column")


class UtcDateTime(TypeDecorator[datetime]):
    """An instant, always timezone-aware UTC when read back (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the ledger stores UTC instants only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class IssueList(TypeDecorator[tuple[Issue, ...]]):
    """Issues as a JSON list of ``{code, severity, message, location, source}`` in a TEXT column."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: tuple[Issue, ...] | None, dialect: Dialect) -> str | None:
        return None if value is None else issues_to_json(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> tuple[Issue, ...] | None:
        if value is None:
            return None
        if value == "[]":
            return ()
        return tuple(
            Issue(
                code=item["code"],
                message=item["message"],
                severity=Severity(item["severity"]),
                location=item.get("location"),
                source=item.get("source", "gateway"),  # rows written before issues had a source
            )
            for item in json.loads(value)
        )


metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


envelopes = Table(
    "envelopes",
    metadata,
    Column("id", IdType, primary_key=True),
    Column("client_id", String(64), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("transport_key", Text, nullable=False),
    Column("source_name", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("format", String(32)),
    Column("content_sha256", String(64)),
    Column("business_date", Date),
    Column("issues", IssueList, nullable=False),
    Column("outcome_code", String(64)),
    Column("outcome_message", Text),
    Column("received_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime),
    Column("finalized_at", UtcDateTime),
    Column("attempts", Integer, nullable=False),
    UniqueConstraint("channel", "transport_key"),
    CheckConstraint(_in("state", ENVELOPE_STATES), name="state"),
    Index("ix_envelopes_channel_finalized_at", "channel", "finalized_at"),
)

content_fingerprints = Table(
    "content_fingerprints",
    metadata,
    Column("client_id", String(64), nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("envelope_id", IdType, ForeignKey("envelopes.id"), nullable=False),
    PrimaryKeyConstraint("client_id", "content_sha256"),
)

remittances = Table(
    "remittances",
    metadata,
    Column("id", IdType, primary_key=True),
    Column("client_id", String(64), nullable=False),
    Column("number", Integer, nullable=False),
    Column("envelope_id", IdType, ForeignKey("envelopes.id"), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("client_id", "number"),
    UniqueConstraint("envelope_id"),
)

documents = Table(
    "documents",
    metadata,
    Column("id", IdType, primary_key=True),
    Column("envelope_id", IdType, ForeignKey("envelopes.id"), nullable=False),
    Column("client_id", String(64), nullable=False),
    Column("position", Integer, nullable=False),
    Column("location", Text, nullable=False),
    Column("number", Text),
    Column("normalised_number", Text),
    Column("seller_key", String(SELLER_KEY_WIDTH)),
    Column("issue_date", Date),
    Column("due_date", Date),
    Column("type_code", String(TYPE_CODE_WIDTH)),
    Column("kind", String(16)),
    Column("currency", String(CURRENCY_WIDTH)),
    Column("amount", Money),
    Column("debtor_id", String(64)),
    Column("debtor_name", Text),
    Column("preceding_invoice", Text),
    Column("verdict", String(8), nullable=False),
    Column("issues", IssueList, nullable=False),
    Column("remittance_id", IdType, ForeignKey("remittances.id")),
    Column("line_no", Integer),
    Column("guaranteed", Money),
    Column("non_guaranteed", Money),
    UniqueConstraint("envelope_id", "position"),
    UniqueConstraint("remittance_id", "line_no"),
    CheckConstraint(_in("verdict", VERDICTS), name="verdict"),
    CheckConstraint("verdict = 'rejected' OR remittance_id IS NOT NULL", name="accepted_in_remittance"),
)

assignment_keys = Table(
    "assignment_keys",
    metadata,
    Column("client_id", String(64), nullable=False),
    Column("seller_key", String(64), nullable=False),
    Column("normalised_number", Text, nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("document_id", IdType, ForeignKey("documents.id"), nullable=False),
    # No client in the key: a receivable is its seller's, whoever sends it (migration 0002).
    PrimaryKeyConstraint("seller_key", "normalised_number", "issue_date"),
    UniqueConstraint("document_id"),
    Index("ix_assignment_keys_client_id", "client_id"),
)

counters = Table(
    "counters",
    metadata,
    Column("client_id", String(64), nullable=False),
    Column("name", String(32), nullable=False),
    Column("value", BigInteger, nullable=False),
    PrimaryKeyConstraint("client_id", "name"),
)

#: Every state a receivable can be in; only "open" is reached today (payments come later).
RECEIVABLE_STATES = ("open", "partly_paid", "paid", "disputed", "recoursed", "written_off")
MOVEMENT_KINDS = ("opening", "assignment")

clients = Table(
    "clients",
    metadata,
    Column("id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("siren", String(9)),
    Column("vat_id", String(32)),
    Column("valid_from", UtcDateTime, nullable=False),
    Column("valid_to", UtcDateTime),  # NULL: the current version
    PrimaryKeyConstraint("id", "version"),
)

debtors = Table(
    "debtors",
    metadata,
    Column("client_id", String(64), nullable=False),
    Column("debtor_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("siren", String(9)),
    Column("vat_id", String(32)),
    Column("approval_limit", Money, nullable=False),
    Column("approval_currency", String(3), nullable=False),
    Column("valid_from", UtcDateTime, nullable=False),
    Column("valid_to", UtcDateTime),  # NULL: the current version
    PrimaryKeyConstraint("client_id", "debtor_id", "version"),
)

approval_movements = Table(
    "approval_movements",
    metadata,
    Column("id", IdType, primary_key=True),
    Column("client_id", String(64), nullable=False),
    Column("debtor_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("envelope_id", IdType, ForeignKey("envelopes.id")),  # the file whose documents moved it
    Column("amount", Money, nullable=False),
    Column("balance_after", Money, nullable=False),  # the running sum: the latest row is the outstanding
    Column("at", UtcDateTime, nullable=False),
    CheckConstraint(_in("kind", MOVEMENT_KINDS), name="kind"),
    Index("ix_approval_movements_client_id_debtor_id_id", "client_id", "debtor_id", "id"),
)

receivables = Table(
    "receivables",
    metadata,
    Column("document_id", IdType, ForeignKey("documents.id"), nullable=False),
    Column("client_id", String(64), nullable=False),
    Column("debtor_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", Money, nullable=False),
    Column("open_amount", Money, nullable=False),
    Column("due_date", Date),
    Column("state", String(16), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("document_id"),
    CheckConstraint(_in("state", RECEIVABLE_STATES), name="state"),
    Index("ix_receivables_client_id_state", "client_id", "state"),
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("job", String(64), nullable=False),
    Column("period_key", String(64), nullable=False),
    Column("node", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("detail", Text),
    PrimaryKeyConstraint("job", "period_key"),
    CheckConstraint("state IN ('running', 'done', 'failed')", name="state"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", IdType, primary_key=True),
    Column("envelope_id", IdType, ForeignKey("envelopes.id"), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("delivered_at", UtcDateTime, nullable=False),
    UniqueConstraint("channel", "name"),
)

ledger_identity = Table(
    "ledger_identity",
    metadata,
    Column("singleton", Integer, nullable=False),
    Column("ledger_id", String(36), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("singleton"),
    CheckConstraint("singleton = 1", name="one_row"),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(200), nullable=False),
    Column("holder", Text, nullable=False),
    Column("acquired_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("name"),
)

ledger_events = Table(
    "ledger_events",
    metadata,
    Column("id", IdType, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("actor", Text, nullable=False),
    Column("detail", Text, nullable=False),
)
