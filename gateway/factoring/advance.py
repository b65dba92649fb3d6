"""The advance on a remittance: what is financed, held back, charged and paid out.

The method is the brief's (factoring.md §1.6, worked example 1), one currency at a time:

1. **Financeable** per line: the guaranteed part, plus the non-guaranteed part when the
   contract finances it. Credit notes are financeable too, negatively: they claw back the
   advance made on the invoice they reduce.
2. **Advance** per line = financeable × advance rate, rounded to the cent; the **reserve**
   is the rest of the financeable amount, so that advance + reserve = financeable exactly,
   whatever the rounding.
3. **Factoring fee** on the remitted amounts TTC (invoices only, or invoices net of credit
   notes when the contract says so), plus a per-invoice fee, raised to the contract's
   minimum per remittance; rounded once; **VAT** on it rounded once.
4. **Financing commission**, when prepaid: per invoice with a positive advance, advance ×
   yearly rate × days from the funding date to the due date / day-count basis, rounded per
   line. No rebate is computed for credit notes (contract-dependent, unverified in the
   brief). Charged on the drawn balance instead, it is not part of the advance: see
   :func:`drawn_balance_commission`.
5. **Paid out** (if the client draws everything) = advances − fee − VAT − prepaid commission.

Every rounding is the contract's mode (ROUND_HALF_UP by default) to the cent, at the steps
named above and nowhere else, so a statement can be recomputed by hand line by line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from gateway.model import CREDIT_NOTE_TYPE_CODES, AssignedLine
from gateway.money import CENT, DayCount, Rate, Rounding, money_context, quantize

FinancingStyle = Literal["prepaid", "drawn-balance"]
_ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class AdvanceTerms:
    """The contract terms the arithmetic reads (from ``ContractTerms`` and the contract's options)."""

    advance_rate: Decimal
    fee_rate: Decimal
    fee_vat_rate: Decimal
    financing_rate: Decimal
    day_count: DayCount
    financing_style: FinancingStyle = "prepaid"
    finance_non_guaranteed: bool = False
    fee_on_credit_notes: bool = False  # True: credit notes reduce the fee base
    fee_per_invoice: Decimal = _ZERO
    minimum_fee: Decimal = _ZERO  # per remittance, before VAT
    rounding: Rounding = "ROUND_HALF_UP"


@dataclass(frozen=True, slots=True)
class LineAdvance:
    """One line's share: ``advance + reserve == financeable``; ``financing_days`` is ``None``
    when no commission is charged on the line (credit note, drawn-balance contract, no due date)."""

    line_no: int
    number: str
    type_code: str
    debtor_id: str
    due_date: date | None
    amount: Decimal
    financeable: Decimal
    non_financed: Decimal
    advance: Decimal
    reserve: Decimal
    financing_days: int | None
    financing_commission: Decimal


@dataclass(frozen=True, slots=True)
class AdvanceStatement:
    """What a remittance gives the client in one currency, as the advance statement shows it."""

    currency: str
    funding_date: date
    credited: Decimal  # the remittance's net total: invoices − credit notes
    invoice_total: Decimal
    credit_note_total: Decimal  # negative or zero
    financeable: Decimal
    non_financed: Decimal
    reserve: Decimal
    advance: Decimal
    fee_base: Decimal
    fee: Decimal
    fee_vat: Decimal
    financing_commission: Decimal
    paid_out: Decimal  # advance − fee − VAT − prepaid commission: the most the client can draw
    lines: tuple[LineAdvance, ...]


def compute_advances(
    lines: Sequence[AssignedLine], terms: AdvanceTerms, funding_date: date
) -> tuple[AdvanceStatement, ...]:
    """The advance statement of a remittance, one per currency, sorted by currency code."""
    by_currency: dict[str, list[AssignedLine]] = {}
    for line in lines:
        by_currency.setdefault(line.currency, []).append(line)
    with money_context():
        return tuple(
            _statement(currency, by_currency[currency], terms, funding_date)
            for currency in sorted(by_currency)
        )


def _statement(
    currency: str, lines: Sequence[AssignedLine], terms: AdvanceTerms, funding_date: date
) -> AdvanceStatement:
    shares = tuple(_line_share(line, terms, funding_date) for line in lines)
    invoices = [line for line in lines if not _is_credit_note(line)]
    invoice_total = _sum(line.amount for line in invoices)
    credit_note_total = _sum(line.amount for line in lines if _is_credit_note(line))
    fee_base = invoice_total + credit_note_total if terms.fee_on_credit_notes else invoice_total
    fee = _fee(fee_base, len(invoices), terms)
    fee_vat = Rate.from_fraction(terms.fee_vat_rate).of(fee, rounding=terms.rounding)
    advance = _sum(share.advance for share in shares)
    commission = _sum(share.financing_commission for share in shares)
    return AdvanceStatement(
        currency=currency,
        funding_date=funding_date,
        credited=invoice_total + credit_note_total,
        invoice_total=invoice_total,
        credit_note_total=credit_note_total,
        financeable=_sum(share.financeable for share in shares),
        non_financed=_sum(share.non_financed for share in shares),
        reserve=_sum(share.reserve for share in shares),
        advance=advance,
        fee_base=fee_base,
        fee=fee,
        fee_vat=fee_vat,
        financing_commission=commission,
        paid_out=advance - fee - fee_vat - commission,
        lines=shares,
    )


def _line_share(line: AssignedLine, terms: AdvanceTerms, funding_date: date) -> LineAdvance:
    financeable = line.amount if terms.finance_non_guaranteed else line.guaranteed
    advance = Rate.from_fraction(terms.advance_rate).of(financeable, rounding=terms.rounding)
    days = _financing_days(line, advance, terms, funding_date)
    commission = (
        _ZERO
        if days is None
        else Rate.from_fraction(terms.financing_rate)
        .for_days(days, terms.day_count)
        .of(advance, rounding=terms.rounding)
    )
    return LineAdvance(
        line_no=line.line_no,
        number=line.number,
        type_code=line.type_code,
        debtor_id=line.debtor_id,
        due_date=line.due_date,
        amount=line.amount,
        financeable=financeable,
        non_financed=line.amount - financeable,
        advance=advance,
        reserve=financeable - advance,
        financing_days=days,
        financing_commission=commission,
    )


def _financing_days(
    line: AssignedLine, advance: Decimal, terms: AdvanceTerms, funding_date: date
) -> int | None:
    if terms.financing_style != "prepaid" or advance <= 0 or line.due_date is None:
        return None
    return max((line.due_date - funding_date).days, 0)


def _fee(base: Decimal, invoice_count: int, terms: AdvanceTerms) -> Decimal:
    fee = Rate.from_fraction(terms.fee_rate).of(base, rounding=terms.rounding)
    fee += quantize(terms.fee_per_invoice * invoice_count, CENT, rounding=terms.rounding)
    return max(fee, quantize(terms.minimum_fee, CENT, rounding=terms.rounding))


def _is_credit_note(line: AssignedLine) -> bool:
    return line.type_code in CREDIT_NOTE_TYPE_CODES


def _sum(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, _ZERO)


@dataclass(frozen=True, slots=True)
class DrawnDay:
    """The drawn balance at the end of ``day`` (what the client owes the factor that night)."""

    day: date
    balance: Decimal


def drawn_balance_commission(
    days: Sequence[DrawnDay], yearly_rate: Decimal, day_count: DayCount, rounding: Rounding = "ROUND_HALF_UP"
) -> Decimal:
    """The financing commission of a period charged on the drawn balance, day by day.

    The balances of the period's days are added up first and the sum is taken at the yearly
    rate for one day, so the period is rounded once (§1.6: 30,243.12 drawn for 31 days at 4 %
    ACT/360 costs 104.17). A day the client is in credit (negative balance) costs nothing.

    >>> from datetime import timedelta
    >>> month = [DrawnDay(date(2025, 3, 11) + timedelta(d), Decimal("30243.12")) for d in range(31)]
    >>> drawn_balance_commission(month, Decimal("0.04"), "ACT/360")
    Decimal('104.17')
    """
    seen: set[date] = set()
    with money_context():
        total = _ZERO
        for drawn in days:
            if drawn.day in seen:
                raise ValueError(f"the drawn balance of {drawn.day.isoformat()} is given twice")
            seen.add(drawn.day)
            total += max(drawn.balance, _ZERO)
        return Rate.from_fraction(yearly_rate).for_days(1, day_count).of(total, rounding=rounding)
