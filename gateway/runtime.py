"""Build a running gateway from settings: the ledger, the local transports, the pipeline.

Kept apart from :mod:`gateway.pipeline` so that tests can wire the pipeline
to in-memory transports and the CLI can wire it to real folders.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from gateway.ledger import Ledger
from gateway.limits import DEFAULT_LIMITS, Limits
from gateway.pipeline import InboundRoute, Pipeline, ProgressCallback
from gateway.settings import Settings
from gateway.transports.base import OutboundTransport
from gateway.transports.local import LocalFolderInbound, LocalFolderOutbound
from gateway.workdir import check_folders


def local_routes(settings: Settings) -> tuple[list[InboundRoute], dict[str, OutboundTransport]]:
    """Local-folder transports for every channel of the configuration."""
    routes = [
        InboundRoute(client, channel, LocalFolderInbound(channel.id, channel.transport))
        for client in settings.clients
        for channel in client.inbound
    ]
    outbound: dict[str, OutboundTransport] = {
        settings.factor.remittances.id: LocalFolderOutbound(
            settings.factor.remittances.id, settings.factor.remittances.transport
        )
    }
    for client in settings.clients:
        ack = client.acknowledgements
        outbound[ack.id] = LocalFolderOutbound(ack.id, ack.transport)
    return routes, outbound


def tune_memory_for_batches() -> None:
    """Make Python's cycle collector run less often during big batches.

    A 100,000-invoice file allocates millions of small objects that live until
    the batch is written; with the default thresholds the collector rescans them
    again and again (about a quarter of the run). Nothing here creates reference
    cycles that need prompt collection, so objects that exist at start-up are
    frozen out of the scans and the first-generation threshold is raised.
    """
    gc.freeze()
    gc.set_threshold(100_000, 20, 50)


@contextmanager
def open_pipeline(
    settings: Settings, *, limits: Limits = DEFAULT_LIMITS, progress: ProgressCallback | None = None
) -> Iterator[Pipeline]:
    """The ledger (migrated, this process its only writer on SQLite, the folders checked to
    belong to it), the transports and the pipeline; everything closed on exit."""
    ledger = Ledger.open(settings.ledger_url, exclusive=True)
    try:
        check_folders(settings, ledger)
        routes, outbound = local_routes(settings)
    except BaseException:
        ledger.close()
        raise
    try:
        for transport in outbound.values():
            transport.recover()  # temporary files of deliveries a crash interrupted
        yield Pipeline(settings, ledger, routes, outbound, limits=limits, progress=progress)
    finally:
        for route in routes:
            route.transport.close()
        for transport in outbound.values():
            transport.close()
        ledger.close()
