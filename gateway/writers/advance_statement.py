"""The advance statement of a remittance (décompte de financement), for the client's ERP, as CSV or JSON.

It says, per currency, what the remittance credited, what is financed and held back, the fee,
its VAT and the prepaid financing commission, and what the client can be paid out; and per
line, the financeable part, advance, reserve and commission with its days. The same layout
family as the remittance (``H`` header, ``D`` lines, ``T`` totals, amounts ``-1234.56``,
free text made inert for spreadsheets), documented in ``schemas/README.md``.

Like the remittance, it fails closed: the totals are recomputed from the lines and the
arithmetic identities of :mod:`gateway.factoring.advance` are checked before a byte is written
(advance + reserve = financeable, financeable + non-financed = amount, paid out = advance −
fee − VAT − commission); a statement that breaks one raises :class:`DeliveryError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from gateway.errors import DeliveryError
from gateway.factoring.advance import AdvanceStatement, LineAdvance
from gateway.money import money_context
from gateway.writers.csv_cells import (
    amount_cell,
    amount_cells,
    check_format,
    csv_bytes,
    csv_row,
    date_cells,
    integer_cells,
    json_bytes,
    numbered_name,
    text_cell,
    text_cells,
)

FORMATS = ("csv", "json")
FORMAT_ID = "factoring-gateway/advance-statement"
VERSION = 1
DETAIL_COLUMNS = (
    "record",
    "currency",
    "line_no",
    "type_code",
    "number",
    "debtor_id",
    "due_date",
    "amount",
    "financeable",
    "non_financed",
    "advance",
    "reserve",
    "financing_days",
    "financing_commission",
)
_ZERO = Decimal("0.00")
#: The totals of a currency, in the order of its ``T`` row and of its JSON object.
TOTAL_FIELDS = (
    "credited",
    "financeable",
    "non_financed",
    "reserve",
    "advance",
    "fee_base",
    "fee",
    "fee_vat",
    "financing_commission",
    "paid_out",
)
_WIDTH = len(DETAIL_COLUMNS)


@dataclass(frozen=True, slots=True)
class StatementHeader:
    """Who and what the statement is about."""

    client_id: str
    remittance_number: int
    business_date_iso: str


def stem(header: StatementHeader) -> str:
    """``ADV_ACME_000042``: the remittance's number, so the two files sort side by side."""
    return numbered_name("ADV", header.client_id, "remittance number", header.remittance_number, 6)


def write(header: StatementHeader, statements: Sequence[AdvanceStatement], fmt: str) -> bytes:
    """The statement in ``fmt``; same input, same bytes."""
    check_format(fmt, FORMATS)
    verify(statements)
    return _csv(header, statements) if fmt == "csv" else _json(header, statements)


def verify(statements: Sequence[AdvanceStatement]) -> None:
    """:class:`DeliveryError` unless every identity of the arithmetic holds, per line and in total."""
    with money_context():
        for statement in statements:
            problems = _problems(statement)
            if problems:
                raise DeliveryError(
                    f"advance statement in {statement.currency} not written, it contradicts itself: "
                    + "; ".join(problems)
                )


def _problems(s: AdvanceStatement) -> list[str]:
    problems = [
        f"line {line.line_no}: advance + reserve != financeable"
        for line in s.lines
        if line.advance + line.reserve != line.financeable
    ]
    problems += [
        f"line {line.line_no}: financeable + non-financed != amount"
        for line in s.lines
        if line.financeable + line.non_financed != line.amount
    ]
    sums = {
        "credited": sum((line.amount for line in s.lines), _ZERO),
        "financeable": sum((line.financeable for line in s.lines), _ZERO),
        "non_financed": sum((line.non_financed for line in s.lines), _ZERO),
        "advance": sum((line.advance for line in s.lines), _ZERO),
        "reserve": sum((line.reserve for line in s.lines), _ZERO),
        "financing_commission": sum((line.financing_commission for line in s.lines), _ZERO),
    }
    problems += [
        f"{name} total is not the sum of its lines"
        for name, value in sums.items()
        if getattr(s, name) != value
    ]
    if s.paid_out != s.advance - s.fee - s.fee_vat - s.financing_commission:
        problems.append("paid out != advance - fee - VAT - commission")
    if s.invoice_total + s.credit_note_total != s.credited:
        problems.append("invoices + credit notes != credited")
    return problems


def _csv(header: StatementHeader, statements: Sequence[AdvanceStatement]) -> bytes:
    lines: list[tuple[str, LineAdvance]] = [(s.currency, line) for s in statements for line in s.lines]
    head = _padded(
        "H",
        FORMAT_ID,
        VERSION,
        text_cell(header.client_id),
        header.remittance_number,
        header.business_date_iso,
        len(lines),
        len(statements),
    )
    details = (
        text_cells([currency for currency, _ in lines]),
        integer_cells([line.line_no for _, line in lines]),
        text_cells([line.type_code for _, line in lines]),
        text_cells([line.number for _, line in lines]),
        text_cells([line.debtor_id for _, line in lines]),
        date_cells([line.due_date for _, line in lines]),
        amount_cells([line.amount for _, line in lines]),
        amount_cells([line.financeable for _, line in lines]),
        amount_cells([line.non_financed for _, line in lines]),
        amount_cells([line.advance for _, line in lines]),
        amount_cells([line.reserve for _, line in lines]),
        integer_cells([line.financing_days for _, line in lines]),
        amount_cells([line.financing_commission for _, line in lines]),
    )
    totals = [
        csv_row(
            _padded(
                "T",
                text_cell(s.currency),
                s.funding_date.isoformat(),
                *(amount_cell(getattr(s, name)) for name in TOTAL_FIELDS),
            )
        )
        for s in statements
    ]
    return csv_bytes([csv_row(DETAIL_COLUMNS), csv_row(head)], "D", details, totals)


def _padded(*cells: object) -> tuple[object, ...]:
    """Every row as wide as the column names, so that a loader reads one rectangle."""
    return (*cells, *([None] * (_WIDTH - len(cells))))


def _json(header: StatementHeader, statements: Sequence[AdvanceStatement]) -> bytes:
    return json_bytes(
        {
            "format": FORMAT_ID,
            "version": VERSION,
            "client_id": header.client_id,
            "remittance_number": header.remittance_number,
            "business_date": header.business_date_iso,
            "currencies": [
                {
                    "currency": s.currency,
                    "funding_date": s.funding_date.isoformat(),
                    "invoice_total": amount_cell(s.invoice_total),
                    "credit_note_total": amount_cell(s.credit_note_total),
                    **{name: amount_cell(getattr(s, name)) for name in TOTAL_FIELDS},
                    "lines": [
                        {
                            "line_no": line.line_no,
                            "type_code": line.type_code,
                            "number": line.number,
                            "debtor_id": line.debtor_id,
                            "due_date": line.due_date.isoformat() if line.due_date else None,
                            "amount": amount_cell(line.amount),
                            "financeable": amount_cell(line.financeable),
                            "non_financed": amount_cell(line.non_financed),
                            "advance": amount_cell(line.advance),
                            "reserve": amount_cell(line.reserve),
                            "financing_days": line.financing_days,
                            "financing_commission": amount_cell(line.financing_commission),
                        }
                        for line in s.lines
                    ],
                }
                for s in statements
            ],
        }
    )
