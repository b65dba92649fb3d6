"""The client's current-account statement (relevé de compte courant) for a period, as CSV or JSON.

Three sections, one per part of the client's position (factoring.md §1.7): the current account
(what it may draw), the reserve and the non-financed receivables. Each section opens with its
balance at the start of the period, lists the period's movements (booking date, value date,
movement, reference, debit, credit, running balance) and closes with its balance; the three
closing balances add up to the client's balance, and the current account's closing balance is
the availability. Movements are shown in the order they were booked; nothing is netted.

The statement is recomputed from the movements it shows before it is written: every closing
balance must be the opening plus the credits minus the debits, or :class:`DeliveryError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gateway.errors import DeliveryError
from gateway.factoring.account import Account, Movement
from gateway.money import money_context
from gateway.writers.csv_cells import (
    amount_cell,
    check_format,
    csv_bytes,
    csv_row,
    json_bytes,
    numbered_name,
    text_cell,
)

FORMATS = ("csv", "json")
FORMAT_ID = "factoring-gateway/account-statement"
VERSION = 1
#: The sections, in the order they are written.
SECTIONS = (Account.CURRENT, Account.RESERVE, Account.NON_FINANCED)
COLUMNS = (
    "record",
    "section",
    "booking_date",
    "value_date",
    "movement",
    "reference",
    "debit",
    "credit",
    "balance",
)
_ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Period:
    client_id: str
    currency: str
    start: date
    end: date
    number: int  # statement number, sequential per client: the file name and the idempotency key

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a statement period ends on or after its start ({self.start} .. {self.end})")


@dataclass(frozen=True, slots=True)
class StatementRow:
    section: Account
    movement: Movement
    debit: Decimal
    credit: Decimal
    balance: Decimal


@dataclass(frozen=True, slots=True)
class Section:
    account: Account
    opening: Decimal
    rows: tuple[StatementRow, ...]
    closing: Decimal


def stem(period: Period) -> str:
    """``STA_acme_000012``."""
    return numbered_name("STA", period.client_id, "statement number", period.number, 6)


def sections(period: Period, movements: Sequence[Movement]) -> tuple[Section, ...]:
    """The statement's three sections from every movement of the client (any order, any period)."""
    mine = sorted(
        (m for m in movements if m.currency == period.currency and m.booking_date <= period.end),
        key=lambda m: m.booking_date,
    )
    result = []
    with money_context():
        for account in SECTIONS:
            opening = sum((m.on(account) for m in mine if m.booking_date < period.start), _ZERO)
            balance, rows = opening, []
            for movement in mine:
                amount = movement.on(account)
                if movement.booking_date < period.start or not amount:
                    continue
                balance += amount
                debit, credit = (-amount, _ZERO) if amount < 0 else (_ZERO, amount)
                rows.append(StatementRow(account, movement, debit, credit, balance))
            result.append(Section(account, opening, tuple(rows), balance))
    return tuple(result)


def write(period: Period, movements: Sequence[Movement], fmt: str) -> bytes:
    check_format(fmt, FORMATS)
    parts = sections(period, movements)
    verify_sections(parts)
    return _csv(period, parts) if fmt == "csv" else _json(period, parts)


def verify_sections(parts: Sequence[Section]) -> None:
    """:class:`DeliveryError` unless each section's closing is its opening plus its movements."""
    with money_context():
        for part in parts:
            moved = sum((row.credit - row.debit for row in part.rows), _ZERO)
            if part.opening + moved != part.closing:
                raise DeliveryError(
                    f"account statement not written: the {part.account.value} section does not add up "
                    f"({part.opening} + {moved} != {part.closing})"
                )


def _csv(period: Period, parts: Sequence[Section]) -> bytes:
    width = len(COLUMNS)

    def padded(*cells: object) -> str:
        return csv_row((*cells, *([None] * (width - len(cells)))))

    head = padded(
        "H",
        FORMAT_ID,
        VERSION,
        text_cell(period.client_id),
        period.number,
        period.currency,
        period.start.isoformat(),
        period.end.isoformat(),
    )
    rows = [csv_row(COLUMNS), head]
    for part in parts:
        section = part.account.value
        rows.append(
            padded(
                "O",
                section,
                period.start.isoformat(),
                None,
                None,
                None,
                None,
                None,
                amount_cell(part.opening),
            )
        )
        rows.extend(
            csv_row(
                (
                    "M",
                    section,
                    row.movement.booking_date.isoformat(),
                    row.movement.value_date.isoformat(),
                    row.movement.kind.value,
                    text_cell(row.movement.reference),
                    amount_cell(row.debit),
                    amount_cell(row.credit),
                    amount_cell(row.balance),
                )
            )
            for row in part.rows
        )
        rows.append(
            padded(
                "C", section, period.end.isoformat(), None, None, None, None, None, amount_cell(part.closing)
            )
        )
    return csv_bytes(rows, "M", (), [])  # every row is already made: no column block


def _json(period: Period, parts: Sequence[Section]) -> bytes:
    closing = {part.account.value: part.closing for part in parts}
    with money_context():
        balance = sum(closing.values(), _ZERO)
    return json_bytes(
        {
            "format": FORMAT_ID,
            "version": VERSION,
            "client_id": period.client_id,
            "number": period.number,
            "currency": period.currency,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "balance": amount_cell(balance),
            "available": amount_cell(closing[Account.CURRENT.value]),
            "sections": [
                {
                    "section": part.account.value,
                    "opening": amount_cell(part.opening),
                    "closing": amount_cell(part.closing),
                    "movements": [
                        {
                            "booking_date": row.movement.booking_date.isoformat(),
                            "value_date": row.movement.value_date.isoformat(),
                            "movement": row.movement.kind.value,
                            "reference": row.movement.reference,
                            "debit": amount_cell(row.debit),
                            "credit": amount_cell(row.credit),
                            "balance": amount_cell(row.balance),
                        }
                        for row in part.rows
                    ],
                }
                for part in parts
            ],
        }
    )
