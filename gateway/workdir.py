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
from collections.abc import Callable, Iterator
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


@dataclass
class LedgerFacts:
    """What the folder review needs to know of a ledger: its identity and URL, and (asked at most
    once, only when a folder makes it matter) whether it is empty. ``identity`` ``None``: there
    is no ledger yet, and the first run creates an empty one."""

    identity: str | None
    url: str
    is_empty: Callable[[], bool]
    _empty: bool | None = None

    @classmethod
    def of(cls, ledger: Ledger) -> LedgerFacts:
        return cls(ledger.identity(), ledger.url, ledger.is_empty)

    @classmethod
    def not_created(cls, url: str) -> LedgerFacts:
        return cls(None, url, lambda: True)

    def empty(self) -> bool:
        if self._empty is None:
            self._empty = self.is_empty()
        return self._empty

    def describe(self) -> str:
        if self.identity is None:
            return f"the new ledger the first run would create at {self.url}"
        return f"{self.identity} ({self.url}{', which is empty: a new ledger' if self.empty() else ''})"


@dataclass(frozen=True, slots=True)
class FolderReview:
    """What :func:`check_folders` decides about one folder, before it changes anything."""

    folder: Folder
    bound_to: str | None  # the ledger id its marker names; None: never bound
    problem: str | None  # why the gateway would refuse to work with it ("belongs to…"); None: it may

    @property
    def to_bind(self) -> bool:
        return self.problem is None and self.bound_to is None


def review_folder(folder: Folder, ledger: LedgerFacts) -> FolderReview:
    """Whether ``folder`` belongs to ``ledger``, changing nothing (``gateway doctor`` asks too).
    Raises :class:`~gateway.errors.TransportError` when its marker cannot be read."""
    binding = read_binding(folder.root)
    if binding is not None:
        if binding.ledger_id == ledger.identity:
            return FolderReview(folder, binding.ledger_id, None)
        return FolderReview(
            folder,
            binding.ledger_id,
            f"belongs to the ledger {binding.ledger_id} "
            f"({binding.ledger_url}, bound {binding.bound_at}), not to {ledger.describe()}",
        )
    files = past_work(folder.root, folder.inbound)
    if files and ledger.empty():
        many = "or more " if files >= 50 else ""
        none = f"there is no ledger at {ledger.url} yet" if ledger.identity is None else ""
        return FolderReview(
            folder,
            None,
            f"holds {files} {many}processed or delivered file(s), "
            f"but {none or f'the ledger {ledger.url} is empty'}: it is not the ledger that processed them",
        )
    return FolderReview(folder, None, None)


def check_folders(settings: Settings, ledger: Ledger) -> None:
    """Bind new folders to ``ledger``; raise :class:`LedgerReplaced` listing every folder that
    belongs to another ledger, or that holds past work beside an empty ledger."""
    facts = LedgerFacts.of(ledger)
    reviews = [review_folder(folder, facts) for folder in channel_folders(settings)]
    problems = [
        f"{review.folder.root} ({review.folder.label}) {review.problem}"
        for review in reviews
        if review.problem is not None
    ]
    if problems:
        raise LedgerReplaced(
            "The working folders do not belong to this ledger; nothing was processed.\n  "
            + "\n  ".join(problems)
            + "\n"
            + ADOPT_HINT
        )
    for review in reviews:
        if review.to_bind:
            write_binding(review.folder.root, ledger.identity(), ledger.url)


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
