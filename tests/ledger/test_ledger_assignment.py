"""The assignment unit of work: duplicates, numbering, approvals, outcomes read back exactly."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from conftest import Databases
from ledger_support import debtor, document
from sqlalchemy import Engine, text

from gateway.errors import LedgerError
from gateway.ledger import (
    BusinessKey,
    ClientFacts,
    DocumentRecord,
    DuplicateAssignment,
    EnvelopeState,
    Ledger,
)
from gateway.model import Issue, Severity, Verdict

BUSINESS_DATE = date(2025, 3, 10)


def _envelope(ledger: Ledger, key: str, client: str = "C1") -> int:
    return ledger.register_envelopes(client, "inbox", [(key, f"{key}.csv")])[0].id


def _assign(
    ledger: Ledger,
    envelope_id: int,
    docs: list[DocumentRecord],
    client: str = "C1",
    moves: Sequence[tuple[str, Decimal, Decimal]] = (),
) -> int:
    with ledger.assignment() as work:
        number = work.next_remittance_number(client)
        work.record_outcome(
            envelope_id,
            state=EnvelopeState.ASSIGNED,
            format="csv",
            content_sha256=None,
            business_date=BUSINESS_DATE,
            file_issues=(),
            documents=docs,
            remittance_number=number,
            approval_moves=moves,
        )
    return number


def test_claim_content_reports_the_first_envelope(ledger: Ledger) -> None:
    first, second = _envelope(ledger, "k1"), _envelope(ledger, "k2")
    with ledger.assignment() as work:
        assert work.claim_content("C1", "f" * 64, first) is None
        assert work.claim_content("C1", "f" * 64, first) is None  # claiming again is not a duplicate
        assert work.claim_content("C1", "f" * 64, second) == first
        assert work.claim_content("C2", "f" * 64, second) is None  # fingerprints are per client
    with pytest.raises(RuntimeError), ledger.assignment() as work:
        assert work.claim_content("C1", "e" * 64, second) is None
        raise RuntimeError("crash before commit")
    with ledger.assignment() as work:  # the rolled-back claim left nothing behind
        assert work.claim_content("C1", "e" * 64, first) is None
        assert work.claim_content("C1", "f" * 64, second) == first


def test_assigned_keys_finds_accepted_documents_whoever_the_client(ledger: Ledger) -> None:
    accepted = [document(i, f"F-{i}") for i in range(1, 1_201)]
    rejected = document(1_201, "F-X", verdict=Verdict.REJECTED)
    _assign(ledger, _envelope(ledger, "k1"), [*accepted, rejected])
    key = BusinessKey("123456789", "F1", date(2025, 3, 1))
    asked = {BusinessKey("123456789", f"F{i}", date(2025, 3, 1)) for i in range(1, 2_501)}
    asked |= {
        BusinessKey("123456789", "FX", date(2025, 3, 1)),
        BusinessKey("123456789", "F1", date(2025, 3, 2)),
    }
    with ledger.assignment() as work:
        found = work.assigned_keys(asked)
        assert found == {BusinessKey("123456789", f"F{i}", date(2025, 3, 1)) for i in range(1, 1_201)}
        assert work.assigned_keys({key}) == {key}  # asked for any client: the seller's receivable
        assert work.assigned_keys({BusinessKey("552100554", "F1", date(2025, 3, 1))}) == set()
        assert work.assigned_keys(set()) == set()


def test_remittance_numbers_are_gapless_per_client_even_after_a_rollback(ledger: Ledger) -> None:
    with ledger.assignment() as work:
        assert [work.next_remittance_number("C1") for _ in range(3)] == [1, 2, 3]
        assert work.next_remittance_number("C2") == 1
    with pytest.raises(RuntimeError), ledger.assignment() as work:
        assert work.next_remittance_number("C1") == 4
        raise RuntimeError("the unit of work failed")
    with ledger.assignment() as work:
        assert work.next_remittance_number("C1") == 4  # the rolled-back number was not burned
        assert work.next_remittance_number("C2") == 2


def test_outcome_round_trip_keeps_exact_amounts(ledger: Ledger) -> None:
    envelope_id = _envelope(ledger, "k1")
    warning = Issue("GW-NOTE", "Due date is far away.", Severity.WARNING, "line 3")
    docs = [
        document(1, "AV-7", "-1200.00", type_code="381", line_no=1),
        document(2, "F-1", "10.10", line_no=2, guaranteed="10.00", issues=(warning,)),
        document(
            3,
            "F-bad",
            None,
            verdict=Verdict.REJECTED,
            issues=(Issue("BR-CO-15", "Totals differ.", location="line 4"),),
        ),
        document(4, "F-2", "9999999999999999.99", currency="USD", debtor_id="BETA", line_no=3),
    ]
    file_issue = Issue("GW-ENCODING", "File was cp1252.", Severity.WARNING)
    with ledger.assignment() as work:
        number = work.next_remittance_number("C1")
        work.record_outcome(
            envelope_id,
            state=EnvelopeState.ASSIGNED,
            format="csv",
            content_sha256="a" * 64,
            business_date=BUSINESS_DATE,
            file_issues=[file_issue],
            documents=docs,
            remittance_number=number,
        )

    record = ledger.envelope(envelope_id)
    assert (record.state, record.format, record.content_sha256, record.business_date) == (
        EnvelopeState.ASSIGNED,
        "csv",
        "a" * 64,
        BUSINESS_DATE,
    )
    remittance = ledger.remittance(envelope_id)
    assert remittance is not None
    assert (remittance.client_id, remittance.number, remittance.business_date) == ("C1", 1, BUSINESS_DATE)
    assert (remittance.source_name, remittance.envelope_id) == ("k1.csv", envelope_id)
    assert [
        (x.line_no, x.number, str(x.amount), str(x.guaranteed), str(x.non_guaranteed))
        for x in remittance.lines
    ] == [
        (1, "AV-7", "-1200.00", "-1200.00", "0.00"),
        (2, "F-1", "10.10", "10.00", "0.10"),
        (3, "F-2", "9999999999999999.99", "9999999999999999.99", "0.00"),
    ]
    line = remittance.lines[0]
    assert (
        line.type_code,
        line.issue_date,
        line.due_date,
        line.debtor_id,
        line.debtor_name,
        line.currency,
    ) == (
        "381",
        date(2025, 3, 1),
        date(2025, 5, 1),
        "ALPHA",
        "ALPHA SA",
        "EUR",
    )
    assert all(type(x.amount) is Decimal for x in remittance.lines)
    totals = {t.currency: t for t in ledger.status().assigned}  # summed by the database, exactly
    assert set(totals) == {"EUR", "USD"}
    assert totals["EUR"].net_total == Decimal("-1189.90")
    assert str(totals["USD"].net_total) == "9999999999999999.99"

    ack = ledger.acknowledgement(envelope_id)
    assert (ack.client_id, ack.envelope_id, ack.source_name, ack.business_date) == (
        "C1",
        envelope_id,
        "k1.csv",
        BUSINESS_DATE,
    )
    assert (ack.verdict, ack.remittance_number, ack.file_issues) == (Verdict.ACCEPTED, 1, (file_issue,))
    assert [
        (x.location, x.number, x.verdict, None if x.amount is None else str(x.amount)) for x in ack.lines
    ] == [
        ("line 2", "AV-7", Verdict.ACCEPTED, "-1200.00"),
        ("line 3", "F-1", Verdict.ACCEPTED, "10.10"),
        ("line 4", "F-bad", Verdict.REJECTED, None),
        ("line 5", "F-2", Verdict.ACCEPTED, "9999999999999999.99"),
    ]
    assert ack.lines[1].issues == (warning,)
    assert ack.lines[2].issues == (Issue("BR-CO-15", "Totals differ.", location="line 4"),)


def test_a_rejected_file_has_an_acknowledgement_and_no_remittance(ledger: Ledger) -> None:
    envelope_id = _envelope(ledger, "k1")
    with pytest.raises(LedgerError, match="no recorded outcome"):
        ledger.acknowledgement(envelope_id)
    refusal = Issue("GW-FORMAT-UNKNOWN", "No parser recognises this file.")
    with ledger.assignment() as work:
        work.record_outcome(
            envelope_id,
            state=EnvelopeState.REJECTED,
            format=None,
            content_sha256=None,
            business_date=BUSINESS_DATE,
            file_issues=[refusal],
            documents=[],
            remittance_number=None,
            outcome_code=refusal.code,
            outcome_message=refusal.message,
        )
    assert ledger.remittance(envelope_id) is None
    ack = ledger.acknowledgement(envelope_id)
    assert (ack.verdict, ack.remittance_number, ack.file_issues, ack.lines) == (
        Verdict.REJECTED,
        None,
        (refusal,),
        (),
    )
    record = ledger.envelope(envelope_id)
    assert (record.state, record.outcome_code) == (EnvelopeState.REJECTED, "GW-FORMAT-UNKNOWN")


def test_a_second_assignment_of_a_business_key_is_refused_by_the_database(ledger: Ledger) -> None:
    _assign(ledger, _envelope(ledger, "k1"), [document(1, "F-1")])
    second = _envelope(ledger, "k2")
    with pytest.raises(DuplicateAssignment):
        _assign(ledger, second, [document(1, "F-2"), document(2, "f/1")])  # normalised F1 again
    assert ledger.envelope(second).state is EnvelopeState.RECEIVED  # the whole unit rolled back
    assert ledger.remittance(second) is None
    assert _assign(ledger, second, [document(1, "F-2")]) == 2  # number 2 was not burned
    third = _envelope(ledger, "k3")
    with pytest.raises(DuplicateAssignment):  # the same key twice in one file
        _assign(ledger, third, [document(1, "F-3"), document(2, "F-3", line_no=2)])


def test_an_envelope_gets_one_outcome_only(ledger: Ledger) -> None:
    envelope_id = _envelope(ledger, "k1")
    _assign(ledger, envelope_id, [document(1, "F-1")])
    with pytest.raises(LedgerError, match="already has a recorded outcome"):
        _assign(ledger, envelope_id, [document(1, "F-9")])
    with pytest.raises(LedgerError, match="no envelope"):
        _assign(ledger, 999_999, [document(1, "F-8")])


@pytest.mark.parametrize(
    ("doc", "number", "message"),
    [
        (document(1, "F-1"), None, "needs a remittance number"),
        (replace(document(1, "F-1"), debtor_id=None), 1, "has no debtor_id"),
        (replace(document(1, "F-1"), non_guaranteed=Decimal("5.00")), 1, "guaranteed \\+ non-guaranteed"),
    ],
)
def test_inconsistent_accepted_documents_are_refused(
    ledger: Ledger, doc: DocumentRecord, number: int | None, message: str
) -> None:
    envelope_id = _envelope(ledger, "k1")
    with pytest.raises(LedgerError, match=message), ledger.assignment() as work:
        work.record_outcome(
            envelope_id,
            state=EnvelopeState.ASSIGNED,
            format="csv",
            content_sha256=None,
            business_date=BUSINESS_DATE,
            file_issues=(),
            documents=[doc],
            remittance_number=number,
        )
    assert ledger.envelope(envelope_id).state is EnvelopeState.RECEIVED


def test_money_never_goes_through_float(ledger: Ledger, databases: Databases, raw_engine: Engine) -> None:
    envelope_id = _envelope(ledger, "k1")
    float_doc = replace(document(1, "F-1", verdict=Verdict.REJECTED), amount=10.1)  # type: ignore[arg-type]
    with pytest.raises(LedgerError, match="Decimal"), ledger.assignment() as work:
        work.record_outcome(
            envelope_id,
            state=EnvelopeState.ASSIGNED,
            format="csv",
            content_sha256=None,
            business_date=BUSINESS_DATE,
            file_issues=(),
            documents=[float_doc],
            remittance_number=None,
        )
    with pytest.raises(LedgerError, match="more than 2 decimals"):
        _assign(ledger, envelope_id, [document(1, "F-1", "10.105", guaranteed="10.105")])
    with pytest.raises(LedgerError, match="16 digits"):  # beyond NUMERIC(18,2), refused on SQLite too
        _assign(ledger, envelope_id, [document(1, "F-1", "10000000000000000.00")])
    _assign(ledger, envelope_id, [document(1, "F-1", "10.10"), document(2, "F-2", "1234567890123456.78")])
    with raw_engine.connect() as conn:
        stored = conn.execute(text("SELECT amount FROM documents ORDER BY position")).scalars().all()
        # Integer hundredths on both databases: exact, and summable by SQL.
        assert stored == [1010, 123456789012345678]
        total = conn.execute(text("SELECT SUM(amount) FROM documents")).scalar_one()
        assert int(total) == 123456789012346688
        if databases.backend == "postgresql":
            column_type = conn.execute(
                text(
                    "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                    "WHERE attrelid = 'documents'::regclass AND attname = 'amount'"
                )
            ).scalar_one()
            assert column_type == "bigint"
    assert float(Decimal("1234567890123456.78")) != Decimal("1234567890123456.78")  # a float would lose it
    remittance = ledger.remittance(envelope_id)
    assert remittance is not None
    assert [str(x.amount) for x in remittance.lines] == ["10.10", "1234567890123456.78"]


def test_parties_are_versioned_and_outstanding_is_the_sum_of_movements(
    ledger: Ledger, raw_engine: Engine
) -> None:
    client = ClientFacts("C1", "Acme", "123456789", None)
    with ledger.assignment() as work:
        work.sync_parties(client, [debtor("ALPHA", "40000.00", "30000.00"), debtor("BETA", "100000.00")])
        assert work.approvals("C1", {"ALPHA", "GAMMA"}) == {
            "ALPHA": (Decimal("40000.00"), "EUR", Decimal("30000.00"))
        }
    # An assigned invoice with 8,800.00 guaranteed is a movement, not an update of a balance.
    moves = [("ALPHA", Decimal("8800.00"), Decimal("38800.00"))]
    _assign(ledger, _envelope(ledger, "k1"), [document(1, "F-1", "8800.00")], moves=moves)
    with ledger.assignment() as work:  # a new limit and name: a new version, the consumption stays
        work.sync_parties(client, [debtor("ALPHA", "50000.00", "30000.00", name="Alpha SAS")])
        work.sync_parties(client, [debtor("ALPHA", "50000.00", "30000.00", name="Alpha SAS")])  # no change
    assert ledger.approval_states("C1") == {
        "ALPHA": (Decimal("50000.00"), "EUR", Decimal("38800.00")),
        "BETA": (Decimal("100000.00"), "EUR", Decimal("0.00")),
    }
    assert ledger.approval_states("C2") == {}
    with raw_engine.connect() as conn:
        versions = conn.execute(
            text("SELECT version, name, approval_limit, valid_to IS NULL FROM debtors "
                 "WHERE debtor_id = 'ALPHA' ORDER BY version")
        ).all()  # fmt: skip
        movements = conn.execute(
            text("SELECT kind, amount FROM approval_movements WHERE debtor_id = 'ALPHA' ORDER BY id")
        ).all()
        receivable = conn.execute(text("SELECT state, amount, open_amount FROM receivables")).one()
    assert [tuple(v) for v in versions] == [
        (1, "ALPHA SA", 4000000, False),
        (2, "Alpha SAS", 5000000, True),
    ]
    assert [tuple(m) for m in movements] == [("opening", 3000000), ("assignment", 880000)]
    assert tuple(receivable) == ("open", 880000, 880000)


def test_a_swallowed_error_still_rolls_the_unit_back(ledger: Ledger) -> None:
    _assign(ledger, _envelope(ledger, "k1"), [document(1, "F-1")])
    second = _envelope(ledger, "k2")
    with pytest.raises(LedgerError, match="rolled back"), ledger.assignment() as work:
        assert work.next_remittance_number("C1") == 2
        with contextlib.suppress(DuplicateAssignment):  # the caller swallows the error
            work.record_outcome(
                second,
                state=EnvelopeState.ASSIGNED,
                format="csv",
                content_sha256=None,
                business_date=BUSINESS_DATE,
                file_issues=(),
                documents=[document(1, "F-1")],
                remittance_number=2,
            )
        with pytest.raises(LedgerError, match="failed earlier"):
            work.next_remittance_number("C1")
    with ledger.assignment() as work:
        assert work.next_remittance_number("C1") == 2
    with pytest.raises(LedgerError, match="closed"):
        work.next_remittance_number("C1")


def test_two_clients_cannot_both_assign_one_sellers_receivable(ledger: Ledger) -> None:
    """The business key has no client in it: bravo sending ACME's invoice is refused by the database."""
    _assign(ledger, _envelope(ledger, "k1", client="acme"), [document(1, "F-1")], client="acme")
    theirs = _envelope(ledger, "k2", client="bravo")
    with pytest.raises(DuplicateAssignment):
        _assign(ledger, theirs, [document(1, "F 1")], client="bravo")  # same seller, number, date
    assert ledger.envelope(theirs).state is EnvelopeState.RECEIVED
