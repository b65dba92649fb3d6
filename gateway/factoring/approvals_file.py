"""The approvals file: the factor's credit decisions on debtors, as a CSV the back office exports.

One row is one decision with the day it takes effect: ``approve`` (create a debtor or set its
limit: raised or lowered, the report says which), ``suspend`` and ``resume`` (no new guarantee
meanwhile), ``block`` and ``unblock`` (nothing of the debtor is eligible meanwhile), ``end``
(the approval is over; a later ``approve`` reopens it). The layout is in
``docs/approvals-file.md``.

The import is all or nothing: a file with one bad row changes nothing, and every bad row is
reported at once, with its line number, column and value, so the person fixes the file in one
go rather than one error per attempt. Reading the file (:func:`read_approvals`) is pure; so is
checking it against the debtors the ledger holds (:func:`plan_changes`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from marshmallow import Schema, ValidationError

from gateway.config.fields import Currency, Siren, Text, VatId, shown
from gateway.errors import GatewayError

Action = Literal["approve", "suspend", "resume", "block", "unblock", "end"]
ACTIONS: tuple[Action, ...] = ("approve", "suspend", "resume", "block", "unblock", "end")
COLUMNS = (
    "client", "debtor", "action", "effective_date", "limit", "currency",
    "name", "siren", "vat_id", "country", "reason",
)  # fmt: skip
REQUIRED_COLUMNS = ("client", "debtor", "action", "effective_date")
#: Rows an approvals file may hold: a factor's whole debtor book, with room.
MAX_ROWS = 1_000_000
_ID = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
_ID_TEXT = "1 to 64 letters, digits, '.', '_' or '-'"


class ApprovalsFileError(GatewayError):
    """The file was refused; ``problems`` holds one line per problem, each with its place."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s); nothing was imported")


@dataclass(frozen=True, slots=True)
class ApprovalRow:
    line: int
    client_id: str
    debtor_id: str
    action: Action
    effective: date
    limit: Decimal | None
    currency: str | None
    name: str | None
    siren: str | None
    vat_id: str | None
    country: str | None
    reason: str | None


class _Row(Schema):
    client = Text(required=True, pattern=_ID, expected=_ID_TEXT)
    debtor = Text(required=True, pattern=_ID, expected=_ID_TEXT)
    action = Text(required=True, choices=ACTIONS)
    name = Text()
    siren = Siren()
    vat_id = VatId()
    currency = Currency()
    country = Text(pattern=r"[A-Z]{2}", expected='an ISO 3166 code of two capitals such as "FR"')
    reason = Text()


def read_approvals(data: bytes, encoding: str = "utf-8") -> list[ApprovalRow]:
    """Every row of the file, checked on its own; :class:`ApprovalsFileError` lists all problems."""
    text = _decoded(data, encoding)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ApprovalsFileError(["line 1: the file is empty; its first line must be the header row"])
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except csv.Error as err:
        raise ApprovalsFileError([f"line 1: {err}"]) from None
    problems = _header_problems(header)
    if problems:
        raise ApprovalsFileError(problems)
    rows: list[ApprovalRow] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise ApprovalsFileError([f"line {line}: more than {MAX_ROWS:,} rows; split the file"])
            if len(cells) != len(header):
                problems.append(f"line {line}: {len(cells)} cells where the header has {len(header)}")
                continue
            row, row_problems = _row(line, dict(zip(header, cells, strict=True)))
            problems.extend(row_problems)
            if row is not None:
                rows.append(row)
    except csv.Error as err:
        problems.append(f"line {reader.line_num}: {err}")
    problems.extend(_duplicates(rows))
    if problems:
        raise ApprovalsFileError(problems)
    return rows


def _decoded(data: bytes, encoding: str) -> str:
    if encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        name = encoding.removesuffix("-sig")
        raise ApprovalsFileError(
            [
                f"line {line}: byte {data[err.start]:#04x} at offset {err.start} is not {name}; "
                "save the file as UTF-8 or give its encoding (--encoding cp1252)"
            ]
        ) from None


def _header_problems(header: list[str]) -> list[str]:
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    problems = [f"line 1: unknown column '{name}' (known: {', '.join(COLUMNS)})" for name in unknown]
    problems += [f"line 1: the column '{name}' is missing" for name in missing]
    repeated = sorted({name for name in header if header.count(name) > 1})
    problems += [f"line 1: the column '{name}' appears more than once" for name in repeated]
    return problems


def _row(line: int, raw: dict[str, str]) -> tuple[ApprovalRow | None, list[str]]:
    schema = _Row()
    present = {key: value for key, value in raw.items() if value.strip() and key in schema.fields}
    problems: list[str] = []
    try:
        loaded: dict[str, Any] = schema.load(present)
    except ValidationError as err:
        messages = err.messages if isinstance(err.messages, dict) else {"row": err.messages}
        for column, texts in sorted(messages.items()):
            for text in texts if isinstance(texts, list) else [texts]:
                problems.append(f"line {line}, column {column}: {text}")
        loaded = {}
    effective = _date(raw.get("effective_date", ""), line, problems)
    limit_text = raw.get("limit", "").strip()
    limit = _limit(limit_text, line, problems)
    action = loaded.get("action")
    if action == "approve" and not limit_text:
        problems.append(f"line {line}, column limit: an approve row needs the approved limit (0 for none)")
    if action not in (None, "approve") and limit_text:
        problems.append(
            f"line {line}, column limit: only an approve row carries a limit (this one is {action})"
        )
    if problems or effective is None or action is None:
        return None, problems
    return (
        ApprovalRow(
            line=line,
            client_id=loaded["client"],
            debtor_id=loaded["debtor"],
            action=action,
            effective=effective,
            limit=limit,
            currency=loaded.get("currency"),
            name=loaded.get("name"),
            siren=loaded.get("siren"),
            vat_id=loaded.get("vat_id"),
            country=loaded.get("country"),
            reason=loaded.get("reason"),
        ),
        [],
    )


