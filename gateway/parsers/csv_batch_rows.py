"""One csv-batch row turned into an :class:`~gateway.model.Invoice`, or into the reasons it cannot be.

A batch may hold 100,000 rows, so :func:`row_reader` is written for speed: column
positions are resolved once from the header into plain local integers, parties that
repeat (the seller on every row, each debtor on many) are built once and shared, and
dates are parsed through a small cache keyed by their text. Only a row the fast path
refuses goes through :func:`_row_problems`, which names everything wrong with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache

from gateway.model import (
    DocumentTotals,
    Invoice,
    Issue,
    Note,
    Party,
    PartyId,
    PaymentInstructions,
    RejectedRecord,
)
from gateway.money import subtract
from gateway.parsers.csv_batch_amounts import _amount_problem, _read_amount
from gateway.parsers.csv_batch_layout import COLUMN_LABELS, Layout

_ACC_PREFIX = "#ACC#"


@lru_cache(maxsize=8192)
def _read_date(text: str) -> date | None:
    """``YYYY-MM-DD`` only; ``fromisoformat`` alone would also take ``20250301`` or ``2025-W10``."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _date_problem(line_no: int, column: str, text: str) -> Issue:
    return Issue(
        "GW-CSV-VALUE",
        f"Line {line_no}: the {COLUMN_LABELS[column]} '{text}' is not a date in the form YYYY-MM-DD.",
        location=f"line {line_no}",
    )


def _missing(line_no: int, column: str) -> Issue:
    return Issue(
        "GW-CSV-MISSING",
        f"Line {line_no}: the {COLUMN_LABELS[column]} (column {column}) is empty.",
        location=f"line {line_no}",
    )


RowReader = Callable[[list[str], int], Invoice | RejectedRecord]


