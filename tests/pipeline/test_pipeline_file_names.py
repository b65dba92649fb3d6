"""Every file is answered, whatever its name: the names French ERPs write are taken as they are
(kept under a stand-in on disk), and a name that cannot be taken at all is still recorded in the
ledger, acknowledged with the reason, counted in the report and kept in error/."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pipeline_support, as tests/ledger does

from pipeline_support import (
    Gateway,
    acknowledgement_lines,
    batch,
    row,
)

FRENCH_NAMES = (
    "Relevé d'avoirs.csv",
    "Facture N°123.csv",
    "export&co.csv",
    "Bordereau [mars] #2 (copie) 50%.csv",
    "Factures du 10/03".replace("/", "-") + " – ACME’s.csv",
    "CON.csv",
    "-rf.csv",
    "refused-name-0123456789abcdef",
)
REFUSED_NAMES = ("evil\x1b[31m.csv", "facture\u202egpj.csv", "a..b.csv", "x" * 210 + ".csv")


def test_french_names_are_taken_and_answered_under_their_own_name(gateway: Gateway) -> None:
    for number, name in enumerate(FRENCH_NAMES):
        gateway.drop("acme-inbox", name, batch(row(f"F-{number}")), mtime_ns=1_000 + number)
    report = gateway.cycle()
    assert (report.files, report.assigned_files, report.rejected_files) == (
        len(FRENCH_NAMES),
        len(FRENCH_NAMES),
        0,
    )
    assert [o.name for o in report.outcomes] == list(FRENCH_NAMES)
    assert {o.outcome for o in report.outcomes} == {"assigned"}
    for number, name in enumerate(FRENCH_NAMES):
        ack = gateway.acknowledgement("acme", name)
        assert acknowledgement_lines(ack) == [(f"F-{number}", "accepted", [])]
    stored = [r[0] for r in gateway.query("SELECT source_name FROM envelopes ORDER BY id")]
    assert stored == list(FRENCH_NAMES)
    assert [r["source_name"] for r in gateway.remittances()] == list(FRENCH_NAMES)
    inbox = gateway.inboxes["acme-inbox"].folders
    assert not inbox.inbox and not inbox.work and not inbox.error
    assert len(inbox.archive) == len(FRENCH_NAMES)


def test_a_name_that_cannot_be_taken_is_recorded_acknowledged_and_counted(gateway: Gateway) -> None:
    for number, name in enumerate(REFUSED_NAMES):
        gateway.drop("acme-inbox", name, batch(row(f"R-{number}")), mtime_ns=1_000 + number)
    report = gateway.cycle()
    assert (report.files, report.rejected_files, report.failed_files) == (
        len(REFUSED_NAMES),
        len(REFUSED_NAMES),
        0,
    )
    assert {o.outcome for o in report.outcomes} == {"refused"}
    assert all(o.codes == ("GW-FILE-NAME-UNSAFE",) for o in report.outcomes)

    shown = [r[0] for r in gateway.query("SELECT source_name FROM envelopes ORDER BY id")]
    assert all("\x1b" not in name and "\u202e" not in name for name in shown), shown
    assert shown[2] == "a..b.csv"
    assert [r[0] for r in gateway.query("SELECT state FROM envelopes")] == ["rejected"] * len(REFUSED_NAMES)

    acks = gateway.acknowledgements("acme")
    assert sorted(acks) == sorted(shown)
    reasons = {name: ack["file_issues"][0]["message"] for name, ack in acks.items()}
    assert "control or invisible character (U+001B)" in reasons[shown[0]]
    assert "U+202E" in reasons[shown[1]]
    assert "'..'" in reasons["a..b.csv"]
    assert "longer than 200 characters" in reasons[shown[3]]
    assert gateway.remittances() == []

    error = gateway.inboxes["acme-inbox"].folders.error
    assert sorted(f.data for f in error.values()) == sorted(batch(row(f"R-{n}")) for n in range(4))
    assert all(name.startswith("refused-name-") for name in error)
    assert {f.reason["code"] for f in error.values() if f.reason} == {"GW-FILE-NAME-UNSAFE"}

    again = gateway.cycle()
    assert again.files == 0, "a refused name is answered once, not at every cycle"
    assert gateway.pipeline.ledger.status().to_dict()["envelopes"] == [
        {"client_id": "acme", "state": "rejected", "count": len(REFUSED_NAMES)}
    ]
