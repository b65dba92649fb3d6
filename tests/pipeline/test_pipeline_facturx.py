"""A Factur-X PDF dropped in a client's inbox goes the whole way: assigned, remitted, acknowledged,
archived as received; the same invoice sent again as bare CII is then a duplicate.

The PDF is built here with the factur-x library around the demo's CII invoice (bravo_B-2001.xml,
seller BRAVO SAS, buyer DELTA SA: a client and a debtor of the demo configuration), on memory
transports and a SQLite ledger.
"""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path
from typing import Any

import facturx  # type: ignore[import-untyped, unused-ignore]
from pypdf import PdfWriter

from gateway.config import load_settings
from gateway.ledger import Ledger
from gateway.pipeline import InboundRoute, Pipeline
from gateway.transports.memory import MemoryInbound, MemoryOutbound

REPO = Path(__file__).resolve().parents[2]
CII = (REPO / "samples" / "demo" / "batches" / "bravo" / "bravo_B-2001.xml").read_bytes()


def factur_x_pdf(xml: bytes) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    blank = BytesIO()
    writer.write(blank)
    return bytes(facturx.generate_from_binary(blank.getvalue(), xml, check_xsd=True))


def _json_files(outbound: MemoryOutbound) -> list[dict[str, Any]]:
    return [json.loads(data) for name, data in sorted(outbound.files.items()) if name.endswith(".json")]


def test_a_factur_x_pdf_goes_through_the_whole_pipeline(tmp_path: Path) -> None:
    settings = load_settings(
        REPO / "samples" / "demo" / "gateway.toml", ledger_url=f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    )
    bravo = settings.client("bravo")
    assert bravo is not None
    inbox = MemoryInbound(bravo.inbound[0].id)
    acks = MemoryOutbound(bravo.acknowledgements.id)
    factor = MemoryOutbound(settings.factor.remittances.id)
    ledger = Ledger.open(settings.ledger_url)
    try:
        pipeline = Pipeline(
            settings,
            ledger,
            [InboundRoute(bravo, bravo.inbound[0], inbox)],
            {acks.channel: acks, factor.channel: factor},
        )
        pdf = factur_x_pdf(CII)
        inbox.drop("B-2001.pdf", pdf)
        first = pipeline.run_cycle()
        inbox.drop("B-2001.xml", CII)  # the same receivable, now as bare CII
        second = pipeline.run_cycle()
    finally:
        ledger.close()

    assert (first.files, first.assigned_files, first.rejected_files) == (1, 1, 0)
    [remittance] = _json_files(factor)
    assert remittance["source_name"] == "B-2001.pdf"
    assert [line["number"] for line in remittance["lines"]] == ["B-2001"]
    assert any(name.endswith(".pdf") for name in factor.files)  # the bordereau, among the other formats

    by_source = {ack["source_name"]: ack for ack in _json_files(acks)}
    ack = by_source["B-2001.pdf"]
    assert ack["file_issues"] == []
    assert [(line["number"], line["verdict"]) for line in ack["lines"]] == [("B-2001", "accepted")]

    assert inbox.archived["B-2001.pdf"].data == pdf  # archived as received, not the XML inside
    assert "B-2001.pdf" not in inbox.errors

    assert (second.files, second.assigned_files) == (1, 0)
    [again] = by_source["B-2001.xml"]["lines"]
    assert again["verdict"] == "rejected" and "GW-DUPLICATE-INVOICE" in [i["code"] for i in again["issues"]]
