"""Refuse to work when the ledger and the working folders do not belong together.

The sequence a hostile test found: the ledger is deleted (or another one is
configured), the gateway starts on an empty ledger, numbers remittances from 1
again and assigns known invoices a second time; once the back office has
collected the first ``REM_acme_000001.csv``, a different one is delivered
under the same name. So before any work:

* a folder bound to another ledger (its marker names another identity) stops
  the gateway;
* a folder that holds processed files but was never bound stops it too when
  the ledger is empty (a new ledger beside old work); beside a ledger that has
  data it is simply bound (a workdir from before markers existed);
* ``gateway ledger adopt --reason …`` is the operator's explicit way out: it
  binds every folder to the ledger in use and records the decision in it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import LedgerReplaced
from gateway.ledger import Ledger
from gateway.settings import Settings
from gateway.transports.ledger_binding import past_work, read_binding, write_binding

log = logging.getLogger(__name__)

ADOPT_HINT = (
    "If this ledger is the right one (a restored backup, a move to PostgreSQL), say so with "
    '`gateway ledger adopt --reason "…"`: the decision is recorded in the ledger and every folder is '
    "bound to it. Otherwise point the configuration at the ledger these folders belong to."
)


@dataclass(frozen=True, slots=True)
class Folder:
    root: Path
    inbound: bool
    label: str


def channel_folders(settings: Settings) -> Iterator[Folder]:
    """Every folder the gateway works in, once each."""
    seen: set[Path] = set()
    folders = [
        Folder(channel.transport.root, True, f"inbound channel {channel.id}")
        for client in settings.clients
        for channel in client.inbound
    ]
    folders.append(Folder(settings.factor.remittances.transport.root, False, "the factor's remittances"))
    folders += [
        Folder(c.acknowledgements.transport.root, False, f"acknowledgements of {c.id}")
        for c in settings.clients
    ]
    for folder in folders:
        if folder.root not in seen:
            seen.add(folder.root)
            yield folder


def check_folders(settings: Settings, ledger: Ledger) -> None:
    """Bind new folders to ``ledger``; raise :class:`LedgerReplaced` listing every folder that
    belongs to another ledger, or that holds past work beside an empty ledger."""
    identity = ledger.identity()
    empty: bool | None = None
    problems: list[str] = []
    to_bind: list[Path] = []
    for folder in channel_folders(settings):
        binding = read_binding(folder.root)
        if binding is not None:
            if binding.ledger_id != identity:
                if empty is None:
                    empty = ledger.is_empty()
                problems.append(
                    f"{folder.root} ({folder.label}) belongs to the ledger {binding.ledger_id} "
                    f"({binding.ledger_url}, bound {binding.bound_at}), not to {identity} ({ledger.url}"
                    f"{', which is empty: a new ledger' if empty else ''})"
                )
            continue
        files = past_work(folder.root, folder.inbound)
        if files:
            if empty is None:
                empty = ledger.is_empty()
            if empty:
                many = "or more " if files >= 50 else ""
                problems.append(
                    f"{folder.root} ({folder.label}) holds {files} {many}processed or delivered file(s), "
                    f"but the ledger {ledger.url} is empty: it is not the ledger that processed them"
                )
                continue
        to_bind.append(folder.root)
    if problems:
        raise LedgerReplaced(
            "The working folders do not belong to this ledger; nothing was processed.\n  "
            + "\n  ".join(problems)
            + "\n"
            + ADOPT_HINT
        )
    for root in to_bind:
        write_binding(root, identity, ledger.url)


def adopt(settings: Settings, ledger: Ledger, reason: str, actor: str) -> list[tuple[Path, str | None]]:
    """Bind every folder to ``ledger`` on an operator's word; record it. Returns each folder
    with the ledger it belonged to before (``None``: never bound)."""
    identity = ledger.identity()
    changes: list[tuple[Path, str | None]] = []
    for folder in channel_folders(settings):
        binding = read_binding(folder.root)
        previous = binding.ledger_id if binding else None
        if previous != identity:
            changes.append((folder.root, previous))
    ledger.record_event(
        "ledger-adopted",
        actor,
        {
            "reason": reason,
            "ledger_id": identity,
            "folders": [{"root": str(root), "previous_ledger_id": prev} for root, prev in changes],
        },
    )
    for root, previous in changes:
        write_binding(root, identity, ledger.url)
        log.warning("%s is now bound to the ledger %s (was %s)", root, identity, previous or "unbound")
    return changes
