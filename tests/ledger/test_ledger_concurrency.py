"""Two workers, each with its own Ledger (own engine and connections, as two processes
would have), assigning for the same client at the same time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date

from conftest import Databases
from ledger_support import document

from gateway.ledger import BusinessKey, DuplicateAssignment, EnvelopeState, Ledger

WORKERS = 2
UNITS_PER_WORKER = 12


def _run_workers(target: Callable[[int], None]) -> None:
    errors: list[BaseException] = []

    def guarded(worker: int) -> None:
        try:
            target(worker)
        except BaseException as err:  # surfaced below, with the worker's traceback
            errors.append(err)

    threads = [threading.Thread(target=guarded, args=(w,)) for w in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    if errors:
        raise errors[0]


def test_concurrent_workers_get_distinct_consecutive_numbers(ledger: Ledger, databases: Databases) -> None:
    numbers: list[list[int]] = [[] for _ in range(WORKERS)]
    start = threading.Barrier(WORKERS)

    def work(worker: int) -> None:
        own = Ledger.open(databases.url)
        try:
            start.wait(timeout=30)
            for unit in range(UNITS_PER_WORKER):
                (envelope,) = own.register_envelopes(
                    "C1", "inbox", [(f"w{worker}-{unit}", f"w{worker}-{unit}.csv")]
                )
                with own.assignment() as assignment:
                    key = BusinessKey("123456789", f"W{worker}U{unit}", date(2025, 3, 1))
                    assert assignment.assigned_keys({key}) == set()
                    number = assignment.next_remittance_number("C1")
                    time.sleep(0.002)  # hold the lock a little: the other worker must wait, not skip
                    assignment.record_outcome(
                        envelope.id,
                        state=EnvelopeState.ASSIGNED,
                        format="csv",
                        content_sha256=None,
                        business_date=date(2025, 3, 10),
                        file_issues=(),
                        documents=[document(1, f"W{worker}-U{unit}")],
                        remittance_number=number,
                    )
                numbers[worker].append(number)
        finally:
            own.close()

    _run_workers(work)
    every = sorted(n for per_worker in numbers for n in per_worker)
    assert every == list(range(1, WORKERS * UNITS_PER_WORKER + 1))
    assert all(per_worker == sorted(per_worker) for per_worker in numbers)
    remittances = ledger.status().remittances
    assert [(r.client_id, r.count, r.last_number) for r in remittances] == [("C1", 24, 24)]


def test_the_same_receivable_raced_by_two_workers_is_assigned_once(
    ledger: Ledger, databases: Databases
) -> None:
    key = BusinessKey("123456789", "F1", date(2025, 3, 1))
    envelopes = ledger.register_envelopes("C1", "inbox", [("a", "a.csv"), ("b", "b.csv")])
    outcomes: list[str] = [""] * WORKERS
    # On PostgreSQL both workers read "not assigned" before either writes; on SQLite the
    # second cannot even begin before the first commits (BEGIN IMMEDIATE), so no barrier.
    both_looked = threading.Barrier(WORKERS) if databases.backend == "postgresql" else None

    def work(worker: int) -> None:
        own = Ledger.open(databases.url)
        try:
            with own.assignment() as assignment:
                seen = key in assignment.assigned_keys({key})
                if both_looked is not None:
                    both_looked.wait(timeout=30)
                if seen:
                    outcomes[worker] = "seen"
                    return
                assignment.record_outcome(
                    envelopes[worker].id,
                    state=EnvelopeState.ASSIGNED,
                    format="csv",
                    content_sha256=None,
                    business_date=date(2025, 3, 10),
                    file_issues=(),
                    documents=[document(1, "F-1")],
                    remittance_number=assignment.next_remittance_number("C1"),
                )
            outcomes[worker] = "assigned"
        except DuplicateAssignment:
            outcomes[worker] = "refused"
        finally:
            own.close()

    _run_workers(work)
    assert sorted(outcomes) == (["assigned", "refused"] if both_looked else ["assigned", "seen"])
    assert [d.accepted for d in ledger.status().documents] == [1]
    with ledger.assignment() as assignment:
        assert assignment.next_remittance_number("C1") == 2  # the refused unit burned no number
