"""The decision ``run`` would take, predicted without writing to the ledger (``validate --client``).

:class:`PredictionWork` answers the same questions as the assignment unit of work
(:class:`~gateway.ledger.work.AssignmentWork`) from a read-only snapshot plus what
the files validated before it in the same call would have changed, and keeps the
outcomes in memory. The gateway's :class:`~gateway.intake.Decider` runs unchanged
on top of it, so a file's predicted verdicts, duplicates and approval split are
the ones ``run`` would record, with the same codes (as long as nothing else
reaches the ledger in between).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection, select

from gateway.ledger import readback
from gateway.ledger.records import (
    BusinessKey,
    ClientFacts,
    DebtorFacts,
    DocumentRecord,
    EnvelopeState,
)
from gateway.ledger.schema import content_fingerprints, counters
from gateway.ledger.work import REMITTANCE_COUNTER, AssignmentWork
from gateway.model import Issue, Verdict


@dataclass(frozen=True, slots=True)
class PredictedOutcome:
    state: EnvelopeState
    format: str | None
    file_issues: tuple[Issue, ...]
    documents: tuple[DocumentRecord, ...]
    remittance_number: int | None
    outcome_code: str | None


class PredictionWork:
    """A read-only stand-in for the assignment unit of work; ``connection`` is ``None`` when
    there is no ledger yet (a first run would start from nothing)."""

    def __init__(self, connection: Connection | None) -> None:
        self._connection = connection
        self._keys_reader = AssignmentWork(connection) if connection is not None else None
        self._debtors: dict[str, dict[str, DebtorFacts]] = {}
        self._contents: dict[tuple[str, str], int] = {}
        self._keys: set[BusinessKey] = set()
        self._numbers: dict[str, int] = {}
        self.outcomes: dict[int, PredictedOutcome] = {}

    def sync_parties(self, client: ClientFacts, debtors: Sequence[DebtorFacts]) -> None:
        """``run`` writes the configured limits first; the prediction uses them the same way."""
        self._debtors[client.id] = {d.debtor_id: d for d in debtors}

    def approvals(
        self, client_id: str, debtor_ids: Collection[str]
    ) -> dict[str, tuple[Decimal, str, Decimal]]:
        known: dict[str, Decimal] = {}
        if self._connection is not None:
            for _, debtor_id, _, _, outstanding in readback.load_approval_states(self._connection, client_id):
                known[str(debtor_id)] = outstanding  # type: ignore[assignment]
        configured = self._debtors.get(client_id, {})
        return {
            debtor_id: (
                facts.approval_limit,
                facts.approval_currency,
                known.get(debtor_id, facts.opening_outstanding),
            )
            for debtor_id in debtor_ids
            if (facts := configured.get(debtor_id)) is not None
        }

    def claim_content(self, client_id: str, content_sha256: str, envelope_id: int) -> int | None:
        first = self._contents.get((client_id, content_sha256))
        if first is None and self._connection is not None:
            first = self._connection.execute(
                select(content_fingerprints.c.envelope_id).where(
                    content_fingerprints.c.client_id == client_id,
                    content_fingerprints.c.content_sha256 == content_sha256,
                )
            ).scalar_one_or_none()
        if first is None:
            self._contents[(client_id, content_sha256)] = envelope_id
            return None
        return None if first == envelope_id else first

    def assigned_keys(self, keys: Collection[BusinessKey]) -> set[BusinessKey]:
        found = {k for k in keys if k in self._keys}
        if self._keys_reader is not None:
            found |= self._keys_reader.assigned_keys(keys)
        return found

    def next_remittance_number(self, client_id: str, first: int = 1) -> int:
        if client_id not in self._numbers:
            last = None
            if self._connection is not None:
                last = self._connection.execute(
                    select(counters.c.value).where(
                        counters.c.client_id == client_id, counters.c.name == REMITTANCE_COUNTER
                    )
                ).scalar_one_or_none()
            self._numbers[client_id] = first - 1 if last is None else int(last)
        self._numbers[client_id] += 1
        return self._numbers[client_id]

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
    ) -> None:
        for doc in documents:
            if (
                doc.verdict is Verdict.ACCEPTED
                and doc.seller_key
                and doc.normalised_number
                and doc.issue_date
            ):
                self._keys.add(BusinessKey(doc.seller_key, doc.normalised_number, doc.issue_date))
        self.outcomes[envelope_id] = PredictedOutcome(
            state, format, tuple(file_issues), tuple(documents), remittance_number, outcome_code
        )
