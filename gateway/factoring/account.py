"""The client current account (compte courant) as balanced double entries.

Every event that moves money between a client and its factor is a :class:`Movement` whose
entries add up to zero, so no money can appear or vanish: what the client is credited comes
from somewhere on the factor's side (the receivables it bought) and what it is debited goes
somewhere (fees, VAT, financing income, the bank that paid the drawing).

The client's side has three accounts, the three parts of its position that the statement
shows apart (factoring.md §1.7): ``current`` (what it may draw: the availability),
``reserve`` (the guarantee reserve held back on financed receivables) and ``non-financed``
(receivables bought but not financed: no approval, disputed, overdue). Their sum is the
balance of the current account in the factor's books; worked example 1 ends at 10,200.00 =
0.00 available + 3,400.00 reserve + 6,800.00 non-financed.

Amounts are signed from each account's holder's point of view: positive = credit, negative
= debit. Nothing here is ever updated: a correction is a new movement.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gateway.errors import GatewayError
from gateway.factoring.advance import AdvanceStatement, LineAdvance
from gateway.money import money_context

_ZERO = Decimal("0.00")


class Account(enum.Enum):
    CURRENT = "current"  # the client's: what it may draw
    RESERVE = "reserve"  # the client's: guarantee reserve on financed receivables
    NON_FINANCED = "non-financed"  # the client's: receivables bought, not financed
    RECEIVABLES = "receivables"  # the factor's: receivables bought, owed by debtors
    FEES = "fees"  # the factor's: factoring fee income
    FEE_VAT = "fee-vat"  # the factor's: VAT collected on the fee
    FINANCING = "financing"  # the factor's: financing commission income
    BANK = "bank"  # the factor's: money paid out to the client


CLIENT_ACCOUNTS = frozenset({Account.CURRENT, Account.RESERVE, Account.NON_FINANCED})


class MovementKind(enum.Enum):
    REMITTANCE_INVOICES = "remittance-invoices"
    REMITTANCE_CREDIT_NOTES = "remittance-credit-notes"
    RESERVE = "reserve"
    NON_FINANCED = "non-financed"
    FEE = "fee"
    FEE_VAT = "fee-vat"
    FINANCING_COMMISSION = "financing-commission"
    DRAWING = "drawing"
    RECOURSE = "recourse"


class UnbalancedMovement(ValueError):
    """A movement whose entries do not add up to zero: a bug, never stored."""


class DrawingRefused(GatewayError):
    """A drawing the account does not allow; ``code`` is stable, the message gives the figures."""

    def __init__(self, message: str, *, code: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Movement:
    kind: MovementKind
    reference: str  # remittance number, invoice number, drawing id…
    booking_date: date
    value_date: date
    currency: str
    entries: tuple[tuple[Account, Decimal], ...]

    def __post_init__(self) -> None:
        with money_context():
            total = sum((amount for _, amount in self.entries), _ZERO)
        if total != 0:
            raise UnbalancedMovement(f"{self.kind.value} {self.reference}: entries add up to {total}, not 0")

    def on(self, account: Account) -> Decimal:
        """What this movement does to ``account`` (credit positive)."""
        with money_context():
            return sum((amount for held, amount in self.entries if held is account), _ZERO)


def _transfer(
    kind: MovementKind,
    reference: str,
    booked: date,
    value: date,
    currency: str,
    amount: Decimal,
    credit: Account,
    debit: Account,
) -> Movement:
    return Movement(kind, reference, booked, value, currency, ((credit, amount), (debit, -amount)))


def remittance_movements(statement: AdvanceStatement, remittance: str, booked: date) -> tuple[Movement, ...]:
    """The postings of one remittance's advance statement, in the order of §1.7.

    Zero amounts are left out: a statement line of 0.00 tells the client nothing.
    """
    currency, funded = statement.currency, statement.funding_date
    steps = (
        (
            MovementKind.REMITTANCE_INVOICES,
            booked,
            statement.invoice_total,
            Account.CURRENT,
            Account.RECEIVABLES,
        ),
        (
            MovementKind.REMITTANCE_CREDIT_NOTES,
            booked,
            -statement.credit_note_total,
            Account.RECEIVABLES,
            Account.CURRENT,
        ),
        (MovementKind.RESERVE, booked, statement.reserve, Account.RESERVE, Account.CURRENT),
        (MovementKind.NON_FINANCED, booked, statement.non_financed, Account.NON_FINANCED, Account.CURRENT),
        (MovementKind.FEE, booked, statement.fee, Account.FEES, Account.CURRENT),
        (MovementKind.FEE_VAT, booked, statement.fee_vat, Account.FEE_VAT, Account.CURRENT),
        (
            MovementKind.FINANCING_COMMISSION,
            funded,
            statement.financing_commission,
            Account.FINANCING,
            Account.CURRENT,
        ),
    )
    return tuple(
        _transfer(kind, remittance, day, day, currency, amount, credit, debit)
        for kind, day, amount, credit, debit in steps
        if amount
    )


def drawing(
    movements: Iterable[Movement], reference: str, amount: Decimal, booked: date, currency: str
) -> Movement:
    """A transfer to the client's bank, within its availability on ``booked`` (else refused)."""
    if amount <= 0:
        raise DrawingRefused(f"A drawing is a positive amount, not {amount}.", code="GW-DRAWING-NOT-POSITIVE")
    available = position(movements, booked, currency).available
    if amount > available:
        raise DrawingRefused(
            f"The drawing of {amount} {currency} is more than the {available} {currency} available "
            f"on {booked.isoformat()}; nothing was recorded.",
            code="GW-DRAWING-OVER-AVAILABILITY",
        )
    return _transfer(
        MovementKind.DRAWING, reference, booked, booked, currency, amount, Account.BANK, Account.CURRENT
    )


def recourse(share: LineAdvance, booked: date, currency: str) -> Movement:
    """An unpaid receivable handed back to the client: it leaves the factor's receivables and
    its three parts leave the client's accounts (the advance it had, the reserve and the
    non-financed part held on it)."""
    return Movement(
        MovementKind.RECOURSE,
        share.number,
        booked,
        booked,
        currency,
        (
            (Account.RECEIVABLES, share.amount),
            (Account.CURRENT, -share.advance),
            (Account.RESERVE, -share.reserve),
            (Account.NON_FINANCED, -share.non_financed),
        ),
    )


@dataclass(frozen=True, slots=True)
class Position:
    """The client's account on a date: ``balance == available + reserve + non_financed``."""

    at: date
    currency: str
    balance: Decimal
    available: Decimal
    reserve: Decimal
    non_financed: Decimal


def position(movements: Iterable[Movement], at: date, currency: str) -> Position:
    """The client's position counting the movements booked on or before ``at``."""
    totals = dict.fromkeys(CLIENT_ACCOUNTS, _ZERO)
    with money_context():
        for movement in movements:
            if movement.currency != currency or movement.booking_date > at:
                continue
            for account, amount in movement.entries:
                if account in totals:
                    totals[account] += amount
        return Position(
            at=at,
            currency=currency,
            balance=sum(totals.values(), _ZERO),
            available=totals[Account.CURRENT],
            reserve=totals[Account.RESERVE],
            non_financed=totals[Account.NON_FINANCED],
        )


def running_balance(movements: Sequence[Movement]) -> list[tuple[Movement, Decimal]]:
    """Each movement with the client's balance after it (statement order: as given)."""
    balance = _ZERO
    rows = []
    with money_context():
        for movement in movements:
            balance += sum((movement.on(account) for account in CLIENT_ACCOUNTS), _ZERO)
            rows.append((movement, balance))
    return rows
