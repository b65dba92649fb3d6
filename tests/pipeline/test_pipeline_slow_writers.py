"""A client's ERP writing its batch slowly into a real inbox: one envelope, every invoice assigned.

What was seen (issue 7): under "closed", an ERP appending one line at a time (open, write,
close) got 11 envelopes, 11 acknowledgements and none of its 10 invoices assigned; under
"rename", a file written in place was taken with its header only. Here the pipeline runs its
cycle every ``SCAN_INTERVAL`` on a real local folder (its watcher running, as in the daemon)
while a separate process writes the batch (:mod:`slow_writers`), with real pauses.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from slow_writers import start_writer

from gateway.config import load_settings
from gateway.ledger import Ledger
from gateway.pipeline import CycleReport, InboundRoute, Pipeline
from gateway.scheduler import ScanScheduler
from gateway.transports.base import OutboundTransport
from gateway.transports.local import LocalFolderInbound
from gateway.transports.memory import MemoryOutbound

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pipeline_support, as tests/ledger does

from pipeline_support import CONFIG, batch, row, write_config

STABLE_SECONDS = 1.0
SCAN_INTERVAL = 0.1
INVOICES = 10
ACME_INBOX = 'id = "acme-inbox"\npath = "clients/acme-inbox"\nformat = "auto"\nreadiness = "rename"\n'


@dataclass
class SlowClient:
    pipeline: Pipeline
    inbox: LocalFolderInbound
    acks: MemoryOutbound
    factor: MemoryOutbound


@pytest.fixture(params=["closed", "rename", "stable"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SlowClient]:
    """The acme client's first channel on a real folder under the rule named by the param."""
    assert ACME_INBOX in CONFIG
    channel = ACME_INBOX.replace('"rename"', f'"{request.param}"\nstable_seconds = {STABLE_SECONDS}')
    settings = load_settings(
        write_config(tmp_path / "etc", CONFIG.replace(ACME_INBOX, channel)),
        ledger_url=f"sqlite:///{tmp_path / 'ledger.sqlite'}",
    )
    acme = settings.client("acme")
    assert acme is not None
    inbox = LocalFolderInbound(acme.inbound[0].id, acme.inbound[0].transport)
    acks = MemoryOutbound(acme.acknowledgements.id)
    factor = MemoryOutbound(settings.factor.remittances.id)
    outbound: dict[str, OutboundTransport] = {acks.channel: acks, factor.channel: factor}
    ledger = Ledger.open(settings.ledger_url)
    pipeline = Pipeline(settings, ledger, [InboundRoute(acme, acme.inbound[0], inbox)], outbound)
    inbox.wait(0.01)  # starts the watcher, as the daemon does: "closed" needs its close events
    yield SlowClient(pipeline, inbox, acks, factor)
    inbox.close()
    ledger.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("client", "mode"),
    [("closed", "line-at-a-time"), ("rename", "in-place"), ("stable", "line-at-a-time")],
    indirect=["client"],
)
def test_a_batch_written_slowly_is_one_envelope_with_every_invoice_assigned(
    client: SlowClient, mode: str
) -> None:
    """The first two are the cases of issue 7; the old rules failed both."""
    content = batch(*(row(f"SW-{n:03d}") for n in range(1, INVOICES + 1)))
    writer = start_writer(content, client.inbox.inbox / "bordereau.csv", mode, pause=0.2)
    files = accepted = 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done = writer.poll() is not None  # before the cycle: what it then sees is all there is
        report = client.pipeline.run_cycle()
        files += report.files
        accepted += report.accepted_documents
        if done and not os.listdir(client.inbox.inbox):
            break
        client.inbox.wait(SCAN_INTERVAL)
    assert writer.wait(5) == 0
    assert (files, accepted) == (1, INVOICES)
    acks = [json.loads(data) for name, data in client.acks.files.items() if name.endswith(".json")]
    assert [(a["source_name"], len(a["lines"])) for a in acks] == [("bordereau.csv", INVOICES)]
    assert {line["verdict"] for line in acks[0]["lines"]} == {"accepted"}
    assert os.listdir(client.inbox.work) == []


def test_run_once_waits_for_a_file_just_arrived_and_not_for_an_empty_inbox(client: SlowClient) -> None:
    """``run --once`` sleeps what :meth:`Pipeline.observe` says: every rule now waits for quiet."""
    assert client.pipeline.observe() == 0
    (client.inbox.inbox / "bordereau.csv").write_bytes(batch(row("SW-001")))
    wait = client.pipeline.observe()
    assert 0 < wait <= STABLE_SECONDS + 0.1
    assert client.pipeline.run_cycle().files == 0  # not quiet yet
    time.sleep(wait)
    report = client.pipeline.run_cycle()
    assert (report.files, report.accepted_documents) == (1, 1)


@pytest.mark.slow
@pytest.mark.parametrize("client", ["rename", "stable"], indirect=True)
def test_the_daemon_takes_a_file_once_quiet_not_at_its_next_periodic_cycle(client: SlowClient) -> None:
    """Every rule now waits ``stable_seconds`` after the last write: the daemon looks again then,
    instead of at its next periodic cycle (every 5 s here, 30 s by default)."""
    settings = client.pipeline.settings
    assert settings.schedules.scan_interval_seconds == 5
    reports: list[CycleReport] = []
    scheduler = ScanScheduler(client.pipeline, settings, reports.append)
    times: dict[str, float] = {}

    def client_side() -> None:
        try:
            time.sleep(0.5)  # the daemon is up; its first cycle found nothing
            upload = client.inbox.inbox / ".bordereau.csv.part"
            upload.write_bytes(batch(row("SW-001")))
            os.rename(upload, client.inbox.inbox / "bordereau.csv")
            times["arrived"] = time.monotonic()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(r.files for r in reports):
                time.sleep(0.05)
            times["taken"] = time.monotonic()
        finally:
            scheduler._request_stop()  # as SIGTERM does

    helper = threading.Thread(target=client_side)
    helper.start()
    scheduler.run()
    helper.join()
    assert sum(r.files for r in reports) == 1
    assert times["taken"] - times["arrived"] < STABLE_SECONDS + 2.5  # the periodic cycle: 5 s
