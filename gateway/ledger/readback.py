"""Reading the ledger back into model objects.

Outputs are rendered from what was committed, never from the pipeline's
memory, so a re-render after a crash gives the same bytes as the first one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Row, func, select

from gateway.errors import LedgerError
from gateway.ledger.records import EnvelopeRecord, EnvelopeState, StoredRemittance
from gateway.ledger.schema import approval_movements, debtors, documents, envelopes, remittances
from gateway.ledger.status import (
    ApprovalStatus,
    AssignedTotal,
    DocumentCount,
    EnvelopeCount,
    RemittanceCount,
    StatusReport,
)
from gateway.ledger.work import chunks
from gateway.model import Acknowledgement, AcknowledgementLine, AssignedLine, Verdict

ZERO = Decimal("0.00")
VERDICTS = {verdict.value: verdict for verdict in Verdict}


def envelope_record(row: Row[tuple[object, ...]]) -> EnvelopeRecord:
    m = row._mapping
    return EnvelopeRecord(
        id=m["id"],
        client_id=m["client_id"],
        channel=m["channel"],
        transport_key=m["transport_key"],
        source_name=m["source_name"],
        state=EnvelopeState(m["state"]),
        format=m["format"],
        content_sha256=m["content_sha256"],
        business_date=m["business_date"],
        outcome_code=m["outcome_code"],
        outcome_message=m["outcome_message"],
        delivered=m["delivered_at"] is not None,
        finalized=m["finalized_at"] is not None,
        attempts=m["attempts"],
    )


@dataclass(frozen=True, slots=True)
class EnvelopeOutputs:
    """What one envelope produced: its remittance (None when nothing was assigned) and its acknowledgement."""

    remittance: StoredRemittance | None
    acknowledgement: Acknowledgement


def load_envelope_records(conn: Connection, envelope_ids: Sequence[int]) -> dict[int, EnvelopeRecord]:
    found: dict[int, EnvelopeRecord] = {}
    for part in chunks(list(envelope_ids)):
        for row in conn.execute(select(envelopes).where(envelopes.c.id.in_(part))):
            found[row.id] = envelope_record(row)
    missing = set(envelope_ids) - found.keys()
    if missing:
        raise LedgerError(f"no envelope {min(missing)} in the ledger")
    return found


def has_remittance(conn: Connection, envelope_id: int) -> bool:
    query = select(remittances.c.id).where(remittances.c.envelope_id == envelope_id)
    return conn.execute(query).first() is not None


def load_outputs(conn: Connection, envelope_ids: Sequence[int]) -> dict[int, EnvelopeOutputs]:
    """Remittances and acknowledgements of many envelopes in three queries (one per table),
    not three per envelope: a batch of 200 small files is read back at once."""
    heads: dict[int, Row[tuple[object, ...]]] = {}
    rows_of: dict[int, list[Any]] = defaultdict(list)  # rows unpacked positionally below
    envelope_rows: dict[int, Row[tuple[object, ...]]] = {}
    d = documents.c
    for part in chunks(list(envelope_ids)):
        for row in conn.execute(select(envelopes).where(envelopes.c.id.in_(part))):
            envelope_rows[row.id] = row
        for row in conn.execute(select(remittances).where(remittances.c.envelope_id.in_(part))):
            heads[row.envelope_id] = row
        for row in conn.execute(
            select(
                d.envelope_id, d.position, d.location, d.line_no, d.number, d.type_code, d.issue_date,
                d.due_date, d.debtor_id, d.debtor_name, d.currency, d.amount, d.guaranteed,
                d.non_guaranteed, d.preceding_invoice, d.verdict, d.issues,
            )
            .where(d.envelope_id.in_(part))
            .order_by(d.envelope_id, d.position)
        ):  # fmt: skip
            rows_of[row.envelope_id].append(row)
    outputs: dict[int, EnvelopeOutputs] = {}
    for envelope_id in envelope_ids:
        envelope = envelope_rows.get(envelope_id)
        if envelope is None:
            raise LedgerError(f"no envelope {envelope_id} in the ledger")
        if envelope.business_date is None:
            raise LedgerError(f"envelope {envelope_id} has no recorded outcome yet: nothing to acknowledge")
        head = heads.get(envelope_id)
        rows = rows_of.get(envelope_id, [])
        outputs[envelope_id] = EnvelopeOutputs(
            _remittance(envelope, head, rows) if head is not None else None,
            _acknowledgement(envelope, head, rows),
        )
    return outputs


def _remittance(
    envelope: Row[tuple[object, ...]], head: Row[tuple[object, ...]], rows: Sequence[Any]
) -> StoredRemittance:
    assigned = sorted((r for r in rows if r[3] is not None), key=itemgetter(3))  # r[3] is line_no
    lines = tuple(
        AssignedLine(
            line_no=line_no,
            number=number,
            type_code=type_code,
            issue_date=issue_date,
            due_date=due_date,
            debtor_id=debtor_id,
            debtor_name=debtor_name,
            currency=currency,
            amount=amount,
            guaranteed=guaranteed,
            non_guaranteed=non_guaranteed,
            preceding_invoice=preceding,
        )
        for (
            _, _, _, line_no, number, type_code, issue_date, due_date, debtor_id, debtor_name,
            currency, amount, guaranteed, non_guaranteed, preceding, _, _,
        ) in assigned  # tuple unpacking: attribute access on 100,000 rows costs a second
    )  # fmt: skip
    return StoredRemittance(
        client_id=head.client_id,
        number=head.number,
        business_date=head.business_date,
        source_name=envelope.source_name,
        envelope_id=envelope.id,
        lines=lines,
    )


def _acknowledgement(
    envelope: Row[tuple[object, ...]],
    head: Row[tuple[object, ...]] | None,
    rows: Sequence[Any],
) -> Acknowledgement:
    number = head.number if head is not None else None
    lines = tuple(
        AcknowledgementLine(
            location=location,
            number=doc_number,
            type_code=type_code,
            verdict=VERDICTS[verdict],
            amount=amount,
            currency=currency,
            issues=issues,
        )
        for (
            _, _, location, _, doc_number, type_code, _, _, _, _, currency, amount, _, _, _, verdict, issues,
        ) in rows
    )  # fmt: skip
    return Acknowledgement(
        client_id=envelope.client_id,
        envelope_id=envelope.id,
        source_name=envelope.source_name,
        business_date=envelope.business_date,
        # The file is accepted when something of it was assigned, i.e. it has a remittance.
        verdict=Verdict.ACCEPTED if number is not None else Verdict.REJECTED,
        remittance_number=number,
        file_issues=envelope.issues,
        lines=lines,
    )


def load_approval_states(conn: Connection, client_id: str | None = None) -> list[tuple[object, ...]]:
    """(client_id, debtor_id, limit, currency, outstanding) of every current debtor version;
    the outstanding is the balance after the debtor's latest approval movement."""
    dv, m = debtors.c, approval_movements.c
    latest = (
        select(m.balance_after)
        .where(m.client_id == dv.client_id, m.debtor_id == dv.debtor_id)
        .order_by(m.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(
            dv.client_id, dv.debtor_id, dv.approval_limit, dv.approval_currency, latest.label("outstanding")
        )
        .where(dv.valid_to.is_(None))
        .order_by(dv.client_id, dv.debtor_id)
    )
    if client_id is not None:
        query = query.where(dv.client_id == client_id)
    return [
        (row.client_id, row.debtor_id, row.approval_limit, row.approval_currency, row.outstanding or ZERO)
        for row in conn.execute(query)
    ]


def _money(value: object) -> Decimal:
    """An aggregate of a money column as a Decimal (drivers return int, or NUMERIC for SUM)."""
    if isinstance(value, Decimal) and value.as_tuple().exponent == -2:
        return value
    return Decimal(int(value)).scaleb(-2)  # type: ignore[call-overload]


def load_status(conn: Connection) -> StatusReport:
    e, r, d = envelopes.c, remittances.c, documents.c
    envelope_counts = tuple(
        EnvelopeCount(row.client_id, EnvelopeState(row.state), row.n)
        for row in conn.execute(
            select(e.client_id, e.state, func.count().label("n"))
            .group_by(e.client_id, e.state)
            .order_by(e.client_id, e.state)
        )
    )
    remittance_counts = tuple(
        RemittanceCount(row.client_id, row.n, row.last_number)
        for row in conn.execute(
            select(r.client_id, func.count().label("n"), func.max(r.number).label("last_number"))
            .group_by(r.client_id)
            .order_by(r.client_id)
        )
    )
    verdicts: dict[str, dict[str, int]] = defaultdict(lambda: {"accepted": 0, "rejected": 0})
    for row in conn.execute(
        select(d.client_id, d.verdict, func.count().label("n")).group_by(d.client_id, d.verdict)
    ):
        verdicts[row.client_id][row.verdict] = row.n
    document_counts = tuple(
        DocumentCount(client, counts["accepted"], counts["rejected"])
        for client, counts in sorted(verdicts.items())
    )
    approval_rows = tuple(
        ApprovalStatus(client, debtor, limit, currency, outstanding)  # type: ignore[arg-type]
        for client, debtor, limit, currency, outstanding in load_approval_states(conn)
    )
    return StatusReport(
        envelopes=envelope_counts,
        remittances=remittance_counts,
        documents=document_counts,
        assigned=_assigned_totals(conn),
        approvals=approval_rows,
    )


def _assigned_totals(conn: Connection) -> tuple[AssignedTotal, ...]:
    """Summed by the database: amounts are integer hundredths on both databases."""
    d = documents.c
    stmt = (
        select(
            d.client_id,
            d.currency,
            func.count().label("n"),
            func.sum(d.amount).label("net"),
            func.sum(d.guaranteed).label("guaranteed"),
            func.sum(d.non_guaranteed).label("non_guaranteed"),
        )
        .where(d.verdict == Verdict.ACCEPTED.value)
        .group_by(d.client_id, d.currency)
        .order_by(d.client_id, d.currency)
    )
    return tuple(
        AssignedTotal(
            row.client_id,
            row.currency,
            row.n,
            _money(row.net),
            _money(row.guaranteed),
            _money(row.non_guaranteed),
        )
        for row in conn.execute(stmt)
    )


def load_unfinished(conn: Connection, channel: str) -> list[EnvelopeRecord]:
    rows = conn.execute(
        select(envelopes)
        .where(envelopes.c.channel == channel, envelopes.c.finalized_at.is_(None))
        .order_by(envelopes.c.received_at, envelopes.c.id)
    )
    return [envelope_record(row) for row in rows]
