"""The invoice flow: client batches in; a remittance for the factor and an acknowledgement
for the client out.

Examining is :func:`gateway.intake.examine` (pure); deciding is the
:class:`gateway.intake.Decider` in one assignment unit of work, decided again once
when another node assigned one of the receivables meanwhile (the database's key
refused it, the whole unit rolled back). Outputs are rendered from the ledger, so
a re-delivery after a crash is byte-identical.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import date
from typing import cast

from gateway.factoring.remittance import build_remittance
from gateway.failpoints import failpoint
from gateway.flows.base import EnvelopeSummary, Examination, Rendered
from gateway.intake import Decider, Examined, examine
from gateway.ledger import DeliveryRecord, DuplicateAssignment, EnvelopeRecord, Ledger
from gateway.limits import Limits
from gateway.model import Acknowledgement, Issue, Parties, Verdict
from gateway.settings import ClientSettings, FactorSettings, InboundChannel
from gateway.transports.base import OutboundFile
from gateway.validation.conformance import RulesUnavailable
from gateway.writers.outputs import acknowledgement_files, remittance_files

log = logging.getLogger(__name__)

#: The ``.reason.json`` of a refused file lists this many documents; the acknowledgement lists all.
REASON_DOCUMENTS = 100


class InvoiceFlow:
    KIND = "invoices"

    def __init__(
        self, client: ClientSettings, channel: InboundChannel, factor: FactorSettings, limits: Limits
    ) -> None:
        self.client = client
        self.channel = channel
        self.factor = factor
        self.limits = limits
        # Who the documents are between, as the XLSX, French CSV and PDF name them.
        self.parties = Parties(
            client_name=client.name,
            client_siren=client.siren,
            factor_name=factor.name,
            factor_siren=factor.siren,
            factor_iban=factor.collection_iban,
        )

    def examine(
        self, envelope_id: int, source_name: str, data: bytes | None, read_error: Issue | None, on: date
    ) -> Examined:
        examined = examine(
            envelope_id, source_name, data, self.client, on, self.limits, self.channel.format, read_error,
            self.channel.parser_options, factor=self.factor, schematron=self.channel.schematron,
        )  # fmt: skip
        errors = examined.conformance.errors
        if examined.conformance.unavailable:
            # The installation's fault, the same for every invoice: the file fails and is retried
            # (then kept in error/ for a person), rather than refused to the client.
            raise RulesUnavailable("; ".join(examined.conformance.unavailable))
        if errors:  # refused as GW-RULES-ERROR: the operators get the engine's own words
            log.warning("%s: the official rules could not check %s: %s", self.channel.id, source_name, errors)
        return examined

    def decide(self, ledger: Ledger, items: Sequence[Examination], on: date) -> None:
        examined = cast("Sequence[Examined]", items)
        for attempt in (1, 2):
            try:
                with ledger.assignment() as work:
                    decider = Decider(work)
                    for item in examined:
                        decider.decide(item, self.client, on)
                    failpoint("before-assign-commit")
                return
            except DuplicateAssignment:
                # The unit rolled back whole; deciding again marks the receivable a duplicate.
                if attempt == 2:
                    raise
                log.warning(
                    "%s: another node assigned one of these receivables meanwhile; deciding again",
                    self.channel.id,
                )

    def render(self, ledger: Ledger, records: Sequence[EnvelopeRecord]) -> Rendered:
        rendered = Rendered()
        outputs = ledger.outputs([r.id for r in records])
        acks_channel, remittances_channel = self.client.acknowledgements, self.factor.remittances
        for record in records:
            stored, ack = outputs[record.id].remittance, outputs[record.id].acknowledgement
            if stored is not None:
                remittance = build_remittance(
                    stored.client_id, stored.number, stored.business_date, stored.source_name,
                    stored.envelope_id, stored.lines,
                )  # fmt: skip
                files = remittance_files(remittance, self.parties, remittances_channel.formats)
                for name, data in files:
                    _add(rendered, record.id, remittances_channel.id, name, data)
                rendered.remittances.append((remittance.client_id, remittance.number))
            for name, data in acknowledgement_files(ack, self.parties, acks_channel.formats):
                _add(rendered, record.id, acks_channel.id, name, data)
            rendered.summaries[record.id] = _summary(ack)
        return rendered

    def summaries(self, ledger: Ledger, envelope_ids: Sequence[int]) -> dict[int, EnvelopeSummary]:
        return {i: _summary(o.acknowledgement) for i, o in ledger.outputs(envelope_ids).items()}


def _add(rendered: Rendered, envelope_id: int, channel: str, name: str, data: bytes) -> None:
    rendered.files.setdefault(channel, []).append(OutboundFile(name, data))
    rendered.deliveries.append(
        DeliveryRecord(envelope_id, channel, name, hashlib.sha256(data).hexdigest(), len(data))
    )


def _summary(ack: Acknowledgement) -> EnvelopeSummary:
    accepted = sum(1 for line in ack.lines if line.verdict is Verdict.ACCEPTED)
    refused = [line for line in ack.lines if line.issues]
    details: dict[str, object] = {
        "file_issues": [i.to_dict() for i in ack.file_issues],
        "documents": [
            {"location": line.location, "number": line.number, "issues": [i.to_dict() for i in line.issues]}
            for line in refused[:REASON_DOCUMENTS]
        ],
    }
    if len(refused) > REASON_DOCUMENTS:
        details["more_documents"] = len(refused) - REASON_DOCUMENTS  # all of them are in the acknowledgement
    codes = [i.code for i in ack.file_issues] + [i.code for line in ack.lines for i in line.issues]
    return EnvelopeSummary(accepted, len(ack.lines) - accepted, details, tuple(dict.fromkeys(codes)))
