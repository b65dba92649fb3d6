"""status(): what the CLI shows, as dataclasses and as JSON."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from ledger_support import debtor, document

from gateway.ledger import (
    ApprovalStatus,
    AssignedTotal,
    ClientFacts,
    DeliveryRecord,
    DocumentCount,
    EnvelopeCount,
    EnvelopeState,
    Ledger,
    RemittanceCount,
)
from gateway.model import Verdict


def test_status_counts_and_sums_exactly(ledger: Ledger) -> None:
    assert ledger.status().to_dict() == {
        "envelopes": [],
        "remittances": [],
        "documents": [],
        "assigned_totals": [],
        "approvals": [],
    }
    a1, a2, a3 = ledger.register_envelopes("C1", "inbox", [("1", "1.csv"), ("2", "2.csv"), ("3", "3.csv")])
    (b1,) = ledger.register_envelopes("C2", "inbox-b", [("1", "1.csv")])
    ledger.mark_failed(a3.id, "GW-INTERNAL", "boom")
    with ledger.assignment() as work:
        work.sync_parties(ClientFacts("C1", "Acme", None, None), [debtor("ALPHA", "40000.00", "39999.65")])
        for envelope_id, client, docs in (
            (
                a1.id,
                "C1",
                [
                    document(1, "F-1", "0.10"),
                    document(2, "F-2", "0.20"),
                    document(3, "AV-1", "-0.05", type_code="381", line_no=3),
                    document(4, "F-3", "7.00", verdict=Verdict.REJECTED),
                ],
            ),
            (a2.id, "C1", [document(1, "F-4", "5.00", currency="USD", guaranteed="1.50")]),
            (b1.id, "C2", [document(1, "F-1", "1.00", seller_key="552100554")]),
        ):
            work.record_outcome(
                envelope_id,
                state=EnvelopeState.ASSIGNED,
                format="csv",
                content_sha256=None,
                business_date=date(2025, 3, 10),
                file_issues=(),
                documents=docs,
                remittance_number=work.next_remittance_number(client),
                # the pipeline passes what its EUR lines' guaranteed parts moved: +0.25
                approval_moves=[("ALPHA", Decimal("0.25"), Decimal("39999.90"))]
                if envelope_id == a1.id
                else (),
            )
    ledger.mark_delivered([a1.id], [DeliveryRecord(a1.id, "factor", "R1.csv", "0" * 64, 1)])

    report = ledger.status()
    assert report.envelopes == (
        EnvelopeCount("C1", EnvelopeState.ACKNOWLEDGED, 1),
        EnvelopeCount("C1", EnvelopeState.ASSIGNED, 1),
        EnvelopeCount("C1", EnvelopeState.FAILED, 1),
        EnvelopeCount("C2", EnvelopeState.ASSIGNED, 1),
    )
    assert report.remittances == (RemittanceCount("C1", 2, 2), RemittanceCount("C2", 1, 1))
    assert report.documents == (DocumentCount("C1", 4, 1), DocumentCount("C2", 1, 0))
    assert report.assigned == (
        AssignedTotal("C1", "EUR", 3, Decimal("0.25"), Decimal("0.25"), Decimal("0.00")),
        AssignedTotal("C1", "USD", 1, Decimal("5.00"), Decimal("1.50"), Decimal("3.50")),
        AssignedTotal("C2", "EUR", 1, Decimal("1.00"), Decimal("1.00"), Decimal("0.00")),
    )
    assert report.approvals == (
        ApprovalStatus("C1", "ALPHA", Decimal("40000.00"), "EUR", Decimal("39999.90")),
    )
    data = json.loads(json.dumps(report.to_dict()))
    assert data["assigned_totals"][0] == {
        "client_id": "C1",
        "currency": "EUR",
        "documents": 3,
        "net_total": "0.25",  # 0.1 + 0.2 - 0.05 in floats would print 0.25000000000000006
        "guaranteed_total": "0.25",
        "non_guaranteed_total": "0.00",
    }
    assert data["approvals"] == [
        {
            "client_id": "C1",
            "debtor_id": "ALPHA",
            "limit": "40000.00",
            "currency": "EUR",
            "outstanding": "39999.90",
            "available": "0.10",
        }
    ]
    assert data["envelopes"][0] == {"client_id": "C1", "state": "acknowledged", "count": 1}
