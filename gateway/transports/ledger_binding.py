"""Which ledger a working folder belongs to: a small marker file in each channel folder.

A ledger deleted or replaced while its folders keep their archives and
deliveries is the most dangerous mistake an operator can make: the remittance
numbering starts again at 1 and every invoice already assigned looks new.
Each channel folder therefore remembers the identity of its ledger in
``.gateway-ledger.json``; the gateway compares it with the ledger it opened
before doing any work (see :mod:`gateway.runtime`). The marker is a dot-file,
so inbox scans and a back office collecting ``*.csv`` leave it alone.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from gateway.clock import utc_now
from gateway.errors import TransportError

MARKER_NAME = ".gateway-ledger.json"
#: Counting stops here: the question is only "has this folder seen work?".
HISTORY_SAMPLE = 50


@dataclass(frozen=True, slots=True)
class FolderBinding:
    ledger_id: str
    ledger_url: str
    bound_at: str


def read_binding(root: Path) -> FolderBinding | None:
    """The ledger ``root`` was bound to, or ``None`` if it was never bound."""
    path = root / MARKER_NAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise TransportError(f"cannot read {path}: {err.strerror or err}") from err
    try:
        data = json.loads(raw.decode("utf-8"))
        return FolderBinding(str(data["ledger_id"]), str(data["ledger_url"]), str(data["bound_at"]))
    except (ValueError, KeyError, TypeError) as err:
        raise TransportError(
            f"{path} is damaged ({err}); it says which ledger this folder belongs to. Restore it, "
            "or bind the folder again with `gateway ledger adopt`."
        ) from err


def write_binding(root: Path, ledger_id: str, ledger_url: str) -> None:
    """Bind ``root`` to this ledger, atomically and durably."""
    data = {"ledger_id": ledger_id, "ledger_url": ledger_url, "bound_at": utc_now().isoformat()}
    path = root / MARKER_NAME
    temporary = root / f"{MARKER_NAME}.tmp-{os.getpid()}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o640)
        try:
            os.write(fd, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
        directory = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as err:
        raise TransportError(f"cannot write {path}: {err.strerror or err}") from err


def past_work(root: Path, inbound: bool) -> int:
    """How many files (up to a small sample) show that ``root`` has already been worked in:
    for an inbound channel what sits in ``work/``, ``archive/`` and ``error/``; for an
    outbound folder the delivered files themselves (dot-files aside)."""
    found = 0
    tops = [root / "work", root / "archive", root / "error"] if inbound else [root]
    for top in tops:
        for _folder, subfolders, files in os.walk(top):
            if not inbound:
                subfolders.clear()  # an outbound folder's deliveries sit at its top
            found += sum(1 for name in files if not name.startswith("."))
            if found >= HISTORY_SAMPLE:
                return found
    return found
