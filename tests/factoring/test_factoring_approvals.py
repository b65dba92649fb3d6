"""The approvals split, pinned on worked example 1 of the factoring brief (§1.6)
and checked for the properties any split must keep."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.factoring.approvals import ApprovalState, split_by_approval
from gateway.factoring.remittance import build_remittance
from gateway.model import DocumentTotals, Invoice, Party, PartyId
from gateway.settings import DebtorSettings

D = Decimal
SELLER = Party(name="ACME SARL", legal_id=PartyId("732829320", "0002"))


def debtor(debtor_id: str, siren: str) -> DebtorSettings:
    return DebtorSettings(debtor_id, f"{debtor_id} SA", siren, None, D("0.00"), "EUR", D("0.00"))


ALPHA = debtor("ALPHA", "552100554")
BETA = debtor("BETA", "404833048")
GAMMA = debtor("GAMMA", "542107651")


def document(
    number: str,
    amount: str,
    *,
    type_code: str = "380",
    issue: date = date(2025, 3, 1),
    due: date | None = None,
    currency: str = "EUR",
    preceding: tuple[str, ...] = (),
) -> Invoice:
    return Invoice(
        number=number,
        issue_date=issue,
        type_code=type_code,
        currency=currency,
        seller=SELLER,
        buyer=Party(name="buyer"),
        totals=DocumentTotals(tax_inclusive=D(amount), amount_due=D(amount)),
        due_date=due,
        preceding_invoices=preceding,
    )


def example_1() -> tuple[list[tuple[Invoice, DebtorSettings]], dict[str, ApprovalState]]:
    items = [
        (document("F-1001", "12000.00", due=date(2025, 5, 4)), ALPHA),
        (document("F-1003", "6000.00", due=date(2025, 6, 5)), GAMMA),
        (
            document("AV-0007", "1200.00", type_code="381", issue=date(2025, 3, 2), preceding=("F-0950",)),
            ALPHA,
        ),
        (document("F-1002", "24000.00", due=date(2025, 4, 30)), BETA),
    ]
    approvals = {
        "ALPHA": ApprovalState("ALPHA", D("40000.00"), "EUR", D("30000.00")),
        "BETA": ApprovalState("BETA", D("100000.00"), "EUR", D("20000.00")),
    }
    return items, approvals


def test_worked_example_1_lines_totals_and_outstanding() -> None:
    items, approvals = example_1()
    lines, states = split_by_approval(items, approvals)

    # Credit note first, then invoices by due date.
    assert [(line.line_no, line.number) for line in lines] == [
        (1, "AV-0007"),
        (2, "F-1002"),
        (3, "F-1001"),
        (4, "F-1003"),
    ]
    split = {line.number: (line.amount, line.guaranteed, line.non_guaranteed) for line in lines}
    assert split == {
        "AV-0007": (D("-1200.00"), D("-1200.00"), D("0.00")),
        "F-1001": (D("12000.00"), D("11200.00"), D("800.00")),
        "F-1002": (D("24000.00"), D("24000.00"), D("0.00")),
        "F-1003": (D("6000.00"), D("0.00"), D("6000.00")),
    }
    assert str(split["AV-0007"][2]) == "0.00"  # not "-0.00" in a file
    assert lines[0].preceding_invoice == "F-0950"
    assert lines[3].debtor_id == "GAMMA" and lines[3].debtor_name == "GAMMA SA"
    assert sum(line.amount for line in lines) == D("40800.00")
    assert sum(line.guaranteed for line in lines) == D("34000.00")
    assert sum(line.non_guaranteed for line in lines) == D("6800.00")

    assert states["ALPHA"].outstanding == D("40000.00")
    assert states["BETA"].outstanding == D("44000.00")
    assert "GAMMA" not in states  # no approval: nothing to record
    assert approvals["ALPHA"].outstanding == D("30000.00")  # inputs untouched

    remittance = build_remittance("acme", 42, date(2025, 3, 10), "batch.csv", 7, lines)
    assert remittance.number == 42
    assert remittance.lines == lines
    (eur,) = remittance.totals
    assert (eur.invoice_count, eur.invoice_total) == (3, D("42000.00"))
    assert (eur.credit_note_count, eur.credit_note_total) == (1, D("-1200.00"))
    assert eur.net_total == D("40800.00")
    assert (eur.guaranteed_total, eur.non_guaranteed_total) == (D("34000.00"), D("6800.00"))


def test_credit_note_larger_than_outstanding_frees_only_the_outstanding() -> None:
    items = [(document("AV-1", "500.00", type_code="396"), ALPHA)]
    lines, states = split_by_approval(
        items, {"ALPHA": ApprovalState("ALPHA", D("1000.00"), "EUR", D("200.00"))}
    )
    assert (lines[0].amount, lines[0].guaranteed, lines[0].non_guaranteed) == (
        D("-500.00"),
        D("-200.00"),
        D("-300.00"),
    )
    assert states["ALPHA"].outstanding == D("0.00")


def test_other_currency_is_not_guaranteed_and_leaves_outstanding_alone() -> None:
    state = ApprovalState("ALPHA", D("1000.00"), "EUR", D("100.00"))
    items = [
        (document("F-USD", "300.00", currency="USD", due=date(2025, 4, 1)), ALPHA),
        (document("AV-USD", "50.00", type_code="381", currency="USD"), ALPHA),
    ]
    lines, states = split_by_approval(items, {"ALPHA": state})
    assert [(ln.guaranteed, ln.non_guaranteed) for ln in lines] == [
        (D("0.00"), D("-50.00")),
        (D("0.00"), D("300.00")),
    ]
    assert states["ALPHA"] == state


def test_outstanding_above_a_reduced_limit_gives_no_room() -> None:
    state = ApprovalState("ALPHA", D("1000.00"), "EUR", D("1500.00"))
    lines, states = split_by_approval(
        [(document("F-1", "100.00", due=date(2025, 4, 1)), ALPHA)], {"ALPHA": state}
    )
    assert (lines[0].guaranteed, lines[0].non_guaranteed) == (D("0.00"), D("100.00"))
    assert states["ALPHA"].outstanding == D("1500.00")


def test_ties_are_broken_by_normalised_number() -> None:
    due = date(2025, 4, 1)
    items = [(document("F/0002", "10.00", due=due), ALPHA), (document("f-0001", "10.00", due=due), ALPHA)]
    lines, _ = split_by_approval(items, {})
    assert [line.number for line in lines] == ["f-0001", "F/0002"]


def test_no_documents_no_lines() -> None:
    assert split_by_approval([], {}) == ((), {})


# ----------------------------------------------------------------------------- properties

DEBTORS = (ALPHA, BETA, GAMMA)
cents = st.integers(min_value=0, max_value=5_000_000).map(lambda n: D(n).scaleb(-2))


Batch = tuple[list[tuple[Invoice, DebtorSettings]], dict[str, ApprovalState]]


@st.composite
def batches(draw: st.DrawFn) -> Batch:
    count = draw(st.integers(min_value=0, max_value=25))
    items = []
    for index in range(count):
        credit = draw(st.booleans())
        issue = date(2025, 1, 1) + timedelta(days=draw(st.integers(0, 60)))
        due = None if credit else issue + timedelta(days=draw(st.integers(0, 90)))
        number = f"{'AV' if credit else 'F'}-{draw(st.integers(0, 30))}-{index}"
        amount = draw(cents)
        currency = draw(st.sampled_from(("EUR", "EUR", "EUR", "USD")))
        invoice = document(
            number, str(amount), type_code="381" if credit else "380", issue=issue, due=due, currency=currency
        )
        items.append((invoice, draw(st.sampled_from(DEBTORS))))
    approvals = {}
    for deb in DEBTORS[:2]:
        limit = draw(cents)
        percent = draw(st.integers(0, 100))
        outstanding = (limit * percent / 100).quantize(D("0.01"))
        approvals[deb.id] = ApprovalState(deb.id, limit, "EUR", outstanding)
    return items, approvals


@settings(max_examples=150, deadline=None)
@given(batches())
def test_guaranteed_plus_non_guaranteed_is_the_amount(batch: Batch) -> None:
    items, approvals = batch
    lines, _ = split_by_approval(items, approvals)
    assert [line.line_no for line in lines] == list(range(1, len(items) + 1))
    for line in lines:
        assert line.guaranteed + line.non_guaranteed == line.amount
        if line.type_code == "381":
            assert line.amount <= 0 and line.amount <= line.guaranteed <= 0
        else:
            assert 0 <= line.guaranteed <= line.amount


@settings(max_examples=150, deadline=None)
@given(batches())
def test_invoices_never_push_outstanding_over_the_limit(batch: Batch) -> None:
    items, approvals = batch
    lines, states = split_by_approval(items, approvals)
    outstanding = {debtor_id: state.outstanding for debtor_id, state in approvals.items()}
    for line in lines:
        if line.debtor_id not in outstanding or line.currency != "EUR":
            assert line.guaranteed == 0
            continue
        before = outstanding[line.debtor_id]
        outstanding[line.debtor_id] = before + line.guaranteed
        if line.guaranteed > 0:
            assert outstanding[line.debtor_id] <= approvals[line.debtor_id].limit
        assert outstanding[line.debtor_id] >= 0
    for debtor_id, state in states.items():
        assert state.outstanding == outstanding[debtor_id]


@settings(max_examples=100, deadline=None)
@given(batches(), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_input_order(batch: Batch, rnd: random.Random) -> None:
    items, approvals = batch
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert split_by_approval(shuffled, approvals) == split_by_approval(items, approvals)


def test_a_negative_invoice_neither_frees_nor_consumes_approval() -> None:
    state = ApprovalState("ALPHA", D("1000.00"), "EUR", D("500.00"))
    lines, states = split_by_approval(
        [(document("F-9", "-100.00", due=date(2025, 4, 1)), ALPHA)], {"ALPHA": state}
    )
    assert (lines[0].amount, lines[0].guaranteed, lines[0].non_guaranteed) == (
        D("-100.00"),
        D("0.00"),
        D("-100.00"),
    )
    assert states["ALPHA"] == state
