"""The :class:`Ledger`: the gateway's only door to its database.

Every method is one transaction. Writes that must not be lost (registering
arrivals, recording deliveries) are committed before the method returns, so
the caller may move files on disk right after. See :mod:`gateway.ledger.work`
for the assignment unit of work.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from alembic.util import CommandError
from sqlalchemy import Connection, Engine, exc, select, update

from gateway.clock import utc_now
from gateway.errors import LedgerError, LedgerReplaced
from gateway.ledger import history, operations, readback
from gateway.ledger.engine import (
    create_ledger_engine,
    describe_error,
    describe_url,
    head_revision,
    insert_or_skip,
    migrate,
    read_transaction,
    schema_revision,
    translated_errors,
    write_transaction,
)
from gateway.ledger.prediction import PredictionWork
from gateway.ledger.readback import EnvelopeOutputs
from gateway.ledger.records import DeliveryRecord, EnvelopeRecord, EnvelopeState, StoredRemittance
from gateway.ledger.schema import deliveries, envelopes
from gateway.ledger.sqlite_guard import SqliteFileGuard
from gateway.ledger.status import StatusReport
from gateway.ledger.work import AssignmentWork, chunks
from gateway.model import Acknowledgement

#: States from which an envelope may still be marked failed (never over a decision).
UNDECIDED_STATES = tuple(
    s.value
    for s in (EnvelopeState.RECEIVED, EnvelopeState.PARSED, EnvelopeState.VALIDATED, EnvelopeState.FAILED)
)


class Ledger:
    """Open with :meth:`Ledger.open`; close with :meth:`close`."""

    def __init__(self, engine: Engine, guard: SqliteFileGuard | None = None) -> None:
        self._engine = engine
        self._guard = guard
        self._sentinel: Any = None
        self._identity: str | None = None

    @classmethod
    def open(cls, url: str, *, exclusive: bool = False) -> Ledger:
        """Connect and migrate to the newest schema, so a new SQLite file or an empty
        PostgreSQL database is ready to use.

        ``exclusive`` (processes that do work: ``run``, ``ingest``, ``demo``): on SQLite,
        refuse with :class:`~gateway.errors.LedgerBusy` when another process works on the
        same file. Either way a SQLite ledger is watched from then on, so that
        :meth:`verify` notices it being deleted or replaced.
        """
        engine = create_ledger_engine(url)
        where = describe_url(engine.url)
        guard = None
        try:
            if engine.dialect.name == "sqlite" and engine.url.database:
                guard = SqliteFileGuard(Path(engine.url.database))
                if exclusive:
                    guard.lock()
            migrate(engine)
        except exc.SQLAlchemyError as err:
            _abandon(engine, guard)
            raise LedgerError(f"cannot open the ledger {where}: {describe_error(err)}") from err
        except (CommandError, OSError) as err:
            _abandon(engine, guard)
            raise LedgerError(f"cannot migrate the ledger {where}: {err}") from err
        except LedgerError:
            _abandon(engine, guard)
            raise
        ledger = cls(engine, guard)
        try:
            ledger.identity()
            if guard is not None:
                # A connection kept open for the ledger's life: SQLite then never removes the
                # write-ahead log itself, so a log that changes was changed by someone else.
                ledger._sentinel = engine.raw_connection()
                guard.watch()
        except (LedgerError, exc.SQLAlchemyError) as err:
            ledger.close()
            raise LedgerError(f"cannot open the ledger {where}: {err}") from err
        return ledger

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return describe_url(self._engine.url)

    def close(self) -> None:
        if self._sentinel is not None:
            self._sentinel.close()
            self._sentinel = None
        self._engine.dispose()
        if self._guard is not None:
            self._guard.release()

    # -- identity, leases, events ---------------------------------------------------

    def identity(self) -> str:
        """The ledger's id, given when it was created; read once, then remembered."""
        if self._identity is None:
            with translated_errors("read the ledger identity"), read_transaction(self._engine) as conn:
                self._identity = operations.read_identity(conn)
        return self._identity

    def verify(self) -> None:
        """Raise :class:`~gateway.errors.LedgerReplaced` if this is no longer the ledger that
        was opened (file deleted or replaced, database recreated). Cheap: called every cycle
        and before every delivery."""
        if self._guard is not None:
            self._guard.check()
        try:
            with read_transaction(self._engine) as conn:
                found = operations.read_identity(conn)
        except (exc.ProgrammingError, LedgerError) as err:
            # The tables or the identity row are gone: a recreated database, not a passing fault.
            detail = describe_error(err) if isinstance(err, exc.SQLAlchemyError) else str(err)
            raise LedgerReplaced(
                f"the ledger {self.url} no longer holds the ledger this process opened ({detail}); stopping."
            ) from err
        except exc.SQLAlchemyError as err:  # unreachable for now: retried at the next cycle
            raise LedgerError(f"check the ledger identity: {describe_error(err)}") from err
        if found != self.identity():
            raise LedgerReplaced(
                f"the ledger {self.url} was replaced while the gateway was running (its identity was "
                f"{self.identity()}, it is now {found}). Nothing more is processed: going on would number "
                "remittances again and assign known invoices a second time."
            )

    def is_empty(self) -> bool:
        """No file was ever received into this ledger."""
        with translated_errors("look into the ledger"), read_transaction(self._engine) as conn:
            return not operations.has_envelopes(conn)

    def take_lease(self, name: str, holder: str, ttl_seconds: float) -> operations.LeaseHolder | None:
        """Take or renew a lease; ``None`` when it is ours now, else who holds it."""
        with translated_errors(f"take the lease {name}"), write_transaction(self._engine) as conn:
            return operations.take_lease(conn, name, holder, ttl_seconds)

    def drop_lease(self, name: str, holder: str) -> None:
        with translated_errors(f"drop the lease {name}"), write_transaction(self._engine) as conn:
            operations.drop_lease(conn, name, holder)

    def record_event(self, kind: str, actor: str, detail: dict[str, object]) -> None:
        with translated_errors(f"record the event {kind}"), write_transaction(self._engine) as conn:
            operations.add_event(conn, kind, actor, detail)

    def events(self, limit: int = 50) -> list[operations.LedgerEvent]:
        with translated_errors("read the ledger events"), read_transaction(self._engine) as conn:
            return operations.list_events(conn, limit)

    # -- envelopes --------------------------------------------------------------

    def register_envelopes(
        self, client_id: str, channel: str, arrivals: Sequence[tuple[str, str]]
    ) -> list[EnvelopeRecord]:
        """arrivals = (transport_key, source_name). One transaction. Existing
        (channel, transport_key) rows are returned as they are (that is how a restart
        resumes); new ones are inserted in state RECEIVED. Same order as arrivals."""
        if not arrivals:
            return []
        now = utc_now()
        first_names: dict[str, str] = {}  # a key given twice keeps its first name
        for key, name in arrivals:
            first_names.setdefault(key, name)
        found: dict[str, EnvelopeRecord] = {}
        with translated_errors("register envelopes"), write_transaction(self._engine) as conn:
            self._read_registered(conn, channel, list(first_names), found)
            # Only keys not yet known are inserted: on PostgreSQL even a skipped conflicting insert
            # uses up a sequence value, and a resumed run must give the ids an uninterrupted one gives.
            new_keys = [key for key in first_names if key not in found]
            rows = [
                {
                    "client_id": client_id, "channel": channel, "transport_key": key, "source_name": name,
                    "state": EnvelopeState.RECEIVED.value, "issues": (), "received_at": now,
                    "updated_at": now, "attempts": 0,
                }
                for key, name in ((k, first_names[k]) for k in new_keys)
            ]  # fmt: skip
            if rows:
                stmt = insert_or_skip(conn.dialect.name, envelopes).on_conflict_do_nothing(
                    index_elements=[envelopes.c.channel, envelopes.c.transport_key]
                )  # a conflict now is another node registering the same file at the same moment
                conn.execute(stmt, rows)
                self._read_registered(conn, channel, new_keys, found)
        return [found[key] for key, _ in arrivals]

    @staticmethod
    def _read_registered(
        conn: Connection, channel: str, keys: Sequence[str], found: dict[str, EnvelopeRecord]
    ) -> None:
        for part in chunks(list(keys)):
            query = select(envelopes).where(
                envelopes.c.channel == channel, envelopes.c.transport_key.in_(part)
            )
            for row in conn.execute(query):
                record = readback.envelope_record(row)
                found[record.transport_key] = record

    def envelope(self, envelope_id: int) -> EnvelopeRecord:
        return self.envelopes([envelope_id])[envelope_id]

    def envelopes(self, envelope_ids: Sequence[int]) -> dict[int, EnvelopeRecord]:
        """Many envelopes in one read (a batch is re-read after each step)."""
        with translated_errors("read envelopes"), read_transaction(self._engine) as conn:
            return readback.load_envelope_records(conn, envelope_ids)

    def mark_failed(self, envelope_id: int, code: str, message: str) -> None:
        """State FAILED, one more attempt; the reason is kept for the status and the error area."""
        with (
            translated_errors(f"mark envelope {envelope_id} failed"),
            write_transaction(self._engine) as conn,
        ):
            result = conn.execute(
                update(envelopes)
                .where(
                    envelopes.c.id == envelope_id,
                    envelopes.c.state.in_(UNDECIDED_STATES),
                    envelopes.c.finalized_at.is_(None),
                )
                .values(
                    state=EnvelopeState.FAILED.value,
                    attempts=envelopes.c.attempts + 1,
                    outcome_code=code,
                    outcome_message=message,
                    updated_at=utc_now(),
                )
            )
            if result.rowcount != 1:
                found = conn.execute(
                    select(envelopes.c.state, envelopes.c.finalized_at).where(envelopes.c.id == envelope_id)
                ).first()
                if found is None:
                    raise LedgerError(f"no envelope {envelope_id} in the ledger")
                # Never overwrite a decision: a decided envelope that "failed" means two
                # processes disagree about it, which must stop the caller, not rewrite history.
                raise LedgerError(
                    f"envelope {envelope_id} is already {found.state}"
                    f"{' and finalised' if found.finalized_at else ''}; it is not marked failed"
                )

    def mark_delivered(self, envelope_ids: Sequence[int], deliveries_made: Sequence[DeliveryRecord]) -> None:
        """One transaction: record the files written, set delivered_at, and move
        ASSIGNED envelopes to ACKNOWLEDGED (REJECTED stays REJECTED).

        Recording the same delivery twice (a re-render after a crash gives the same
        bytes) is harmless; the same name with another hash is refused.
        """
        now = utc_now()
        with translated_errors("mark envelopes delivered"), write_transaction(self._engine) as conn:
            if deliveries_made:
                rows = [
                    {
                        "envelope_id": d.envelope_id,
                        "channel": d.channel,
                        "name": d.name,
                        "sha256": d.sha256,
                        "size": d.size,
                        "delivered_at": now,
                    }
                    for d in deliveries_made
                ]
                stmt = insert_or_skip(conn.dialect.name, deliveries).on_conflict_do_nothing(
                    index_elements=[deliveries.c.channel, deliveries.c.name]
                )
                conn.execute(stmt, rows)
                self._check_deliveries(conn, deliveries_made)
            for part in chunks(list(envelope_ids)):
                conn.execute(
                    update(envelopes)
                    .where(envelopes.c.id.in_(part), envelopes.c.delivered_at.is_(None))
                    .values(delivered_at=now, updated_at=now)
                )
                conn.execute(
                    update(envelopes)
                    .where(envelopes.c.id.in_(part), envelopes.c.state == EnvelopeState.ASSIGNED.value)
                    .values(state=EnvelopeState.ACKNOWLEDGED.value, updated_at=now)
                )

    @staticmethod
    def _check_deliveries(conn: Connection, made: Sequence[DeliveryRecord]) -> None:
        by_channel: dict[str, dict[str, DeliveryRecord]] = {}
        for d in made:
            by_channel.setdefault(d.channel, {})[d.name] = d
        for channel, named in by_channel.items():
            for part in chunks(list(named)):
                query = select(deliveries.c.name, deliveries.c.sha256, deliveries.c.envelope_id).where(
                    deliveries.c.channel == channel, deliveries.c.name.in_(part)
                )
                for name, sha256, envelope_id in conn.execute(query):
                    wanted = named[name]
                    if (sha256, envelope_id) != (wanted.sha256, wanted.envelope_id):
                        raise LedgerError(
                            f"{channel}/{name} was already delivered for envelope {envelope_id} "
                            f"with different content (sha256 {sha256})"
                        )

    def mark_finalized(self, envelope_ids: Sequence[int]) -> None:
        """The source file has left ``work/`` (archived or moved to the error area)."""
        now = utc_now()
        with translated_errors("mark envelopes finalized"), write_transaction(self._engine) as conn:
            for part in chunks(list(envelope_ids)):
                conn.execute(
                    update(envelopes)
                    .where(envelopes.c.id.in_(part), envelopes.c.finalized_at.is_(None))
                    .values(finalized_at=now, updated_at=now)
                )

    def unfinished_envelopes(self, channel: str) -> list[EnvelopeRecord]:
        """Envelopes of this channel whose file was not finalized, oldest first."""
        with (
            translated_errors(f"list unfinished envelopes of {channel}"),
            read_transaction(self._engine) as conn,
        ):
            return readback.load_unfinished(conn, channel)

    # -- the assignment unit of work ----------------------------------------------

    @contextmanager
    def assignment(self) -> Iterator[AssignmentWork]:
        """One write transaction (SQLite BEGIN IMMEDIATE; PostgreSQL: rows locked FOR
        UPDATE as they are touched). Commits on normal exit, rolls back on exception."""
        with translated_errors("assignment"), write_transaction(self._engine) as conn:
            work = AssignmentWork(conn)
            try:
                yield work
                if work.failure is None:
                    work.finish()
            finally:
                work.close()
            if work.failure is not None:  # the caller swallowed the error: never commit half a unit
                raise LedgerError(f"assignment rolled back: a step failed ({work.failure})")

    @contextmanager
    def prediction(self) -> Iterator[PredictionWork]:
        """A read-only snapshot on which the decision of ``run`` is predicted (``validate``)."""
        with translated_errors("predict the decision"), read_transaction(self._engine) as conn:
            yield PredictionWork(conn)

    @classmethod
    def open_for_reading(cls, url: str) -> Ledger | None:
        """The ledger as it is, never created nor migrated (``validate``, ``status``): ``None``
        when a SQLite ledger does not exist yet; an error when it is behind this version."""
        engine = create_ledger_engine(url, create_folder=False)
        if engine.dialect.name == "sqlite" and not Path(engine.url.database or "").exists():
            engine.dispose()
            return None
        try:
            current = schema_revision(engine)
        except exc.SQLAlchemyError as err:
            engine.dispose()
            raise LedgerError(
                f"cannot read the ledger {describe_url(engine.url)}: {describe_error(err)}"
            ) from err
        if current != head_revision():
            engine.dispose()
            raise LedgerError(
                f"the ledger {describe_url(engine.url)} is at schema revision {current or 'none'}, not "
                f"{head_revision()}: run the gateway once (gateway run --once) to upgrade it first"
            )
        return cls(engine)

    # -- reading back ---------------------------------------------------------------

    def remittance(self, envelope_id: int) -> StoredRemittance | None:
        """The remittance of this envelope, lines by line number, or None if nothing was assigned."""
        with (
            translated_errors(f"read the remittance of envelope {envelope_id}"),
            read_transaction(self._engine) as conn,
        ):
            if not readback.has_remittance(conn, envelope_id):
                return None  # also when no outcome is recorded yet
            return readback.load_outputs(conn, [envelope_id])[envelope_id].remittance

    def acknowledgement(self, envelope_id: int) -> Acknowledgement:
        """Every document of this envelope with its verdict, in file order."""
        return self.outputs([envelope_id])[envelope_id].acknowledgement

    def outputs(self, envelope_ids: Sequence[int]) -> dict[int, EnvelopeOutputs]:
        """Remittance and acknowledgement of many envelopes, read in one transaction."""
        with (
            translated_errors("read remittances and acknowledgements"),
            read_transaction(self._engine) as conn,
        ):
            return readback.load_outputs(conn, envelope_ids)

    def find_envelopes(self, name: str) -> list[int]:
        """Envelopes of a file by the name it was sent or kept under, oldest first."""
        with translated_errors(f"find the envelopes of {name}"), read_transaction(self._engine) as conn:
            return history.find_envelopes(conn, name)

    def find_envelopes_with_content(self, content_sha256: str) -> list[int]:
        """Envelopes whose file had exactly these bytes, oldest first."""
        with translated_errors("find envelopes by content"), read_transaction(self._engine) as conn:
            return history.find_envelopes_with_content(conn, content_sha256)

    def history(self, envelope_id: int) -> history.EnvelopeHistory | None:
        """What happened to one envelope (``gateway show``); ``None`` if there is no such envelope."""
        with translated_errors(f"read envelope {envelope_id}"), read_transaction(self._engine) as conn:
            return history.read_history(conn, envelope_id)

    def allow_replay(self, envelope_id: int, reason: str, actor: str) -> EnvelopeRecord:
        """Let the bytes of a finished envelope be taken again (see :mod:`gateway.ledger.history`)."""
        with (
            translated_errors(f"allow envelope {envelope_id} to be replayed"),
            write_transaction(self._engine) as conn,
        ):
            return history.allow_replay(conn, envelope_id, reason, actor)

    def status(self) -> StatusReport:
        with translated_errors("read the ledger status"), read_transaction(self._engine) as conn:
            return readback.load_status(conn)

    def approval_states(self, client_id: str) -> dict[str, tuple[Decimal, str, Decimal]]:
        """debtor_id -> (limit, currency, outstanding), without locking."""
        with translated_errors(f"read approvals of {client_id}"), read_transaction(self._engine) as conn:
            rows = readback.load_approval_states(conn, client_id)
        return {str(r[1]): (r[2], str(r[3]), r[4]) for r in rows}  # type: ignore[misc]


def _abandon(engine: Engine, guard: SqliteFileGuard | None) -> None:
    engine.dispose()
    if guard is not None:
        guard.release()
