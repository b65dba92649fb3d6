"""The assignment unit of work: everything that decides an envelope, in one transaction.

Duplicate files, already-assigned receivables, consumed approvals and the
remittance number are read and written under the same write lock (SQLite
``BEGIN IMMEDIATE``; PostgreSQL row locks taken as rows are touched), so two
workers can never both see a receivable as free and both assign it. The
primary key of ``assignment_keys`` is the last line of defence behind that.

Statements are built once and reused (building a statement costs several
times what SQLite takes to run it); a batch of 200 envelopes runs about ten
statements per envelope.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Connection, Executable, bindparam, exc, literal, select, text, update

from gateway.clock import utc_now
from gateway.errors import LedgerError
from gateway.ledger import parties
from gateway.ledger.engine import insert_or_skip, insert_rows, translated_errors
from gateway.ledger.records import (
    BusinessKey,
    ClientFacts,
    DebtorFacts,
    DocumentRecord,
    DuplicateAssignment,
    EnvelopeState,
)
from gateway.ledger.schema import (
    assignment_keys,
    content_fingerprints,
    counters,
    date_to_db,
    documents,
    envelopes,
    issues_to_json,
    money_to_db,
    receivables,
    remittances,
)
from gateway.model import CREDIT_NOTE_TYPE_CODES, DocumentKind, Issue, Verdict

#: Bound parameters per IN list: far below SQLite's 32,766 and PostgreSQL's 65,535.
IN_CHUNK = 1000
#: Business keys per lookup statement (passed as one JSON text or three arrays).
KEY_CHUNK = 10_000
REMITTANCE_COUNTER = "remittance"
T = TypeVar("T")


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def document_kind(type_code: str | None) -> str | None:
    if type_code is None:
        return None
    kind = DocumentKind.CREDIT_NOTE if type_code in CREDIT_NOTE_TYPE_CODES else DocumentKind.INVOICE
    return kind.value


# -- statements, built once ------------------------------------------------------------

_FIRST_CLAIM = select(content_fingerprints.c.envelope_id).where(
    content_fingerprints.c.client_id == bindparam("b_client"),
    content_fingerprints.c.content_sha256 == bindparam("b_sha"),
)
_NEXT_NUMBER = (
    update(counters)
    .where(counters.c.client_id == bindparam("b_client"), counters.c.name == REMITTANCE_COUNTER)
    .values(value=counters.c.value + 1)
    .returning(counters.c.value)
)
_RECORD_ENVELOPE = (
    update(envelopes)
    .where(envelopes.c.id == bindparam("b_id"), envelopes.c.business_date.is_(None))
    .values(
        state=bindparam("b_state"),
        format=bindparam("b_format"),
        content_sha256=bindparam("b_sha"),
        business_date=bindparam("b_date", type_=envelopes.c.business_date.type),
        issues=bindparam("b_issues", type_=envelopes.c.issues.type),
        outcome_code=bindparam("b_code"),
        outcome_message=bindparam("b_message"),
        updated_at=bindparam("b_now", type_=envelopes.c.updated_at.type),
    )
    .returning(envelopes.c.client_id)
)
_ENVELOPE_EXISTS = select(envelopes.c.id).where(envelopes.c.id == bindparam("b_id"))
_INSERT_REMITTANCE = remittances.insert().returning(remittances.c.id)
#: The business keys of an envelope's accepted documents, derived by the database from the
#: rows just stored (no document id travels back to Python).
_INSERT_KEYS = assignment_keys.insert().from_select(
    ["client_id", "seller_key", "normalised_number", "issue_date", "document_id"],
    select(
        documents.c.client_id,
        documents.c.seller_key,
        documents.c.normalised_number,
        documents.c.issue_date,
        documents.c.id,
    ).where(
        documents.c.envelope_id == bindparam("b_envelope"), documents.c.verdict == Verdict.ACCEPTED.value
    ),
)

#: A receivable for every accepted document of the unit's envelopes: open, for its whole amount.
_INSERT_RECEIVABLES = receivables.insert().from_select(
    ["document_id", "client_id", "debtor_id", "currency", "amount", "open_amount", "due_date", "state",
     "updated_at"],
    select(
        documents.c.id, documents.c.client_id, documents.c.debtor_id, documents.c.currency,
        documents.c.amount, documents.c.amount, documents.c.due_date, literal("open"),
        bindparam("b_now", type_=receivables.c.updated_at.type),
    ).where(
        documents.c.envelope_id.in_(bindparam("b_envelopes", expanding=True)),
        documents.c.verdict == Verdict.ACCEPTED.value,
    ),
)  # fmt: skip

# Set-based business-key lookups across all clients (a receivable is its seller's, whoever
# sends it): one index probe per key, whatever the size of the ledger (a row-value IN list
# makes SQLite scan the keys; CROSS JOIN makes it walk
# the wanted keys and probe the primary key, not the other way round).
_ASSIGNED_KEYS_SQLITE = text(
    "SELECT k.key FROM json_each(:keys) AS k CROSS JOIN assignment_keys AS a "
    "ON a.seller_key = json_extract(k.value, '$[0]') "
    "AND a.normalised_number = json_extract(k.value, '$[1]') AND a.issue_date = json_extract(k.value, '$[2]')"
)
_ASSIGNED_KEYS_POSTGRESQL = text(  # LATERAL … LIMIT 1: a probe per key, never a hash of the client's keys
    "SELECT k.ord - 1 FROM "
    "unnest(CAST(:sellers AS text[]), CAST(:numbers AS text[]), CAST(:dates AS date[])) "
    "WITH ORDINALITY AS k(seller_key, normalised_number, issue_date, ord) "
    "CROSS JOIN LATERAL (SELECT 1 FROM assignment_keys AS a WHERE "
    "a.seller_key = k.seller_key AND a.normalised_number = k.normalised_number "
    "AND a.issue_date = k.issue_date LIMIT 1) AS hit"
)
DOCUMENT_COLUMNS = (
    "envelope_id", "client_id", "position", "location", "number", "normalised_number", "seller_key",
    "issue_date", "due_date", "type_code", "kind", "currency", "amount", "debtor_id", "debtor_name",
    "preceding_invoice", "verdict", "issues", "remittance_id", "line_no", "guaranteed", "non_guaranteed",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _UpsertStatements:
    claim: Executable
    counter_row: Executable


@functools.cache
def _upserts(dialect_name: str) -> _UpsertStatements:
    """The ON CONFLICT statements, whose construct differs per dialect."""
    return _UpsertStatements(
        claim=insert_or_skip(dialect_name, content_fingerprints)
        .on_conflict_do_nothing(
            index_elements=[content_fingerprints.c.client_id, content_fingerprints.c.content_sha256]
        )
        .returning(content_fingerprints.c.envelope_id),
        counter_row=insert_or_skip(dialect_name, counters).on_conflict_do_nothing(
            index_elements=[counters.c.client_id, counters.c.name]
        ),
    )


class AssignmentWork:
    """Only valid inside ``with ledger.assignment() as work:``.

    After any error the unit is spoilt: every further call raises, and the
    transaction is rolled back even if the caller swallowed the error.
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._postgresql = connection.dialect.name == "postgresql"
        self._upserts = _upserts(connection.dialect.name)
        self._active = True
        self.failure: LedgerError | None = None
        self._counters_ready: set[str] = set()
        # Written once for the whole unit by finish(): a statement per envelope costs more than
        # the rows it writes when a batch holds hundreds of small files.
        self._assigned_envelopes: list[int] = []
        self._movements: list[dict[str, object]] = []

    def close(self) -> None:
        self._active = False

    def finish(self) -> None:
        """Write what the unit's outcomes imply for all of them at once: a receivable per accepted
        document, the approval movements. Called by the ledger just before the commit."""
        with self._step("record receivables and approval movements") as conn:
            for part in chunks(self._assigned_envelopes):
                conn.execute(_INSERT_RECEIVABLES, {"b_envelopes": list(part), "b_now": utc_now()})
            if self._movements:
                parties.insert_movements(conn, self._movements)
        self._assigned_envelopes.clear()
        self._movements.clear()

    @contextmanager
    def _step(self, action: str) -> Iterator[Connection]:
        if not self._active:
            raise LedgerError(f"{action}: the assignment unit of work is already closed")
        if self.failure is not None:
            raise LedgerError(f"{action}: the assignment unit of work failed earlier ({self.failure})")
        try:
            with translated_errors(action):
                yield self._connection
        except LedgerError as err:
            self.failure = err
            raise

    # -- parties and approvals -------------------------------------------------

    def sync_parties(self, client: ClientFacts, debtors: Sequence[DebtorFacts]) -> None:
        """Record the client and its debtors as the configuration describes them now (a new
        version only where something changed; a new debtor's opening outstanding once)."""
        with self._step(f"sync the parties of {client.id}") as conn:
            parties.sync_client(conn, client)
            parties.sync_debtors(conn, client.id, debtors)

    def approvals(
        self, client_id: str, debtor_ids: Collection[str]
    ) -> dict[str, tuple[Decimal, str, Decimal]]:
        """debtor_id -> (limit, currency, outstanding), the debtors locked until the end of the unit."""
        with self._step("read approvals") as conn:
            return parties.locked_approvals(conn, client_id, debtor_ids, IN_CHUNK)

    # -- duplicates ------------------------------------------------------------

    def claim_content(self, client_id: str, content_sha256: str, envelope_id: int) -> int | None:
        """Record that these bytes arrived in this envelope. ``None`` if they are new (or
        were already claimed by this same envelope), else the envelope that had them first."""
        with self._step("claim content") as conn:
            row = {"client_id": client_id, "content_sha256": content_sha256, "envelope_id": envelope_id}
            if conn.execute(self._upserts.claim, row).first() is not None:
                return None
            first: int = conn.execute(
                _FIRST_CLAIM, {"b_client": client_id, "b_sha": content_sha256}
            ).scalar_one()
        return None if first == envelope_id else first

    def assigned_keys(self, keys: Collection[BusinessKey]) -> set[BusinessKey]:
        """Which of these business keys are already assigned, by any client."""
        wanted = list(set(keys))
        found: set[BusinessKey] = set()
        with self._step("look up assigned keys") as conn:
            for part in chunks(wanted, KEY_CHUNK):
                if self._postgresql:
                    params: dict[str, Any] = {
                        "sellers": [k.seller_key for k in part],
                        "numbers": [k.normalised_number for k in part],
                        "dates": [k.issue_date for k in part],
                    }
                    statement = _ASSIGNED_KEYS_POSTGRESQL
                else:
                    listed = [[k.seller_key, k.normalised_number, k.issue_date.isoformat()] for k in part]
                    params = {"keys": json.dumps(listed, ensure_ascii=False)}
                    statement = _ASSIGNED_KEYS_SQLITE
                found.update(part[index] for index in conn.execute(statement, params).scalars())
        return found

    # -- numbering ------------------------------------------------------------

    def next_remittance_number(self, client_id: str, first: int = 1) -> int:
        """first, first + 1… per client with no gap: the counter row is locked until the unit
        ends, and a rolled-back unit gives its number back. ``first`` only matters for the
        client's very first remittance (a migration continuing another system's numbering)."""
        with self._step("number the remittance") as conn:
            if client_id not in self._counters_ready:
                conn.execute(
                    self._upserts.counter_row,
                    {"client_id": client_id, "name": REMITTANCE_COUNTER, "value": first - 1},
                )
                self._counters_ready.add(client_id)
            number: int = conn.execute(_NEXT_NUMBER, {"b_client": client_id}).scalar_one()
        return number

    # -- the outcome -----------------------------------------------------------

    def record_outcome(
        self,
        envelope_id: int,
        *,
        state: EnvelopeState,
        format: str | None,
        content_sha256: str | None,
        business_date: date,
        file_issues: Sequence[Issue],
        documents: Sequence[DocumentRecord],
        remittance_number: int | None,
        outcome_code: str | None = None,
        outcome_message: str | None = None,
        approval_moves: Sequence[tuple[str, Decimal, Decimal]] = (),
    ) -> None:
        """Insert the remittance (when numbered), every document, a business key and a receivable
        per accepted document, the approval movements ``(debtor_id, amount, balance_after)`` its
        guaranteed parts made, and move the envelope to ``state``. One outcome per envelope."""
        with self._step(f"record the outcome of envelope {envelope_id}") as conn:
            now = utc_now()
            client_id = conn.execute(
                _RECORD_ENVELOPE,
                {
                    "b_id": envelope_id,
                    "b_state": state.value,
                    "b_format": format,
                    "b_sha": content_sha256,
                    "b_date": business_date,
                    "b_issues": tuple(file_issues),
                    "b_code": outcome_code,
                    "b_message": outcome_message,
                    "b_now": now,
                },
            ).scalar_one_or_none()
            if client_id is None:
                exists = conn.execute(_ENVELOPE_EXISTS, {"b_id": envelope_id}).first() is not None
                raise LedgerError(
                    f"envelope {envelope_id} already has a recorded outcome"
                    if exists
                    else f"no envelope {envelope_id} in the ledger"
                )
            remittance_id: int | None = None
            if remittance_number is not None:
                remittance_id = conn.execute(
                    _INSERT_REMITTANCE,
                    {
                        "client_id": client_id,
                        "number": remittance_number,
                        "envelope_id": envelope_id,
                        "business_date": business_date,
                        "created_at": now,
                    },
                ).scalar_one()
            if documents:
                self._insert_documents(conn, client_id, envelope_id, remittance_id, documents)
            self._movements += parties.movement_rows(client_id, envelope_id, approval_moves)

    def _insert_documents(
        self,
        conn: Connection,
        client_id: str,
        envelope_id: int,
        remittance_id: int | None,
        records: Sequence[DocumentRecord],
    ) -> None:
        try:
            rows = self._document_rows(client_id, envelope_id, remittance_id, records)
        except (TypeError, ValueError) as err:  # a float or sub-cent amount: refused, never rounded
            raise LedgerError(f"envelope {envelope_id}: {err}") from err
        insert_rows(conn, documents, DOCUMENT_COLUMNS, rows)
        if remittance_id is None:
            return
        try:
            conn.execute(_INSERT_KEYS, {"b_envelope": envelope_id})
        except exc.IntegrityError as err:
            raise DuplicateAssignment(
                f"envelope {envelope_id}: a receivable in it is already assigned "
                f"(the database refused a second assignment: {str(err.orig).strip()})"
            ) from err
        self._assigned_envelopes.append(envelope_id)

    def _document_rows(
        self,
        client_id: str,
        envelope_id: int,
        remittance_id: int | None,
        records: Sequence[DocumentRecord],
    ) -> list[tuple[Any, ...]]:
        """Driver-ready rows for ``documents``, in ``DOCUMENT_COLUMNS`` order."""
        pg = self._postgresql
        rows: list[tuple[Any, ...]] = []
        for doc in records:
            accepted = doc.verdict is Verdict.ACCEPTED
            rows.append(
                (
                    envelope_id, client_id, doc.position, doc.location,
                    doc.number, doc.normalised_number, doc.seller_key, date_to_db(doc.issue_date, pg),
                    date_to_db(doc.due_date, pg), doc.type_code, document_kind(doc.type_code),
                    doc.currency, money_to_db(doc.amount), doc.debtor_id, doc.debtor_name,
                    doc.preceding_invoice, doc.verdict.value, issues_to_json(doc.issues),
                    remittance_id if accepted else None,
                    doc.line_no if accepted else None,
                    money_to_db(doc.guaranteed) if accepted else None,
                    money_to_db(doc.non_guaranteed) if accepted else None,
                )
            )  # fmt: skip
            if accepted:  # after the conversion, which refuses floats and sub-cent amounts
                _check_accepted(doc, remittance_id)
        return rows


def _check_accepted(doc: DocumentRecord, remittance_id: int | None) -> None:
    """Refuse an accepted document the ledger could not render back into a remittance line."""
    if (
        remittance_id is not None
        and doc.amount is not None
        and doc.guaranteed is not None
        and doc.non_guaranteed is not None
        and doc.number is not None
        and doc.normalised_number is not None
        and doc.seller_key is not None
        and doc.issue_date is not None
        and doc.type_code is not None
        and doc.currency is not None
        and doc.debtor_id is not None
        and doc.line_no is not None
        and doc.guaranteed + doc.non_guaranteed == doc.amount
    ):
        return
    where = f"accepted document at position {doc.position} ({doc.location})"
    if remittance_id is None:
        raise LedgerError(f"{where} needs a remittance number")
    missing = [
        name
        for name in (
            "number", "normalised_number", "seller_key", "issue_date", "type_code", "currency", "amount",
            "debtor_id", "line_no", "guaranteed", "non_guaranteed",
        )
        if getattr(doc, name) is None
    ]  # fmt: skip
    if missing:
        raise LedgerError(f"{where} has no {', '.join(missing)}")
    raise LedgerError(f"{where}: guaranteed + non-guaranteed is not the amount {doc.amount}")
