"""Alembic environment: runs on the connection :func:`gateway.ledger.engine.migrate` hands over.

The gateway migrates programmatically (``Ledger.open``), inside a write
transaction it already holds, so this file neither reads ``alembic.ini`` nor
configures logging, and never opens a connection of its own.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("the gateway ledger migrates only through gateway.ledger (Ledger.open)")
    context.configure(connection=connection, target_metadata=None, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported for the gateway ledger")
run_migrations_online()
