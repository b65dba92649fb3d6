"""One scan cycle: every inbound channel taken in turn, its waiting files through their flow.

The cycle takes a channel (its lock file and its lease in the ledger, so that two
processes never take each other's claimed files for crash leftovers), resumes what a
crash left in ``work/`` (:meth:`Batches.reconcile`), claims what is ready and hands it
to :class:`gateway.batch.Batches` batch by batch, renewing the lease as it goes and
stopping after the current batch when asked to. This is the only module that knows
both the transports and the flows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import date

from gateway.batch import MAX_ATTEMPTS, Batches, CycleReport, InboundRoute
from gateway.clock import business_date
from gateway.errors import ClaimLost, LedgerError
from gateway.failpoints import failpoint
from gateway.flows import FLOWS, Flow
from gateway.ledger import Ledger
from gateway.ledger.operations import this_process
from gateway.limits import DEFAULT_LIMITS, Limits
from gateway.settings import Settings
from gateway.transports.base import Entry, OutboundTransport

log = logging.getLogger(__name__)

#: A channel lease lasts this long unless renewed (every batch); a node that dies on another
#: host holds its channels this long at most (on this host, a dead holder is noticed at once).
LEASE_SECONDS = 600.0


ProgressCallback = Callable[[str, int, int], None]


class Pipeline:
    """Wires settings, ledger and transports; holds no state between cycles
    except what the transports keep for readiness checks."""

    def __init__(
        self,
        settings: Settings,
        ledger: Ledger,
        inbound: Sequence[InboundRoute],
        outbound: Mapping[str, OutboundTransport],
        *,
        limits: Limits = DEFAULT_LIMITS,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.inbound = list(inbound)
        self.outbound = dict(outbound)
        self.limits = limits
        self.progress = progress
        self.node = this_process()  # how this process signs its channel leases
        self.stopping = threading.Event()  # set by the daemon: finish the current batch, then stop
        self.flows: dict[str, Flow] = {
            route.channel.id: FLOWS[route.channel.kind](route.client, route.channel, settings.factor, limits)
            for route in self.inbound
        }
        self.batches = Batches(settings, ledger, self.outbound, self.flows, limits)

    def business_date(self) -> date:
        return business_date(self.settings.timezone, self.settings.as_of)

    # -- the cycle ---------------------------------------------------------------

    def observe(self) -> float:
        """Take a first look at every inbox (every readiness rule waits until a file has been
        quiet for ``stable_seconds``, which takes two looks); returns how long to wait before a
        cycle can take the files seen now (0 when none is settling)."""
        wait = 0.0
        for route in self.inbound:
            route.transport.scan()
            wait = max(wait, route.transport.settling())
        return wait

    def run_cycle(self) -> CycleReport:
        """Scan every inbound channel once and take everything that is ready through."""
        self.ledger.verify()  # a ledger deleted or replaced since the last cycle stops everything
        report = CycleReport(self.business_date())
        for route in self.inbound:
            if self.stopping.is_set():
                break
            self.process_channel(route, report)
        return report

    def process_channel(
        self,
        route: InboundRoute,
        report: CycleReport,
        entries: Sequence[Entry] = (),
        *,
        wait_seconds: float = 0.0,
    ) -> None:
        """Take the channel (skipped when another process holds it), resume what a crash left
        in ``work/``, then claim and process what is ready (or exactly ``entries`` when given,
        e.g. by ``gateway ingest``, which waits up to ``wait_seconds`` for the channel)."""
        channel = route.channel.id
        if not route.transport.acquire(wait_seconds):
            log.info(
                "%s: another process works on this channel (%s); skipped", channel, route.transport.holder()
            )
            report.busy_channels.append(channel)
            return
        try:
            lease = f"channel:{channel}"
            holder = self.ledger.take_lease(lease, self.node, LEASE_SECONDS)
            if holder is not None:
                log.info("%s: another node works on this channel (%s); skipped", channel, holder.describe())
                report.busy_channels.append(channel)
                return
            try:
                self._process_held_channel(route, report, entries)
            finally:
                try:
                    self.ledger.drop_lease(lease, self.node)
                except LedgerError as err:  # it expires by itself; never hide the error under way
                    log.warning(
                        "%s: could not drop the channel lease (%s); it expires by itself", channel, err
                    )
        finally:
            route.transport.release()

    def _process_held_channel(
        self, route: InboundRoute, report: CycleReport, entries: Sequence[Entry]
    ) -> None:
        transport = route.transport
        recovered = transport.recover()
        self.batches.reconcile(route, recovered, report)
        waiting = list(entries) if entries else transport.scan()
        claimed: list[Entry] = []
        for entry in waiting:
            try:
                claimed.append(transport.claim(entry))
            except ClaimLost as lost:
                log.info("%s: %s not claimed this cycle: %s", route.channel.id, entry.name, lost)
        failpoint("after-claim")
        todo = recovered + claimed
        size = max(1, self.settings.schedules.batch_size)
        for start in range(0, len(todo), size):
            if start and self.stopping.is_set():
                # Claimed files not yet decided stay in work/: the next start resumes them.
                log.warning(
                    "%s: stopping; %d claimed file(s) wait in work/", route.channel.id, len(todo) - start
                )
                break
            if start:  # long channels renew their lease batch by batch
                self.ledger.take_lease(f"channel:{route.channel.id}", self.node, LEASE_SECONDS)
            self.batches.process(route, todo[start : start + size], report)
            self._progress("files", min(start + size, len(todo)), len(todo))

    def _progress(self, what: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(what, done, total)


__all__ = ["MAX_ATTEMPTS", "CycleReport", "InboundRoute", "Pipeline", "ProgressCallback"]
