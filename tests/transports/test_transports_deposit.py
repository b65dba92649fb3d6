"""``deposit``: how ``ingest`` and the demo put files in, through the transport."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import TransportError
from gateway.settings import LocalFolderSettings
from gateway.transports.local import LocalFolderInbound
from gateway.transports.memory import MemoryInbound


@pytest.mark.parametrize("kind", ["memory", "local"])
def test_a_deposited_file_is_complete_waiting_and_never_replaced(tmp_path: Path, kind: str) -> None:
    inbound = (
        MemoryInbound("in")
        if kind == "memory"
        else LocalFolderInbound("in", LocalFolderSettings(tmp_path, readiness="rename"))
    )
    try:
        entry = inbound.deposit("batch.csv", b"a;b\n1;2\n", mtime_ns=1_700_000_000_000_000_000)
        assert (entry.name, entry.size, entry.mtime_ns) == ("batch.csv", 8, 1_700_000_000_000_000_000)
        assert [e.transport_key for e in inbound.scan()] == [entry.transport_key]
        with pytest.raises(TransportError, match="already waiting"):
            inbound.deposit("batch.csv", b"other")
        if kind == "local":
            assert (tmp_path / "inbox" / "batch.csv").read_bytes() == b"a;b\n1;2\n"
            assert sorted(p.name for p in (tmp_path / "inbox").iterdir()) == [
                "batch.csv"
            ]  # no temporary left
    finally:
        inbound.close()
