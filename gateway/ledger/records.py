"""What goes into the ledger and what comes back out, as frozen values.

The pipeline never sees a SQL row: it hands over :class:`DocumentRecord`
values and gets :class:`EnvelopeRecord` values back, so the storage layout can
change (a migration) without touching the callers.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from gateway.errors import LedgerError
from gateway.model import AssignedLine, Issue, Verdict


class EnvelopeState(enum.Enum):
    """Where one received file stands; see ARCHITECTURE.md, "What flows through it"."""

    RECEIVED = "received"
    PARSED = "parsed"
    VALIDATED = "validated"
    ASSIGNED = "assigned"
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    FAILED = "failed"


class DuplicateAssignment(LedgerError):
    """A business key the unit of work tried to assign is already assigned.

    The database constraint caught what the pipeline's own check missed (a
    concurrent node, or a bug): the whole unit of work must be rolled back and
    decided again.
    """


@dataclass(frozen=True, slots=True)
class EnvelopeRecord:
    """One received file as the ledger knows it."""

    id: int
    client_id: str
    channel: str
    transport_key: str
    source_name: str
    state: EnvelopeState
    format: str | None
    content_sha256: str | None
    business_date: date | None
    outcome_code: str | None
    outcome_message: str | None
    delivered: bool
    finalized: bool
    attempts: int


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """One document (or unreadable record) of an envelope and its verdict.

    Accepted documents carry their remittance line (``line_no``) and the split
    of their signed ``amount`` into ``guaranteed`` and ``non_guaranteed``.
    """

    position: int
    location: str
    number: str | None
    normalised_number: str | None
    seller_key: str | None
    issue_date: date | None
    due_date: date | None
    type_code: str | None
    currency: str | None
    amount: Decimal | None
    debtor_id: str | None
    debtor_name: str | None
    preceding_invoice: str | None
    verdict: Verdict
    issues: tuple[Issue, ...]
    line_no: int | None = None
    guaranteed: Decimal | None = None
    non_guaranteed: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BusinessKey:
    """What makes a receivable the same receivable, whatever file it comes in."""

    seller_key: str
    normalised_number: str
    issue_date: date


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One output file written to an outbound channel, identified by its hash."""

    envelope_id: int
    channel: str
    name: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class ClientFacts:
    """A client as the ledger keeps it (one version per change)."""

    id: str
    name: str
    siren: str | None
    vat_id: str | None


@dataclass(frozen=True, slots=True)
class DebtorFacts:
    """A debtor of one client and its approval, as the ledger keeps it (one version per change).

    ``opening_outstanding`` is the guaranteed outstanding brought over from the back
    office; it becomes the debtor's first approval movement, once."""

    debtor_id: str
    name: str
    siren: str | None
    vat_id: str | None
    approval_limit: Decimal
    approval_currency: str
    opening_outstanding: Decimal = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class StoredRemittance:
    """A remittance as the ledger holds it: its head and lines, no business figures.

    The control sums are the factoring layer's to compute
    (:func:`gateway.factoring.remittance.build_remittance`)."""

    client_id: str
    number: int
    business_date: date
    source_name: str
    envelope_id: int
    lines: tuple[AssignedLine, ...]


class DecisionWork(Protocol):
    """What deciding an envelope needs from the ledger: the assignment unit of work
    (:class:`gateway.ledger.work.AssignmentWork`) and its read-only twin for ``validate``
    (:class:`gateway.ledger.prediction.PredictionWork`), so that both run the same decision."""

    def sync_parties(self, client: ClientFacts, debtors: Sequence[DebtorFacts]) -> None: ...

    def approvals(
        self, client_id: str, debtor_ids: Collection[str]
    ) -> dict[str, tuple[Decimal, str, Decimal]]: ...

    def claim_content(self, client_id: str, content_sha256: str, envelope_id: int) -> int | None: ...

    def assigned_keys(self, keys: Collection[BusinessKey]) -> set[BusinessKey]: ...

    def next_remittance_number(self, client_id: str, first: int = 1) -> int: ...

    def record_outcome(
        self,
        envelope_id: int,
        *,
        state: EnvelopeState,
        format: str | None,
        content_sha256: str | None,
        business_date: date,
        file_issues: Sequence[Issue],
        documents: Sequence[DocumentRecord],
        remittance_number: int | None,
        outcome_code: str | None = None,
        outcome_message: str | None = None,
        approval_moves: Sequence[tuple[str, Decimal, Decimal]] = (),
    ) -> None: ...