def row_reader(layout: Layout) -> RowReader:
    """A function turning one row (already padded with a trailing empty cell) into a document.

    Built once per file so that column positions are plain local integers in
    the hot loop, and so that parties repeated across rows are shared.
    """
    i_number = layout.index("invoice_number")
    i_type = layout.index("type_code")
    i_issue = layout.index("issue_date")
    i_due = layout.index("due_date")
    i_currency = layout.index("currency")
    i_seller_siren = layout.index("seller_siren")
    i_seller_name = layout.index("seller_name")
    i_seller_vat = layout.index("seller_vat")
    i_buyer_name = layout.index("buyer_name")
    i_buyer_siren = layout.index("buyer_siren")
    i_buyer_vat = layout.index("buyer_vat")
    i_buyer_id = layout.index("buyer_id")
    i_buyer_country = layout.index("buyer_country")
    i_net = layout.index("total_without_vat")
    i_vat = layout.index("total_vat")
    i_gross = layout.index("total_with_vat")
    i_prepaid = layout.index("prepaid")
    i_due_amount = layout.index("amount_due")
    i_preceding = layout.index("preceding_invoice")
    i_order = layout.index("purchase_order")
    i_buyer_ref = layout.index("buyer_reference")
    i_terms = layout.index("payment_terms")
    i_means = layout.index("payment_means")
    i_iban = layout.index("payee_iban")
    i_pay_ref = layout.index("payment_reference")
    i_note = layout.index("note")

    sellers: dict[tuple[str, str, str], Party] = {}
    buyers: dict[tuple[str, str, str, str, str], Party] = {}
    notes: dict[str, tuple[Note, ...]] = {}
    read_date = _read_date
    read_amount = _read_amount

    def read(row: list[str], line_no: int) -> Invoice | RejectedRecord:
        number = row[i_number].strip()
        type_code = row[i_type].strip()
        currency = row[i_currency].strip()
        issue_date = read_date(row[i_issue].strip())
        due_text = row[i_due].strip()
        due_date = read_date(due_text) if due_text else None
        net = read_amount(row[i_net].strip())
        vat = read_amount(row[i_vat].strip())
        gross = read_amount(row[i_gross].strip())
        prepaid_text = row[i_prepaid].strip()
        prepaid = read_amount(prepaid_text) if prepaid_text else None
        amount_due_text = row[i_due_amount].strip()
        amount_due = read_amount(amount_due_text) if amount_due_text else None
        seller_siren = row[i_seller_siren].strip()
        seller_name = row[i_seller_name].strip()
        buyer_name = row[i_buyer_name].strip()
        buyer_siren = row[i_buyer_siren].strip()
        buyer_vat = row[i_buyer_vat].strip()
        if (
            issue_date is None
            or net is None
            or vat is None
            or gross is None
            or not (number and type_code and currency and seller_siren and seller_name and buyer_name)
            or not (buyer_siren or buyer_vat)
            or (due_text and due_date is None)
            or (prepaid_text and prepaid is None)
            or (amount_due_text and amount_due is None)
        ):
            # Rare: say everything that is wrong with the row, not just the first thing.
            problems = tuple(_row_problems(row, line_no, layout))
            return RejectedRecord(location=f"line {line_no}", issues=problems, number=number or None)
        if amount_due is None:
            # The layout's rule for an empty amount_due (BT-115 = BT-112 - BT-113).
            amount_due = subtract(gross, prepaid) if prepaid is not None else gross

        seller_vat = row[i_seller_vat].strip()
        seller_key = (seller_siren, seller_name, seller_vat)
        seller = sellers.get(seller_key)
        if seller is None:
            seller = sellers[seller_key] = Party(
                name=seller_name,
                legal_id=PartyId(seller_siren, "0002"),
                vat_id=seller_vat or None,
            )
        buyer_id = row[i_buyer_id].strip()
        buyer_country = row[i_buyer_country].strip()
        buyer_key = (buyer_name, buyer_siren, buyer_vat, buyer_id, buyer_country)
        buyer = buyers.get(buyer_key)
        if buyer is None:
            buyer = buyers[buyer_key] = Party(
                name=buyer_name,
                identifiers=(PartyId(buyer_id),) if buyer_id else (),
                legal_id=PartyId(buyer_siren, "0002") if buyer_siren else None,
                vat_id=buyer_vat or None,
                country=buyer_country or None,
            )

        means, iban, pay_ref = row[i_means].strip(), row[i_iban].strip(), row[i_pay_ref].strip()
        instructions = (
            (
                PaymentInstructions(
                    means_code=means or None, remittance_information=pay_ref or None, account_id=iban or None
                ),
            )
            if means or iban or pay_ref
            else ()
        )
        note_text = row[i_note].strip()
        document_notes: tuple[Note, ...] = ()
        if note_text:
            cached_notes = notes.get(note_text)
            if cached_notes is None:
                if note_text.startswith(_ACC_PREFIX):
                    cached_notes = (Note(note_text[len(_ACC_PREFIX) :].strip(), "ACC"),)
                else:
                    cached_notes = (Note(note_text),)
                notes[note_text] = cached_notes
            document_notes = cached_notes
        preceding = row[i_preceding].strip()

        return Invoice(
            number=number,
            issue_date=issue_date,
            type_code=type_code,
            currency=currency,
            seller=seller,
            buyer=buyer,
            totals=DocumentTotals(
                tax_exclusive=net, tax=vat, tax_inclusive=gross, prepaid=prepaid, amount_due=amount_due
            ),
            due_date=due_date,
            buyer_reference=row[i_buyer_ref].strip() or None,
            purchase_order_reference=row[i_order].strip() or None,
            payment_terms=row[i_terms].strip() or None,
            notes=document_notes,
            preceding_invoices=(preceding,) if preceding else (),
            payment_instructions=instructions,
            location=f"line {line_no}",
        )

    return read


_DATE_COLUMNS = (("issue_date", True), ("due_date", False))
_AMOUNT_COLUMNS = (
    ("total_without_vat", True),
    ("total_vat", True),
    ("total_with_vat", True),
    ("prepaid", False),
    ("amount_due", False),
)
_TEXT_COLUMNS = ("invoice_number", "type_code", "currency", "seller_siren", "seller_name", "buyer_name")


def _row_problems(row: list[str], line_no: int, layout: Layout) -> list[Issue]:
    """Everything wrong with a row the fast path refused, in column order of the layout."""

    def empty(column: str) -> bool:
        return not row[layout.index(column)].strip()

    problems = [_missing(line_no, column) for column in _TEXT_COLUMNS if empty(column)]
    if empty("buyer_siren") and empty("buyer_vat"):
        problems.append(
            Issue(
                "GW-CSV-MISSING",
                f"Line {line_no}: the buyer's SIREN (column buyer_siren) and VAT number "
                "(column buyer_vat) are both empty; one of them is needed to identify the debtor.",
                location=f"line {line_no}",
            )
        )
    for column, required in _DATE_COLUMNS:
        text = row[layout.index(column)].strip()
        if not text:
            if required:
                problems.append(_missing(line_no, column))
        elif _read_date(text) is None:
            problems.append(_date_problem(line_no, column, text))
    for column, required in _AMOUNT_COLUMNS:
        text = row[layout.index(column)].strip()
        if not text:
            if required:
                problems.append(_missing(line_no, column))
        elif _read_amount(text) is None:
            problems.append(_amount_problem(line_no, column, text))
    return problems
