"""Two gateway nodes on one PostgreSQL ledger receive the same invoice at the same moment:
it is assigned once, whichever node wins, and the other node's acknowledgement says why."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from gateway.config import load_settings
from gateway.ledger import Ledger
from gateway.pipeline import CycleReport, InboundRoute, Pipeline
from gateway.settings import InboundChannel
from gateway.transports.memory import MemoryInbound, MemoryOutbound

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]
BATCH = (REPO / "samples" / "demo" / "batches" / "acme" / "acme_bordereau_20250310.csv").read_text()


def _node(url: str, channel_suffix: str) -> tuple[Pipeline, MemoryInbound, MemoryOutbound, Ledger]:
    settings = load_settings(REPO / "samples" / "demo" / "gateway.toml", ledger_url=url)
    acme = settings.client("acme")
    assert acme is not None
    channel = InboundChannel(f"acme-{channel_suffix}", acme.inbound[0].transport, "auto")
    inbox = MemoryInbound(channel.id)
    acks = MemoryOutbound(acme.acknowledgements.id)
    ledger = Ledger.open(url)
    pipeline = Pipeline(
        settings,
        ledger,
        [InboundRoute(acme, channel, inbox)],
        {
            settings.factor.remittances.id: MemoryOutbound(settings.factor.remittances.id),
            acme.acknowledgements.id: acks,
        },
    )
    return pipeline, inbox, acks, ledger


@pytest.mark.parametrize("round_", range(3))
def test_the_same_invoice_on_two_nodes_is_assigned_once(pg_server: object, round_: int) -> None:
    url = pg_server.create()  # type: ignore[attr-defined]
    Ledger.open(url).close()
    header, *rows = BATCH.splitlines()
    f1002 = next(r for r in rows if r.startswith("F-1002;"))
    nodes = [_node(url, name) for name in ("node-a", "node-b")]
    for index, (_, inbox, _, _) in enumerate(nodes):
        # Different files (different bytes), one receivable in common.
        other = f1002.replace("F-1002", f"F-20{index}0")
        inbox.drop(f"batch-{index}.csv", f"{header}\n{f1002}\n{other}\n".encode())

    reports: list[CycleReport] = []
    start = threading.Barrier(2)

    def run(pipeline: Pipeline) -> None:
        start.wait()
        reports.append(pipeline.run_cycle())

    threads = [threading.Thread(target=run, args=(node[0],)) for node in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    verdicts = []
    for _, _, acks, ledger in nodes:
        [ack] = [json.loads(d) for n, d in acks.files.items() if n.endswith(".json")]
        verdicts += [
            (line["number"], line["verdict"], [i["code"] for i in line["issues"]]) for line in ack["lines"]
        ]
        ledger.close()
    f1002_verdicts = sorted(v for v in verdicts if v[0] == "F-1002")
    assert f1002_verdicts == [("F-1002", "accepted", []), ("F-1002", "rejected", ["GW-DUPLICATE-INVOICE"])]
    assert sorted(v[1] for v in verdicts if v[0] != "F-1002") == ["accepted", "accepted"]
    assert sorted(r.remittances[0][1] for r in reports) == [1, 2]  # gapless, one number each
