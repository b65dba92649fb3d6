"""Volume: timings are printed (run with ``-s``), never asserted; the results are checked.

Targets from the brief: one envelope of 100,000 documents in about 1–2 s on
SQLite; 1,000 envelopes of 10 documents, 200 envelopes per transaction, well
under 1 s of ledger time. On PostgreSQL the same code paths run at a fifth of
the volume, to keep the suite fast (a round trip there costs ~0.3 ms).
"""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import pytest
from conftest import Databases
from ledger_support import debtor, document

from gateway.ledger import BusinessKey, ClientFacts, DocumentRecord, EnvelopeState, Ledger
from gateway.model import Verdict

SCALE = {"sqlite": 1, "postgresql": 5}  # divide the volume by this


def _report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    with capsys.disabled():
        print(f"\n[ledger timing] {line}")


def _big_file(size: int) -> list[DocumentRecord]:
    """``size`` documents, one in ten rejected; built directly (the helper is too slow for this)."""
    issue, due = date(2025, 3, 1), date(2025, 5, 1)
    cents = [Decimal(f"{c // 100}.{c % 100:02d}") for c in range(1, 100_000, 997)]
    zero = Decimal("0.00")
    docs: list[DocumentRecord] = []
    for i in range(1, size + 1):
        accepted = i % 10 != 0
        amount = cents[i % len(cents)]
        docs.append(
            DocumentRecord(
                position=i,
                location=f"line {i + 1}",
                number=f"F-{i:07d}",
                normalised_number=f"F{i:07d}",
                seller_key="123456789",
                issue_date=issue,
                due_date=due,
                type_code="380",
                currency="EUR",
                amount=amount,
                debtor_id="ALPHA",
                debtor_name="ALPHA SA",
                preceding_invoice=None,
                verdict=Verdict.ACCEPTED if accepted else Verdict.REJECTED,
                issues=(),
                line_no=i - i // 10 if accepted else None,
                guaranteed=amount if accepted else None,
                non_guaranteed=zero if accepted else None,
            )
        )
    return docs


def test_one_envelope_of_100000_documents(
    ledger: Ledger, databases: Databases, capsys: pytest.CaptureFixture[str]
) -> None:
    size = 100_000 // SCALE[databases.backend]
    docs = _big_file(size)
    keys = {BusinessKey("123456789", d.normalised_number or "", date(2025, 3, 1)) for d in docs}
    (envelope,) = ledger.register_envelopes("C1", "inbox", [("big", "big.csv")])

    started = time.perf_counter()
    with ledger.assignment() as work:
        checked = time.perf_counter()
        assert work.assigned_keys(keys) == set()
        looked_up = time.perf_counter() - checked
        work.record_outcome(
            envelope.id,
            state=EnvelopeState.ASSIGNED,
            format="csv",
            content_sha256="b" * 64,
            business_date=date(2025, 3, 10),
            file_issues=(),
            documents=docs,
            remittance_number=work.next_remittance_number("C1"),
        )
    recorded = time.perf_counter() - started

    started = time.perf_counter()
    remittance = ledger.remittance(envelope.id)
    ack = ledger.acknowledgement(envelope.id)
    read = time.perf_counter() - started
    _report(
        capsys,
        f"{databases.backend}: record_outcome of {size:,} documents (with the key lookup, commit) "
        f"{recorded:.2f} s, of which assigned_keys {looked_up:.2f} s; remittance + acknowledgement read "
        f"{read:.2f} s",
    )
    assert remittance is not None and len(remittance.lines) == size - size // 10
    assert len(ack.lines) == size
    assert sum(line.amount for line in remittance.lines) == sum(
        d.amount for d in docs if d.verdict is Verdict.ACCEPTED and d.amount is not None
    )
    sample = {BusinessKey("123456789", f"F{i:07d}", date(2025, 3, 1)) for i in range(1, 1001)}
    with ledger.assignment() as work:
        assert len(work.assigned_keys(sample)) == 900


def _batch_documents(envelope_index: int) -> tuple[list[DocumentRecord], set[BusinessKey]]:
    docs = [document(i, f"E{envelope_index}-{i}", "12.34") for i in range(1, 11)]
    return docs, {BusinessKey(d.seller_key or "", d.normalised_number or "", date(2025, 3, 1)) for d in docs}


def test_1000_envelopes_of_10_documents_in_batches_of_200(
    ledger: Ledger, databases: Databases, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the pipeline does per envelope inside one unit of work; only ledger calls are timed."""
    business_date = date(2025, 3, 10)
    batches = 5 // SCALE[databases.backend]
    envelopes = batches * 200
    prepared = [_batch_documents(i) for i in range(envelopes)]
    started = time.perf_counter()
    for batch in range(batches):
        records = ledger.register_envelopes(
            "C1", "inbox", [(f"k{batch}-{i}", f"f{batch}-{i}.csv") for i in range(200)]
        )
        with ledger.assignment() as work:
            work.sync_parties(ClientFacts("C1", "Acme", None, None), [debtor("ALPHA", "1000000.00")])
            for index, record in enumerate(records):
                docs, keys = prepared[batch * 200 + index]
                assert work.claim_content("C1", f"{batch:04d}{index:060d}", record.id) is None
                assert not work.assigned_keys(keys)
                work.approvals("C1", {"ALPHA"})
                work.record_outcome(
                    record.id,
                    state=EnvelopeState.ASSIGNED,
                    format="csv",
                    content_sha256=None,
                    business_date=business_date,
                    file_issues=(),
                    documents=docs,
                    remittance_number=work.next_remittance_number("C1"),
                    approval_moves=[
                        ("ALPHA", Decimal("123.40"), Decimal("123.40") * (batch * 200 + index + 1))
                    ],
                )
    spent = time.perf_counter() - started
    _report(
        capsys,
        f"{databases.backend}: {envelopes:,} envelopes x 10 documents, {batches} transactions: {spent:.2f} s",
    )
    status = ledger.status()
    assert [(r.count, r.last_number) for r in status.remittances] == [(envelopes, envelopes)]
    assert [(a.documents, a.net_total) for a in status.assigned] == [
        (envelopes * 10, Decimal("123.40") * envelopes)
    ]
    assert ledger.approval_states("C1")["ALPHA"][2] == Decimal("123.40") * envelopes
