"""Clients and debtors as versioned ledger rows, and approval outstanding from movements.

The configuration (later an approvals file) is the truth for who the parties are
and what each debtor's approval limit is; the ledger keeps every version it was
told, so "what limit applied when this invoice was assigned?" has an answer.
A new version is written only when something changed.

A debtor's guaranteed outstanding is never stored as a number to update: it is
the sum of its ``approval_movements`` (an opening balance brought over from the
back office, then each file's guaranteed parts; payments later). Each movement
carries the running balance after it, so the outstanding is read from the latest
movement in one index probe, and ``SUM(amount)`` checks it.
Two nodes cannot both consume the same room under the limit because the debtor's
current row is locked (``FOR UPDATE``) by the unit of work that reads it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal

from sqlalchemy import Connection, Table, bindparam, insert, select, update

from gateway.clock import utc_now
from gateway.ledger.engine import insert_or_skip
from gateway.ledger.records import ClientFacts, DebtorFacts
from gateway.ledger.schema import approval_movements, clients, debtors

_CURRENT_DEBTORS = (
    select(
        debtors.c.debtor_id,
        debtors.c.version,
        debtors.c.name,
        debtors.c.siren,
        debtors.c.vat_id,
        debtors.c.approval_limit,
        debtors.c.approval_currency,
    )
    .where(debtors.c.client_id == bindparam("b_client"), debtors.c.valid_to.is_(None))
    .order_by(debtors.c.debtor_id)
)
_LOCKED_LIMITS = (
    select(debtors.c.debtor_id, debtors.c.approval_limit, debtors.c.approval_currency)
    .where(
        debtors.c.client_id == bindparam("b_client"),
        debtors.c.debtor_id.in_(bindparam("b_debtors", expanding=True)),
        debtors.c.valid_to.is_(None),
    )
    .order_by(debtors.c.debtor_id)
    .with_for_update()
)
#: The latest movement of a debtor carries its outstanding: one index probe per debtor,
#: whatever the number of documents ever assigned on it.
_LATEST_BALANCE = (
    select(approval_movements.c.balance_after)
    .where(
        approval_movements.c.client_id == debtors.c.client_id,
        approval_movements.c.debtor_id == debtors.c.debtor_id,
    )
    .order_by(approval_movements.c.id.desc())
    .limit(1)
    .scalar_subquery()
)
_OUTSTANDING = select(debtors.c.debtor_id, _LATEST_BALANCE).where(
    debtors.c.client_id == bindparam("b_client"),
    debtors.c.debtor_id.in_(bindparam("b_debtors", expanding=True)),
    debtors.c.valid_to.is_(None),
)


def sync_client(conn: Connection, client: ClientFacts) -> None:
    """Write a new version of the client when it differs from the current one."""
    current = conn.execute(
        select(clients.c.version, clients.c.name, clients.c.siren, clients.c.vat_id).where(
            clients.c.id == client.id, clients.c.valid_to.is_(None)
        )
    ).first()
    if current is not None and tuple(current)[1:] == (client.name, client.siren, client.vat_id):
        return
    values = {"id": client.id, "name": client.name, "siren": client.siren, "vat_id": client.vat_id}
    _new_version(conn, clients, {"id": client.id}, current.version if current else None, values)


def sync_debtors(conn: Connection, client_id: str, wanted: Sequence[DebtorFacts]) -> None:
    """New versions for debtors that changed, first versions (and their opening outstanding)
    for new ones. Debtors no longer configured keep their last version: their receivables
    are still owned and their history matters."""
    current = {row.debtor_id: row for row in conn.execute(_CURRENT_DEBTORS, {"b_client": client_id})}
    for debtor in sorted(wanted, key=lambda d: d.debtor_id):  # one lock order for all nodes
        row = current.get(debtor.debtor_id)
        facts = (debtor.name, debtor.siren, debtor.vat_id, debtor.approval_limit, debtor.approval_currency)
        if row is not None and tuple(row)[2:] == facts:
            continue
        key = {"client_id": client_id, "debtor_id": debtor.debtor_id}
        values = {
            **key, "name": debtor.name, "siren": debtor.siren, "vat_id": debtor.vat_id,
            "approval_limit": debtor.approval_limit, "approval_currency": debtor.approval_currency,
        }  # fmt: skip
        created = _new_version(conn, debtors, key, row.version if row else None, values)
        if created and row is None and debtor.opening_outstanding:
            conn.execute(
                insert(approval_movements).values(
                    **key, kind="opening", amount=debtor.opening_outstanding,
                    balance_after=debtor.opening_outstanding, at=utc_now(),
                )
            )  # fmt: skip


def _new_version(
    conn: Connection, table: Table, key: dict[str, str], previous: int | None, values: Mapping[str, object]
) -> bool:
    """Insert version ``previous + 1`` and close ``previous``; False when another node wrote that
    version first (its primary key settles the race: the other node's version stands)."""
    now = utc_now()
    version = 1 if previous is None else previous + 1
    inserted = conn.execute(
        insert_or_skip(conn.dialect.name, table)
        .values(**values, version=version, valid_from=now)
        .on_conflict_do_nothing()
        .returning(table.c.version)
    ).first()
    if inserted is None:
        return False
    if previous is not None:
        where = [table.c[name] == value for name, value in key.items()]
        conn.execute(update(table).where(*where, table.c.version == previous).values(valid_to=now))
    return True


def locked_approvals(
    conn: Connection, client_id: str, debtor_ids: Collection[str], part_size: int
) -> dict[str, tuple[Decimal, str, Decimal]]:
    """debtor_id -> (limit, currency, outstanding); the debtors' current rows stay locked
    until the unit of work ends."""
    wanted = sorted(set(debtor_ids))
    found: dict[str, tuple[Decimal, str, Decimal]] = {}
    for start in range(0, len(wanted), part_size):
        params = {"b_client": client_id, "b_debtors": wanted[start : start + part_size]}
        limits = {row.debtor_id: (row.approval_limit, row.approval_currency) for row in conn.execute(
            _LOCKED_LIMITS, params
        )}  # fmt: skip
        sums = dict(tuple(row) for row in conn.execute(_OUTSTANDING, params))
        for debtor_id, (limit, currency) in limits.items():
            found[debtor_id] = (limit, currency, sums.get(debtor_id) or Decimal("0.00"))
    return found


def movement_rows(
    client_id: str, envelope_id: int, moves: Sequence[tuple[str, Decimal, Decimal]]
) -> list[dict[str, object]]:
    """Rows for (debtor_id, amount, balance_after) per debtor whose outstanding this envelope moved."""
    now = utc_now()
    return [
        {"client_id": client_id, "debtor_id": debtor_id, "kind": "assignment", "envelope_id": envelope_id,
         "amount": amount, "balance_after": balance, "at": now}
        for debtor_id, amount, balance in moves
    ]  # fmt: skip


def insert_movements(conn: Connection, rows: Sequence[dict[str, object]]) -> None:
    """In the order given: the latest row of a debtor carries its outstanding."""
    conn.execute(insert(approval_movements), list(rows))
