"""The pipeline on in-memory transports: one real path, then every kind of duplicate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.config import load_settings
from gateway.ledger import Ledger
from gateway.pipeline import InboundRoute, Pipeline
from gateway.settings import Settings
from gateway.transports.memory import MemoryInbound, MemoryOutbound

REPO = Path(__file__).resolve().parents[2]
BATCHES = REPO / "samples" / "demo" / "batches"
WORKED_EXAMPLE = (BATCHES / "acme" / "acme_bordereau_20250310.csv").read_bytes()


@dataclass
class Harness:
    settings: Settings
    ledger: Ledger
    pipeline: Pipeline
    acme_inbox: MemoryInbound
    factor_out: MemoryOutbound
    acme_out: MemoryOutbound

    def remittances(self) -> list[dict[str, object]]:
        return [
            json.loads(data) for name, data in sorted(self.factor_out.files.items()) if name.endswith(".json")
        ]

    def acknowledgement(self, source_name: str) -> dict[str, object]:
        for name, data in sorted(self.acme_out.files.items()):
            doc = json.loads(data) if name.endswith(".json") else None
            if doc and doc["source_name"] == source_name:
                return doc  # type: ignore[no-any-return]
        raise AssertionError(f"no acknowledgement for {source_name}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same pipeline on the embedded default and on the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    url: str = request.getfixturevalue("pg_server").create()
    return url


@pytest.fixture
def harness(ledger_url: str) -> Iterator[Harness]:
    settings = load_settings(REPO / "samples" / "demo" / "gateway.toml", ledger_url=ledger_url)
    ledger = Ledger.open(settings.ledger_url)
    acme = settings.client("acme")
    assert acme is not None
    inbox = MemoryInbound(acme.inbound[0].id)
    factor_out = MemoryOutbound(settings.factor.remittances.id)
    acme_out = MemoryOutbound(acme.acknowledgements.id)
    pipeline = Pipeline(
        settings,
        ledger,
        [InboundRoute(acme, acme.inbound[0], inbox)],
        {settings.factor.remittances.id: factor_out, acme.acknowledgements.id: acme_out},
    )
    yield Harness(settings, ledger, pipeline, inbox, factor_out, acme_out)
    ledger.close()


def _codes(ack: dict[str, object]) -> list[str]:
    lines = ack["lines"]
    assert isinstance(lines, list)
    return [issue["code"] for line in lines for issue in line["issues"]]


def test_worked_example_becomes_a_remittance_and_an_acknowledgement(harness: Harness) -> None:
    harness.acme_inbox.drop("bordereau.csv", WORKED_EXAMPLE)
    report = harness.pipeline.run_cycle()

    assert report.files == 1 and report.assigned_files == 1
    [remittance] = harness.remittances()
    assert remittance["number"] == 1
    [totals] = remittance["totals"]
    assert totals["net_total"] == "40800.00"
    assert totals["guaranteed_total"] == "34000.00"
    assert totals["non_guaranteed_total"] == "6800.00"
    ack = harness.acknowledgement("bordereau.csv")
    verdicts = {line["number"]: line["verdict"] for line in ack["lines"]}
    assert verdicts == {
        "AV-0007": "accepted",
        "F-1001": "accepted",
        "F-1002": "accepted",
        "F-1003": "accepted",
        "F-1004": "rejected",
        "F-1005": "rejected",
        "F-1006": "rejected",
        "F-1007": "rejected",
    }
    assert {"GW-DUE-DATE-PAST", "BR-CO-15", "GW-DEBTOR-UNKNOWN", "GW-CSV-VALUE"} <= set(_codes(ack))
    assert "bordereau.csv" in harness.acme_inbox.archived


def test_same_file_twice_same_bytes_renamed_and_same_invoice_are_refused(harness: Harness) -> None:
    harness.acme_inbox.drop("bordereau.csv", WORKED_EXAMPLE)
    harness.pipeline.run_cycle()
    before = harness.remittances()

    # 1. the same file dropped again (a new copy: new modification time)
    harness.acme_inbox.drop("bordereau.csv", WORKED_EXAMPLE)
    # 2. the same bytes under another name
    harness.acme_inbox.drop("bordereau-copy.csv", WORKED_EXAMPLE)
    report = harness.pipeline.run_cycle()
    assert report.files == 2 and report.rejected_files == 2 and not report.remittances
    dup_acks = [
        json.loads(data)
        for name, data in sorted(harness.acme_out.files.items())
        if name.endswith(".json") and json.loads(data)["verdict"] == "rejected"
    ]
    assert len(dup_acks) == 2
    for ack in dup_acks:
        assert [i["code"] for i in ack["file_issues"]] == ["GW-DUPLICATE-FILE"]

    # 3. the same invoice number (and issue date) in a new file, with other content around it
    header, *rows = WORKED_EXAMPLE.decode().splitlines()
    f1001 = next(r for r in rows if r.startswith("F-1001;"))
    new_file = (
        "\n".join([header, f1001.replace("Créance", "Creance"), rows[2].replace("F-1002", "F-2002")]) + "\n"
    )
    harness.acme_inbox.drop("new-batch.csv", new_file.encode())
    harness.pipeline.run_cycle()
    ack = harness.acknowledgement("new-batch.csv")
    by_number = {line["number"]: line for line in ack["lines"]}
    assert by_number["F-1001"]["verdict"] == "rejected"
    assert [i["code"] for i in by_number["F-1001"]["issues"]] == ["GW-DUPLICATE-INVOICE"]
    assert by_number["F-2002"]["verdict"] == "accepted"

    # the first remittance did not move; the new one holds only F-2002
    after = harness.remittances()
    assert after[0] == before[0]
    assert [line["number"] for line in after[1]["lines"]] == ["F-2002"]


def test_renamed_punctuation_is_the_same_receivable(harness: Harness) -> None:
    harness.acme_inbox.drop("a.csv", WORKED_EXAMPLE)
    harness.pipeline.run_cycle()
    header, *rows = WORKED_EXAMPLE.decode().splitlines()
    renamed = rows[1].replace("F-1001", "F_1001")  # the Eurofactor "rename to resend" trick
    harness.acme_inbox.drop("b.csv", f"{header}\n{renamed}\n".encode())
    harness.pipeline.run_cycle()
    ack = harness.acknowledgement("b.csv")
    assert [i["code"] for i in ack["lines"][0]["issues"]] == ["GW-DUPLICATE-INVOICE"]


def test_duplicate_in_one_file_assigns_the_first_only(harness: Harness) -> None:
    header, *rows = WORKED_EXAMPLE.decode().splitlines()
    harness.acme_inbox.drop("twice.csv", f"{header}\n{rows[2]}\n{rows[2]}\n".encode())
    harness.pipeline.run_cycle()
    ack = harness.acknowledgement("twice.csv")
    assert [line["verdict"] for line in ack["lines"]] == ["accepted", "rejected"]
    assert ack["lines"][1]["issues"][0]["code"] == "GW-DUPLICATE-IN-FILE"


def test_unreadable_file_is_refused_with_a_reason_and_kept(harness: Harness) -> None:
    truncated = (BATCHES / "acme" / "acme_truncated_F-1012.xml").read_bytes()
    harness.acme_inbox.drop("broken.xml", truncated)
    report = harness.pipeline.run_cycle()
    assert report.rejected_files == 1
    ack = harness.acknowledgement("broken.xml")
    assert ack["verdict"] == "rejected"
    assert ack["file_issues"][0]["code"] == "GW-XML-MALFORMED"
    assert "broken.xml" in harness.acme_inbox.errors


def test_a_number_without_letters_or_digits_is_refused_not_crashing(harness: Harness) -> None:
    header, *rows = WORKED_EXAMPLE.decode().splitlines()
    harness.acme_inbox.drop(
        "odd.csv", f"{header}\n{rows[2].replace('F-1002', '--/--')}\n{rows[3]}\n".encode()
    )
    report = harness.pipeline.run_cycle()
    assert report.failed_files == 0
    ack = harness.acknowledgement("odd.csv")
    assert [line["verdict"] for line in ack["lines"]] == ["rejected", "accepted"]
    assert ack["lines"][0]["issues"][-1]["code"] == "GW-NUMBER-INVALID"


def test_a_file_whose_decision_fails_fails_alone_and_ends_in_the_error_area(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection: a bug that strikes one file's decision must not block the others."""
    import gateway.intake

    real_split = gateway.intake.split_by_approval

    def split_with_a_bug(items, approvals):  # type: ignore[no-untyped-def]
        if any(invoice.number == "F-1002" for invoice, _ in items):
            raise RuntimeError("injected fault")
        return real_split(items, approvals)

    monkeypatch.setattr(gateway.intake, "split_by_approval", split_with_a_bug)
    header, *rows = WORKED_EXAMPLE.decode().splitlines()
    harness.acme_inbox.drop("poison.csv", f"{header}\n{rows[2]}\n".encode())
    harness.acme_inbox.drop("fine.csv", f"{header}\n{rows[3]}\n".encode())

    first = harness.pipeline.run_cycle()
    assert (first.assigned_files, first.failed_files) == (1, 1)
    assert "fine.csv" in harness.acme_inbox.archived
    for _ in range(2):  # retried at the next cycles, then put aside for a person
        harness.pipeline.run_cycle()
    assert "poison.csv" in harness.acme_inbox.errors
    reason = harness.acme_inbox.errors["poison.csv"].reason
    assert reason is not None and reason["code"] == "GW-INTERNAL"
    assert harness.ledger.status().to_dict()["remittances"] == [
        {"client_id": "acme", "count": 1, "last_number": 1}
    ]


