"""``gateway demo``: a working directory with the sample configuration and batches.

The batches are dropped into the clients' inboxes the way a well-behaved
ERP does it (temporary name, then rename), in a fixed order, so every run
gives the same envelopes in the same order. Running the demo again on the
same directory drops the same batches again: the gateway must refuse them as
duplicates and assign nothing twice.
"""

from __future__ import annotations

import time
from importlib.resources.abc import Traversable
from pathlib import Path

from gateway.shipped import shipped

#: The samples shipped with the package (``samples/demo`` of the repository).
SAMPLES = shipped("samples", "demo")

#: Drop order: it decides envelope ids and which copy of a duplicated invoice comes first.
DROPS: tuple[tuple[str, str], ...] = (
    ("acme", "acme_bordereau_20250310.csv"),
    ("acme", "acme_F-1010.xml"),
    ("acme", "acme_AV-0011.xml"),
    ("acme", "acme_truncated_F-1012.xml"),
    ("bravo", "bravo_B-2001.xml"),
    ("bravo", "bravo_batch_20250310.csv"),
)


def prepare_demo(workdir: Path, samples: Traversable = SAMPLES) -> Path:
    """Create (or reuse) ``workdir``, drop the sample batches into the inboxes through the
    channels' transports (as a client's upload); return the configuration's path."""
    from gateway.config import load_settings
    from gateway.transports.local import LocalFolderInbound

    if not (samples / "gateway.toml").is_file():
        raise FileNotFoundError(
            f"The demo samples are missing from this installation ({samples}): reinstall factoring-gateway."
        )
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "gateway.toml"
    if not config.exists():
        config.write_bytes((samples / "gateway.toml").read_bytes())
    settings = load_settings(config)
    # Uploaded (and complete) a little while ago: every readiness rule waits until a file has been
    # unchanged for its channel's stable_seconds, and the demo runs its cycle at once.
    quiet = max((c.transport.stable_seconds for cl in settings.clients for c in cl.inbound), default=0.0)
    base_ns = time.time_ns() - int((len(DROPS) + quiet + 1) * 1_000_000_000)
    for index, (client_id, name) in enumerate(DROPS):
        client = settings.client(client_id)
        if client is None or not client.inbound:
            raise FileNotFoundError(
                f"The demo configuration {config} has no inbound channel for {client_id}."
            )
        inbox = LocalFolderInbound(client.inbound[0].id, client.inbound[0].transport)
        try:
            # Distinct, increasing modification times fix the processing order.
            inbox.deposit(
                name, (samples / "batches" / client_id / name).read_bytes(), base_ns + index * 10**9
            )
        finally:
            inbox.close()
    return config
