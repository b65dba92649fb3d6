"""A file is refused from its size before it is read whole, and an empty file is answered."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.config import load_settings
from gateway.ledger import Ledger
from gateway.limits import Limits
from gateway.pipeline import InboundRoute, Pipeline
from gateway.transports.base import Entry
from gateway.transports.memory import MemoryInbound, MemoryOutbound

REPO = Path(__file__).resolve().parents[2]
BATCHES = REPO / "samples" / "demo" / "batches"
UBL = (BATCHES / "acme" / "acme_F-1010.xml").read_bytes()
CSV = (BATCHES / "acme" / "acme_bordereau_20250310.csv").read_bytes()


class CountingInbound(MemoryInbound):
    """Remembers how many bytes were asked of each file."""

    def __init__(self, channel: str) -> None:
        super().__init__(channel)
        self.full_reads: list[str] = []

    def read(self, entry: Entry, max_bytes: int) -> bytes:
        self.full_reads.append(entry.name)
        return super().read(entry, max_bytes)


def _pipeline(tmp_path: Path, limits: Limits) -> tuple[Pipeline, CountingInbound, MemoryOutbound, Ledger]:
    settings = load_settings(
        REPO / "samples" / "demo" / "gateway.toml", ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}"
    )
    ledger = Ledger.open(settings.ledger_url)
    acme = settings.client("acme")
    assert acme is not None
    inbox = CountingInbound(acme.inbound[0].id)
    acks = MemoryOutbound(acme.acknowledgements.id)
    outbound = {
        settings.factor.remittances.id: MemoryOutbound(settings.factor.remittances.id),
        acks.channel: acks,
    }
    pipeline = Pipeline(
        settings, ledger, [InboundRoute(acme, acme.inbound[0], inbox)], outbound, limits=limits
    )
    return pipeline, inbox, acks, ledger


def _ack_codes(acks: MemoryOutbound, source: str) -> list[str]:
    for name, data in acks.files.items():
        if name.endswith(".json"):
            ack = json.loads(data)
            if ack["source_name"] == source:
                return [i["code"] for i in ack["file_issues"]] + [
                    i["code"] for line in ack["lines"] for i in line["issues"]
                ]
    raise AssertionError(f"no acknowledgement for {source}")


def test_an_oversized_xml_file_is_refused_without_being_read_whole(tmp_path: Path) -> None:
    pipeline, inbox, acks, ledger = _pipeline(tmp_path, Limits(max_xml_bytes=len(CSV) - 10))
    try:
        big = UBL.replace(b"</Invoice>", b"<!--" + b"x" * 10_000 + b"--></Invoice>")
        inbox.drop("big.xml", big)
        inbox.drop("batch.csv", CSV)  # larger than the XML cap, far below the file cap: read and assigned
        report = pipeline.run_cycle()
    finally:
        ledger.close()
    assert "big.xml" not in inbox.full_reads
    assert "batch.csv" in inbox.full_reads
    assert _ack_codes(acks, "big.xml") == ["GW-FILE-TOO-LARGE"]
    assert (report.files, report.rejected_files, report.assigned_files) == (2, 1, 1)


def test_an_empty_file_gets_an_acknowledgement(tmp_path: Path) -> None:
    pipeline, inbox, acks, ledger = _pipeline(tmp_path, Limits())
    try:
        inbox.drop("empty.csv", b"")
        pipeline.run_cycle()
    finally:
        ledger.close()
    assert _ack_codes(acks, "empty.csv") == ["GW-FILE-EMPTY"]
    assert "empty.csv" in inbox.errors
