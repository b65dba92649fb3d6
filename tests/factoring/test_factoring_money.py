"""The approvals split and the control sums compute in the money context, not in the caller's."""

from __future__ import annotations

import decimal
from datetime import date
from decimal import Decimal

from gateway.factoring.approvals import ApprovalState, split_by_approval
from gateway.factoring.remittance import remittance_totals
from gateway.model import AssignedLine, DocumentTotals, Invoice, Party, PartyId
from gateway.settings import DebtorSettings

D = Decimal
ALPHA = DebtorSettings("ALPHA", "ALPHA SA", "552100554", None, D("0.00"), "EUR", D("0.00"))


def document(number: str, amount: str, type_code: str = "380") -> Invoice:
    return Invoice(
        number=number,
        issue_date=date(2025, 3, 1),
        type_code=type_code,
        currency="EUR",
        seller=Party(name="ACME SARL", legal_id=PartyId("732829320", "0002")),
        buyer=Party(name="ALPHA SA"),
        totals=DocumentTotals(tax_inclusive=D(amount), amount_due=D(amount)),
        due_date=date(2025, 5, 4),
    )


def test_the_split_is_exact_even_when_the_caller_computes_with_five_digits() -> None:
    items = [
        (document("AV-1", "1234.56", "381"), ALPHA),
        (document("F-1", "987654321098.76"), ALPHA),
        (document("F-2", "0.01"), ALPHA),
    ]
    state = ApprovalState("ALPHA", D("500000000000.00"), "EUR", D("123456789.12"))
    with decimal.localcontext(prec=5) as caller:
        lines, states = split_by_approval(items, {"ALPHA": state})
        assert decimal.getcontext() is caller and caller.prec == 5
    credit, first, second = lines
    assert (credit.amount, credit.guaranteed, credit.non_guaranteed) == (
        D("-1234.56"),
        D("-1234.56"),
        D("0.00"),
    )
    # 500,000,000,000.00 - (123,456,789.12 - 1,234.56) = 499,876,544,445.44 still free.
    assert (first.guaranteed, first.non_guaranteed) == (D("499876544445.44"), D("487777776653.32"))
    assert (second.guaranteed, second.non_guaranteed) == (D("0.00"), D("0.01"))
    assert states["ALPHA"].outstanding == D("500000000000.00")
    for line in lines:
        assert line.guaranteed + line.non_guaranteed == line.amount


def test_control_sums_are_exact_even_when_the_caller_computes_with_five_digits() -> None:
    def line(no: int, type_code: str, amount: str) -> AssignedLine:
        return AssignedLine(
            line_no=no,
            number=f"N{no}",
            type_code=type_code,
            issue_date=date(2025, 3, 1),
            due_date=None,
            debtor_id="ALPHA",
            debtor_name="ALPHA SA",
            currency="EUR",
            amount=D(amount),
            guaranteed=D("0.00"),
            non_guaranteed=D(amount),
        )

    lines = [line(n, "380", "999999999999999.99") for n in range(1, 1001)] + [line(1001, "381", "-0.01")]
    with decimal.localcontext(prec=5):
        (eur,) = remittance_totals(lines)
    assert eur.invoice_total == D("999999999999999990.00")  # 1,000 × 999,999,999,999,999.99
    assert eur.credit_note_total == D("-0.01")
    assert eur.net_total == D("999999999999999989.99")
    assert eur.non_guaranteed_total == eur.net_total and eur.guaranteed_total == D("0.00")
