"""The ledger: the only code that talks SQL.

It guarantees that an invoice is never assigned or financed twice (unique
transport key, content fingerprint and business key, enforced by the
database) and that a crash at any instant loses nothing (every step is a
committed transaction before the next one starts). SQLite by default,
PostgreSQL by URL; the schema is created and upgraded by alembic on open.
"""

from __future__ import annotations

from gateway.ledger.readback import EnvelopeOutputs
from gateway.ledger.records import (
    BusinessKey,
    ClientFacts,
    DebtorFacts,
    DecisionWork,
    DeliveryRecord,
    DocumentRecord,
    DuplicateAssignment,
    EnvelopeRecord,
    EnvelopeState,
    StoredRemittance,
)
from gateway.ledger.schema import CURRENCY_WIDTH, SELLER_KEY_WIDTH, TYPE_CODE_WIDTH, is_storable_amount
from gateway.ledger.status import (
    ApprovalStatus,
    AssignedTotal,
    DocumentCount,
    EnvelopeCount,
    RemittanceCount,
    StatusReport,
)
from gateway.ledger.store import Ledger
from gateway.ledger.work import AssignmentWork

__all__ = [
    "CURRENCY_WIDTH",
    "SELLER_KEY_WIDTH",
    "TYPE_CODE_WIDTH",
    "ApprovalStatus",
    "AssignedTotal",
    "AssignmentWork",
    "BusinessKey",
    "ClientFacts",
    "DebtorFacts",
    "DecisionWork",
    "DeliveryRecord",
    "DocumentCount",
    "DocumentRecord",
    "DuplicateAssignment",
    "EnvelopeCount",
    "EnvelopeOutputs",
    "EnvelopeRecord",
    "EnvelopeState",
    "Ledger",
    "RemittanceCount",
    "StatusReport",
    "StoredRemittance",
    "is_storable_amount",
]
