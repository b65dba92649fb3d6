"""What ``gateway status`` shows: a snapshot of the ledger as flat tables.

Each section is a tuple of small rows so the CLI can print it as a table and
``to_dict`` can give it to machines as JSON (Decimals as strings: a JSON
number would invite a float on the other side).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gateway.ledger.records import EnvelopeState


@dataclass(frozen=True, slots=True)
class EnvelopeCount:
    client_id: str
    state: EnvelopeState
    count: int


@dataclass(frozen=True, slots=True)
class RemittanceCount:
    client_id: str
    count: int
    last_number: int


@dataclass(frozen=True, slots=True)
class DocumentCount:
    client_id: str
    accepted: int
    rejected: int


@dataclass(frozen=True, slots=True)
class AssignedTotal:
    """Accepted documents of one client in one currency; amounts signed (credit notes negative)."""

    client_id: str
    currency: str
    documents: int
    net_total: Decimal
    guaranteed_total: Decimal
    non_guaranteed_total: Decimal


@dataclass(frozen=True, slots=True)
class ApprovalStatus:
    client_id: str
    debtor_id: str
    limit: Decimal
    currency: str
    outstanding: Decimal

    @property
    def available(self) -> Decimal:
        """What is still guaranteed before the limit is reached (never negative)."""
        return max(self.limit - self.outstanding, Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class StatusReport:
    envelopes: tuple[EnvelopeCount, ...]
    remittances: tuple[RemittanceCount, ...]
    documents: tuple[DocumentCount, ...]
    assigned: tuple[AssignedTotal, ...]
    approvals: tuple[ApprovalStatus, ...]

    def to_dict(self) -> dict[str, list[dict[str, str | int]]]:
        """JSON-friendly sections of flat rows; every amount is a decimal string."""
        return {
            "envelopes": [
                {"client_id": e.client_id, "state": e.state.value, "count": e.count} for e in self.envelopes
            ],
            "remittances": [
                {"client_id": r.client_id, "count": r.count, "last_number": r.last_number}
                for r in self.remittances
            ],
            "documents": [
                {"client_id": d.client_id, "accepted": d.accepted, "rejected": d.rejected}
                for d in self.documents
            ],
            "assigned_totals": [
                {
                    "client_id": a.client_id,
                    "currency": a.currency,
                    "documents": a.documents,
                    "net_total": str(a.net_total),
                    "guaranteed_total": str(a.guaranteed_total),
                    "non_guaranteed_total": str(a.non_guaranteed_total),
                }
                for a in self.assigned
            ],
            "approvals": [
                {
                    "client_id": a.client_id,
                    "debtor_id": a.debtor_id,
                    "limit": str(a.limit),
                    "currency": a.currency,
                    "outstanding": str(a.outstanding),
                    "available": str(a.available),
                }
                for a in self.approvals
            ],
        }
