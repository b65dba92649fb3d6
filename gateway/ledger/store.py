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

from alembic.util import CommandError
from sqlalchemy import Connection, Engine, exc, select, update

from gateway.clock import utc_now
from gateway.errors import LedgerError
from gateway.ledger import readback
from gateway.ledger.engine import (
    create_ledger_engine,
    describe_error,
    describe_url,
    insert_or_skip,
    migrate,
    read_transaction,
    translated_errors,
    write_transaction,
)
from gateway.ledger.readback import EnvelopeOutputs
from gateway.ledger.records import DeliveryRecord, EnvelopeRecord, EnvelopeState
from gateway.ledger.schema import deliveries, envelopes
from gateway.ledger.status import StatusReport
from gateway.ledger.work import AssignmentWork, chunks
from gateway.model import Acknowledgement, Remittance


class Ledger:
    """Open with :meth:`Ledger.open`; close with :meth:`close`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @classmethod
    def open(cls, url: str) -> Ledger:
        """Connect and migrate to the newest schema, so a new SQLite file or an empty
        PostgreSQL database is ready to use."""
        engine = create_ledger_engine(url)
        where = describe_url(engine.url)
        try:
            migrate(engine)
        except exc.SQLAlchemyError as err:
            engine.dispose()
            raise LedgerError(f"cannot open the ledger {where}: {describe_error(err)}") from err
        except (CommandError, OSError) as err:
            engine.dispose()
            raise LedgerError(f"cannot migrate the ledger {where}: {err}") from err
        return cls(engine)

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return describe_url(self._engine.url)

    def close(self) -> None:
        self._engine.dispose()

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
        rows = [
            {
                "client_id": client_id,
                "channel": channel,
                "transport_key": key,
                "source_name": name,
                "state": EnvelopeState.RECEIVED.value,
                "issues": (),
                "received_at": now,
                "updated_at": now,
                "attempts": 0,
            }
            for key, name in first_names.items()
        ]
        found: dict[str, EnvelopeRecord] = {}
        with translated_errors("register envelopes"), write_transaction(self._engine) as conn:
            stmt = insert_or_skip(conn.dialect.name, envelopes).on_conflict_do_nothing(
                index_elements=[envelopes.c.channel, envelopes.c.transport_key]
            )
            conn.execute(stmt, rows)
            for part in chunks(list(first_names)):
                query = select(envelopes).where(
                    envelopes.c.channel == channel, envelopes.c.transport_key.in_(part)
                )
                for row in conn.execute(query):
                    record = readback.envelope_record(row)
                    found[record.transport_key] = record
        return [found[key] for key, _ in arrivals]

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
                .where(envelopes.c.id == envelope_id)
                .values(
                    state=EnvelopeState.FAILED.value,
                    attempts=envelopes.c.attempts + 1,
                    outcome_code=code,
                    outcome_message=message,
                    updated_at=utc_now(),
                )
            )
            if result.rowcount != 1:
                raise LedgerError(f"no envelope {envelope_id} in the ledger")

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
            finally:
                work.close()
            if work.failure is not None:  # the caller swallowed the error: never commit half a unit
                raise LedgerError(f"assignment rolled back: a step failed ({work.failure})")

    # -- reading back ---------------------------------------------------------------

    def remittance(self, envelope_id: int) -> Remittance | None:
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

    def status(self) -> StatusReport:
        with translated_errors("read the ledger status"), read_transaction(self._engine) as conn:
            return readback.load_status(conn)

    def approval_states(self, client_id: str) -> dict[str, tuple[Decimal, str, Decimal]]:
        """debtor_id -> (limit, currency, outstanding), without locking."""
        with translated_errors(f"read approvals of {client_id}"), read_transaction(self._engine) as conn:
            return readback.load_approval_states(conn, client_id)
