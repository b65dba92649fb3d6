"""The daemon's clock: APScheduler 3.x runs the scan cycle; inbox events bring it forward.

The periodic scan is the truth (file-system events get lost on network shares
and when queues overflow); a watcher thread per inbound channel only asks for
the next scan to happen now. One scheduler per process, in-memory job store
rebuilt from the configuration at start: APScheduler 3.x cannot share a job
store between processes, and every job is safe to run again anyway.
Defaults that bite in 3.x are set explicitly: the time zone (not the host's),
``coalesce``, ``max_instances=1`` and a generous ``misfire_grace_time``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime
from types import FrameType
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler

from gateway.errors import LedgerReplaced
from gateway.pipeline import CycleReport, InboundRoute, Pipeline
from gateway.settings import Settings

log = logging.getLogger(__name__)

SCAN_JOB = "scan"


class ScanScheduler:
    """Runs ``pipeline.run_cycle`` every ``scan_interval_seconds``, whenever an inbox stirs, and when
    a file the last scan saw settling may have become ready."""

    def __init__(
        self, pipeline: Pipeline, settings: Settings, on_report: Callable[[CycleReport], None]
    ) -> None:
        self._pipeline = pipeline
        self._on_report = on_report
        self._interval = settings.schedules.scan_interval_seconds
        self._zone = ZoneInfo(settings.timezone)
        self._stopping = threading.Event()
        self.fatal: LedgerReplaced | None = None  # why the daemon stopped by itself
        self._again = threading.Event()
        self._idle = threading.Event()  # set while no cycle runs
        self._idle.set()
        self._scheduler = BlockingScheduler(
            timezone=self._zone,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": max(60, int(self._interval * 10)),
            },
        )
        self._scheduler.add_listener(self._on_trouble, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
        self._scheduler.add_job(
            self._cycle,
            "interval",
            seconds=self._interval,
            id=SCAN_JOB,
            next_run_time=datetime.now(self._zone),
        )

    def run(self) -> None:
        """Block until SIGTERM or SIGINT (the cycle under way finishes its batch first), or until
        the ledger turns out deleted or replaced: then raise :class:`LedgerReplaced`."""
        for route in self._pipeline.inbound:
            threading.Thread(
                target=self._watch, args=(route,), name=f"watch-{route.channel.id}", daemon=True
            ).start()
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            log.info(
                "gateway started: watching %d inbound channel(s), a scan every %g s; SIGTERM or Ctrl-C "
                "stops it after the current batch",
                len(self._pipeline.inbound),
                self._interval,
            )
            self._scheduler.start()  # blocks until shutdown (BlockingScheduler)
            # shutdown(wait=False) returns at once: the cycle under way still holds channels and
            # the ledger, which the caller closes as soon as we return. Wait for it to end (it
            # stops after its current batch); signals stay ours meanwhile, a second one only
            # repeats the request.
            self._idle.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if self.fatal is not None:
            raise self.fatal

    def wake(self) -> None:
        """Ask for a cycle now (or right after the one under way)."""
        self._again.set()
        if self._scheduler.running and not self._stopping.is_set():
            with contextlib.suppress(SchedulerNotRunningError, JobLookupError):  # stopping meanwhile
                self._scheduler.modify_job(SCAN_JOB, next_run_time=datetime.now(self._zone))

    def _cycle(self) -> None:
        self._idle.clear()
        try:
            self._cycles()
        finally:
            self._idle.set()

    def _cycles(self) -> None:
        while not self._stopping.is_set():
            self._again.clear()
            try:
                report = self._pipeline.run_cycle()
            except LedgerReplaced as err:
                # Not a passing fault: every further cycle would assign into the wrong ledger.
                log.critical("stopping: %s", err)
                self.fatal = err
                self._request_stop()
                return
            self._on_report(report)
            if not self._again.is_set():
                return

    def _watch(self, route: InboundRoute) -> None:
        # Every readiness rule waits until a file has been unchanged for stable_seconds, so a file
        # seen arriving, or seen settling by the last scan, may be ready well before the next
        # periodic cycle: look again then (the cycle the arrival wakes may not have scanned yet
        # when the settling time is read, hence both).
        arrived_wait = route.channel.transport.stable_seconds + 0.1
        look_again = math.inf
        while not self._stopping.is_set():
            settling = route.transport.settling() or math.inf
            timeout = min(self._interval, settling, look_again)
            started = time.monotonic()
            route.transport.wait(timeout)
            # An early return means the watcher saw a file arrive; a full wait is just the timeout.
            early = time.monotonic() - started < timeout * 0.95
            look_again = arrived_wait if early else math.inf
            if (early or timeout < self._interval) and not self._stopping.is_set():
                self.wake()

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        log.warning("received %s: finishing the current batch, then stopping", signal.Signals(signum).name)
        self._request_stop()

    def _request_stop(self) -> None:
        self._stopping.set()
        self._pipeline.stopping.set()  # the cycle under way stops after its current batch
        with contextlib.suppress(SchedulerNotRunningError):
            self._scheduler.shutdown(wait=False)

    def _on_trouble(self, event: JobExecutionEvent) -> None:
        if event.exception is not None:
            log.error("scan cycle failed: %s (the files stay in work/ and are retried)", event.exception)
        else:
            log.warning("a scan cycle was missed (the machine was busy or asleep); the next one catches up")
