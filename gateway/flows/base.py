"""The protocol every flow follows, and the values it hands the pipeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from gateway.ledger import DeliveryRecord, EnvelopeRecord, Ledger
from gateway.model import Issue
from gateway.transports.base import OutboundFile


class Examination(Protocol):
    """A flow's reading of one file (opaque to the pipeline but for these two names)."""

    @property
    def envelope_id(self) -> int: ...

    @property
    def source_name(self) -> str: ...


@dataclass(frozen=True, slots=True)
class EnvelopeSummary:
    """What the pipeline reports and writes beside a refused file, whatever the flow."""

    accepted: int
    rejected: int
    reason_details: Mapping[str, object] = field(default_factory=dict)
    codes: tuple[str, ...] = ()  # every distinct issue code of the file and its documents, first seen first


@dataclass(slots=True)
class Rendered:
    """The outputs of a batch of decided envelopes, per outbound channel, and their records."""

    files: dict[str, list[OutboundFile]] = field(default_factory=dict)
    deliveries: list[DeliveryRecord] = field(default_factory=list)
    summaries: dict[int, EnvelopeSummary] = field(default_factory=dict)
    remittances: list[tuple[str, int]] = field(default_factory=list)


class Flow(Protocol):
    """One kind of channel: examine → decide → render (see :mod:`gateway.flows`)."""

    KIND: str

    def examine(
        self, envelope_id: int, source_name: str, data: bytes | None, read_error: Issue | None, on: date
    ) -> Examination:
        """Pure: the file's bytes (``None`` with ``read_error`` when unreadable) to a reading."""
        ...

    def decide(self, ledger: Ledger, items: Sequence[Examination], on: date) -> None:
        """Record the outcome of every item in one unit of work."""
        ...

    def render(self, ledger: Ledger, records: Sequence[EnvelopeRecord]) -> Rendered:
        """The outputs of decided envelopes, rendered from what the ledger holds."""
        ...

    def summaries(self, ledger: Ledger, envelope_ids: Sequence[int]) -> dict[int, EnvelopeSummary]:
        """Counts and refusal details of envelopes delivered earlier (a resumed run)."""
        ...