def _date(text: str, line: int, problems: list[str]) -> date | None:
    value = text.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    what = "is missing" if not value else f"{shown(value)} is not a date"
    problems.append(f"line {line}, column effective_date: {what}; write 2025-03-10 or 10/03/2025")
    return None


def _limit(text: str, line: int, problems: list[str]) -> Decimal | None:
    value = text.strip().replace(",", ".", 1) if text.count(",") == 1 and "." not in text else text.strip()
    if not value:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = None
    exponent = amount.as_tuple().exponent if amount is not None and amount.is_finite() else None
    if amount is None or not isinstance(exponent, int) or exponent < -2 or amount < 0 or "e" in value.lower():
        problems.append(
            f"line {line}, column limit: {shown(text.strip())} is not an amount of 0 or more "
            "with at most two decimals (write 40000.00 or 40000,00, without thousands separators)"
        )
        return None
    return amount.quantize(Decimal("0.01"))


def _duplicates(rows: Sequence[ApprovalRow]) -> list[str]:
    first: dict[tuple[str, str, date], int] = {}
    problems = []
    for row in rows:
        key = (row.client_id, row.debtor_id, row.effective)
        if key in first:
            problems.append(
                f"line {row.line}: a second decision for debtor {row.debtor_id} of client {row.client_id} "
                f"effective {row.effective.isoformat()} (the first is on line {first[key]}); keep one"
            )
        else:
            first[key] = row.line
    return problems


# --------------------------------------------------------------------------- against the ledger

Status = Literal["active", "suspended", "blocked", "ended"]


@dataclass(frozen=True, slots=True)
class DebtorState:
    """A debtor's current approval as the ledger holds it."""

    status: Status
    limit: Decimal
    currency: str
    effective: date  # of the decision in force
    name: str


@dataclass(frozen=True, slots=True)
class PlannedChange:
    """What one row will do, in words for the import report (``raised 40,000.00 -> 60,000.00``)."""

    row: ApprovalRow
    state: DebtorState
    summary: str


def plan_changes(
    rows: Sequence[ApprovalRow], known: Mapping[tuple[str, str], DebtorState], clients: frozenset[str]
) -> list[PlannedChange]:
    """Apply the rows, in effective-date order, to the debtors ``known``; every problem at once."""
    states = dict(known)
    planned: list[PlannedChange] = []
    problems: list[str] = []
    for row in sorted(rows, key=lambda r: (r.effective, r.line)):
        key = (row.client_id, row.debtor_id)
        if row.client_id not in clients:
            problems.append(f"line {row.line}: client {row.client_id} is not in the configuration")
            continue
        before = states.get(key)
        outcome = _apply(row, before)
        if isinstance(outcome, str):
            problems.append(f"line {row.line}: debtor {row.debtor_id} of client {row.client_id}: {outcome}")
            continue
        states[key] = outcome[0]
        planned.append(PlannedChange(row, outcome[0], outcome[1]))
    if problems:
        raise ApprovalsFileError(problems)
    return planned


_NEXT_STATUS: dict[str, tuple[tuple[Status, ...], Status]] = {
    "suspend": (("active",), "suspended"),
    "resume": (("suspended",), "active"),
    "block": (("active", "suspended"), "blocked"),
    "unblock": (("blocked",), "active"),
    "end": (("active", "suspended", "blocked"), "ended"),
}


def _apply(row: ApprovalRow, before: DebtorState | None) -> tuple[DebtorState, str] | str:
    if before is not None and row.effective < before.effective:
        return (
            f"the decision takes effect on {row.effective.isoformat()}, before the one in force "
            f"(since {before.effective.isoformat()}); history is only added to"
        )
    if row.action == "approve":
        return _approve(row, before)
    if before is None:
        return "is not known yet; its first row must be an approve row with its name and SIREN or VAT number"
    allowed, status = _NEXT_STATUS[row.action]
    if before.status not in allowed:
        return f"cannot {row.action} an approval that is {before.status}"
    state = DebtorState(status, before.limit, before.currency, row.effective, before.name)
    return state, f"{before.status} -> {status}"


def _approve(row: ApprovalRow, before: DebtorState | None) -> tuple[DebtorState, str] | str:
    assert row.limit is not None  # read_approvals requires it on approve rows
    currency = row.currency or (before.currency if before else "EUR")
    if before is None:
        if row.name is None or (row.siren is None and row.vat_id is None):
            return "is new: its approve row needs its name and its SIREN or VAT number"
        return DebtorState(
            "active", row.limit, currency, row.effective, row.name
        ), f"created, limit {row.limit}"
    if before.status == "blocked":
        return "is blocked; unblock it before changing its limit"
    if currency != before.currency:
        return f"its approval is in {before.currency}; a limit in {currency} needs the approval ended first"
    state = DebtorState("active", row.limit, currency, row.effective, row.name or before.name)
    if before.status == "ended":
        return state, f"reopened, limit {row.limit}"
    verb = "raised" if row.limit > before.limit else "lowered" if row.limit < before.limit else "confirmed"
    return state, f"{verb} {before.limit} -> {row.limit}"
