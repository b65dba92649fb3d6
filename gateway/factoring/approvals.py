"""Split each assigned document into its guaranteed and non-guaranteed parts.

The factor guarantees a debtor's receivables up to its approval (agrément):
the guaranteed outstanding may not exceed the limit. Credit notes free up
approval, invoices consume it, and whatever does not fit is assigned as
non-guaranteed (brief §1.5–1.6, takeaway 4).

Because the split depends on the order documents consume approval, the order
is fixed here and does not depend on the order of the file: credit notes
first (by issue date, then number), then invoices by due date, issue date and
number. Worked example 1 of the brief shows why: applying the credit note
first is what leaves room for 11,200.00 of the next invoice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from gateway.model import CREDIT_NOTE_TYPE_CODES, AssignedLine, Invoice, normalise_invoice_number
from gateway.money import money_context
from gateway.settings import DebtorSettings

_ZERO = Decimal("0.00")
_NO_DUE_DATE = date.max  # an invoice without a due date (never eligible) goes last


@dataclass(frozen=True, slots=True)
class ApprovalState:
    """A debtor's approval: its limit and the guaranteed amount currently outstanding on it."""

    debtor_id: str
    limit: Decimal
    currency: str
    outstanding: Decimal


_normalised = lru_cache(maxsize=131072)(normalise_invoice_number)


def _processing_key(item: tuple[Invoice, DebtorSettings]) -> tuple[object, ...]:
    """Credit notes first, then invoices by due date; later fields only break ties,
    so that the result never depends on the order documents arrived in. Accepted
    documents are unique by (normalised number, issue date), so the key is total."""
    invoice = item[0]
    number = invoice.number
    if invoice.type_code in CREDIT_NOTE_TYPE_CODES:
        return (0, invoice.issue_date, _NO_DUE_DATE, _normalised(number), number, invoice.type_code)
    return (
        1,
        invoice.due_date or _NO_DUE_DATE,
        invoice.issue_date,
        _normalised(number),
        number,
        invoice.type_code,
    )


def split_by_approval(
    items: Sequence[tuple[Invoice, DebtorSettings]],
    approvals: Mapping[str, ApprovalState],
) -> tuple[tuple[AssignedLine, ...], dict[str, ApprovalState]]:
    """The remittance lines, numbered 1..n in processing order, and the new approval
    state of every debtor with an approval that a document touched.

    A debtor without an :class:`ApprovalState` behaves as a limit of 0 and gets
    no state back. A document in another currency than its debtor's approval
    is entirely non-guaranteed and leaves the outstanding alone (the contract
    has no exchange rule for approvals yet).

    The whole split runs in the money context, entered once per batch: every
    subtraction and addition is exact, none is rounded.
    """
    with money_context():
        lines, outstanding = _split(sorted(items, key=_processing_key), approvals)
    states = {
        debtor_id: ApprovalState(debtor_id, approvals[debtor_id].limit, approvals[debtor_id].currency, value)
        for debtor_id, value in outstanding.items()
    }
    return tuple(lines), states


def _split(
    ordered: Sequence[tuple[Invoice, DebtorSettings]], approvals: Mapping[str, ApprovalState]
) -> tuple[list[AssignedLine], dict[str, Decimal]]:
    """The lines of :func:`split_by_approval` and the outstanding amount of every debtor touched."""
    # Outstanding amounts move in a plain dict while the batch is split; the
    # frozen states are rebuilt once at the end.
    outstanding: dict[str, Decimal] = {}
    lines: list[AssignedLine] = []
    for line_no, (invoice, debtor) in enumerate(ordered, start=1):
        amount = invoice.signed_amount
        debtor_id = debtor.id
        state = approvals.get(debtor_id)
        guaranteed = _ZERO
        if state is not None:
            current = outstanding.setdefault(debtor_id, state.outstanding)
            if state.currency == invoice.currency:
                if invoice.is_credit_note:
                    freed = min(-amount, current)
                    if freed > 0:
                        guaranteed = _ZERO - freed  # keeps the cents scale of _ZERO
                        outstanding[debtor_id] = current - freed
                elif amount > 0:
                    used = min(amount, state.limit - current)
                    if used > 0:
                        guaranteed = used
                        outstanding[debtor_id] = current + used
        lines.append(
            AssignedLine(
                line_no=line_no,
                number=invoice.number,
                type_code=invoice.type_code,
                issue_date=invoice.issue_date,
                due_date=invoice.due_date,
                debtor_id=debtor_id,
                debtor_name=debtor.name,
                currency=invoice.currency,
                amount=amount,
                guaranteed=guaranteed,
                non_guaranteed=amount - guaranteed,
                preceding_invoice=invoice.preceding_invoices[0] if invoice.preceding_invoices else None,
            )
        )
    return lines, outstanding