def test_worked_example_1_end_to_end_is_remittance_42(ledger_url: str, tmp_path: Path) -> None:
    """factoring.md §1.6: the client's numbering continues at 42; through the whole pipeline the
    remittance holds 34,000.00 guaranteed and 6,800.00 non-guaranteed."""
    text = (REPO / "samples" / "demo" / "gateway.toml").read_text(encoding="utf-8")
    config = tmp_path / "gateway.toml"
    config.write_text(
        text.replace('vat_id = "FR44732829320"', 'vat_id = "FR44732829320"\nfirst_remittance_number = 42')
    )
    settings = load_settings(config, ledger_url=ledger_url)
    acme = settings.client("acme")
    assert acme is not None and acme.first_remittance_number == 42
    ledger = Ledger.open(ledger_url)
    inbox, factor_out = MemoryInbound(acme.inbound[0].id), MemoryOutbound(settings.factor.remittances.id)
    pipeline = Pipeline(
        settings,
        ledger,
        [InboundRoute(acme, acme.inbound[0], inbox)],
        {factor_out.channel: factor_out, acme.acknowledgements.id: MemoryOutbound(acme.acknowledgements.id)},
    )
    try:
        inbox.drop("bordereau-42.csv", WORKED_EXAMPLE)
        pipeline.run_cycle()
        remittance = json.loads(factor_out.files["REM_acme_000042.json"])
        assert remittance["number"] == 42
        [totals] = remittance["totals"]
        assert (totals["guaranteed_total"], totals["non_guaranteed_total"]) == ("34000.00", "6800.00")
        by_number = {
            line["number"]: (line["guaranteed"], line["non_guaranteed"]) for line in remittance["lines"]
        }
        assert by_number == {
            "AV-0007": ("-1200.00", "0.00"),
            "F-1001": ("11200.00", "800.00"),
            "F-1002": ("24000.00", "0.00"),
            "F-1003": ("0.00", "6000.00"),
        }
        inbox.drop("next.csv", WORKED_EXAMPLE.replace(b"F-1002;", b"F-1102;"))
        pipeline.run_cycle()
        assert "REM_acme_000043.json" in factor_out.files  # no gap after 42
    finally:
        ledger.close()
