"""Envelopes: registration (transport idempotency), failure, delivery and finalization."""

from __future__ import annotations

from datetime import date

import pytest
from ledger_support import document

from gateway.errors import LedgerError
from gateway.ledger import DeliveryRecord, EnvelopeState, Ledger
from gateway.model import Issue


def test_register_envelopes_is_idempotent_and_keeps_arrival_order(ledger: Ledger) -> None:
    first = ledger.register_envelopes("C1", "inbox", [("k1", "a.csv"), ("k2", "b.csv")])
    assert [(e.transport_key, e.source_name, e.state) for e in first] == [
        ("k1", "a.csv", EnvelopeState.RECEIVED),
        ("k2", "b.csv", EnvelopeState.RECEIVED),
    ]
    assert all(not e.delivered and not e.finalized and e.attempts == 0 for e in first)
    ledger.mark_failed(first[1].id, "GW-X", "boom")

    again = ledger.register_envelopes(
        "C1", "inbox", [("k3", "c.csv"), ("k2", "renamed.csv"), ("k1", "a.csv")]
    )
    assert [e.transport_key for e in again] == ["k3", "k2", "k1"]
    assert again[1] == ledger.envelope(first[1].id)  # returned as it is, not reset
    assert again[1].state is EnvelopeState.FAILED and again[1].source_name == "b.csv"
    assert again[2] == first[0]
    assert len({e.id for e in again}) == 3

    other_channel = ledger.register_envelopes("C1", "sftp", [("k1", "a.csv")])
    assert other_channel[0].id not in {e.id for e in again}


def test_register_the_same_key_twice_in_one_call(ledger: Ledger) -> None:
    records = ledger.register_envelopes("C1", "inbox", [("k1", "a.csv"), ("k1", "b.csv")])
    assert records[0] == records[1]
    assert records[0].source_name == "a.csv"
    assert ledger.register_envelopes("C1", "inbox", []) == []


def test_many_arrivals_in_one_call(ledger: Ledger) -> None:
    arrivals = [(f"key-{i}", f"file-{i}.csv") for i in range(2_500)]
    records = ledger.register_envelopes("C1", "inbox", arrivals)
    assert [r.transport_key for r in records] == [k for k, _ in arrivals]
    assert ledger.register_envelopes("C1", "inbox", arrivals) == records


def test_mark_failed_counts_attempts(ledger: Ledger) -> None:
    (record,) = ledger.register_envelopes("C1", "inbox", [("k1", "a.csv")])
    ledger.mark_failed(record.id, "GW-INTERNAL", "disk full")
    ledger.mark_failed(record.id, "GW-INTERNAL", "disk still full")
    failed = ledger.envelope(record.id)
    assert failed.state is EnvelopeState.FAILED
    assert failed.attempts == 2
    assert (failed.outcome_code, failed.outcome_message) == ("GW-INTERNAL", "disk still full")
    with pytest.raises(LedgerError):
        ledger.mark_failed(999_999, "GW-INTERNAL", "no such envelope")
    with pytest.raises(LedgerError):
        ledger.envelope(999_999)


def _decide(ledger: Ledger, envelope_id: int, assigned: bool) -> None:
    with ledger.assignment() as work:
        work.record_outcome(
            envelope_id,
            state=EnvelopeState.ASSIGNED if assigned else EnvelopeState.REJECTED,
            format="csv",
            content_sha256=None,
            business_date=date(2025, 3, 10),
            file_issues=() if assigned else (Issue("GW-FILE-NO-DOCUMENT", "empty"),),
            documents=[document(1, f"F-{envelope_id}")] if assigned else [],
            remittance_number=work.next_remittance_number("C1") if assigned else None,
        )


def test_delivery_acknowledges_assigned_envelopes_and_finalization_ends_them(ledger: Ledger) -> None:
    assigned, rejected, waiting = ledger.register_envelopes(
        "C1", "inbox", [("k1", "a.csv"), ("k2", "b.csv"), ("k3", "c.csv")]
    )
    _decide(ledger, assigned.id, True)
    _decide(ledger, rejected.id, False)
    files = [
        DeliveryRecord(assigned.id, "factor", "R-1.csv", "1" * 64, 120),
        DeliveryRecord(assigned.id, "client", "ACK-a.csv", "2" * 64, 80),
        DeliveryRecord(rejected.id, "client", "ACK-b.csv", "3" * 64, 60),
    ]
    ledger.mark_delivered([assigned.id, rejected.id], files)
    assert ledger.envelope(assigned.id).state is EnvelopeState.ACKNOWLEDGED
    assert ledger.envelope(rejected.id).state is EnvelopeState.REJECTED
    assert ledger.envelope(assigned.id).delivered and ledger.envelope(rejected.id).delivered
    assert not ledger.envelope(waiting.id).delivered

    ledger.mark_delivered([assigned.id], files[:1])  # a re-render after a crash: same bytes, harmless
    with pytest.raises(LedgerError, match="different content"):
        ledger.mark_delivered(
            [assigned.id], [DeliveryRecord(assigned.id, "factor", "R-1.csv", "9" * 64, 120)]
        )

    assert [e.id for e in ledger.unfinished_envelopes("inbox")] == [assigned.id, rejected.id, waiting.id]
    ledger.mark_finalized([assigned.id, rejected.id])
    ledger.mark_finalized([assigned.id])
    assert [e.id for e in ledger.unfinished_envelopes("inbox")] == [waiting.id]
    assert ledger.unfinished_envelopes("elsewhere") == []
    assert ledger.envelope(assigned.id).finalized
