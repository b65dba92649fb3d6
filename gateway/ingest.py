"""``gateway ingest``: put files into a client's inbox and process them at once.

The copy goes through the channel's transport (:meth:`deposit`: a temporary name,
then a rename into the inbox, exactly like a well-behaved client upload), so the
file is complete before the pipeline can see it; the originals are never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gateway.pipeline import CycleReport, Pipeline
from gateway.settings import ClientSettings
from gateway.transports.base import Entry
from gateway.transports.names import display_name, name_refusal

#: How long ``ingest`` waits for a channel another process is working on (its files are then
#: left in the inbox, where that process or the next cycle takes them).
CHANNEL_WAIT_SECONDS = 60.0


def ingest_files(
    pipeline: Pipeline, client: ClientSettings, files: Sequence[Path], channel_id: str | None = None
) -> CycleReport:
    """Copy ``files`` into the client's inbox and run them through the pipeline now."""
    route = next(
        (r for r in pipeline.inbound if r.client.id == client.id and channel_id in (None, r.channel.id)),
        None,
    )
    if route is None:
        raise ValueError(f"Client '{client.id}' has no inbound channel '{channel_id}'.")
    inbox = route.channel.transport.root / "inbox"
    refused = [(f.name, why) for f in files if (why := name_refusal(f.name)) is not None]
    if refused:
        raise ValueError(
            "These file names cannot be taken: "
            + "; ".join(f"{display_name(name)}: {why}" for name, why in refused)
            + ". Rename the copies."
        )
    clashes = [f.name for f in files if (inbox / f.name).exists()]
    if clashes:
        raise ValueError(f"A file with the same name is already waiting in {inbox}: {', '.join(clashes)}")
    # Through the transport, as a client's upload: complete before the pipeline can see it.
    entries: list[Entry] = [route.transport.deposit(source.name, source.read_bytes()) for source in files]
    report = CycleReport(pipeline.business_date())
    pipeline.process_channel(route, report, entries, wait_seconds=CHANNEL_WAIT_SECONDS)
    return report
