"""The csv-batch layout's columns, and what the header line of a file says about them.

The header is the one place where a whole file can be refused for its shape: a
required column missing, no column identifying the debtor, a column named twice
(which value would count?). An unknown column is only a warning: clients add
their own columns, and ignoring them is harmless.
"""

from __future__ import annotations

import csv
from collections import Counter

from gateway.model import Issue, Severity

SEPARATOR = ";"

#: Column name -> how the column is named to people in messages.
COLUMN_LABELS: dict[str, str] = {
    "invoice_number": "invoice number",
    "type_code": "type code",
    "issue_date": "issue date",
    "due_date": "due date",
    "currency": "currency",
    "seller_siren": "seller's SIREN",
    "seller_name": "seller's name",
    "seller_vat": "seller's VAT number",
    "buyer_name": "buyer's name",
    "buyer_siren": "buyer's SIREN",
    "buyer_vat": "buyer's VAT number",
    "buyer_id": "buyer code",
    "buyer_country": "buyer's country",
    "total_without_vat": "total without VAT",
    "total_vat": "total VAT",
    "total_with_vat": "total with VAT",
    "prepaid": "prepaid amount",
    "amount_due": "amount due",
    "preceding_invoice": "preceding invoice",
    "purchase_order": "purchase order",
    "buyer_reference": "buyer reference",
    "payment_terms": "payment terms",
    "payment_means": "payment means code",
    "payee_iban": "payee IBAN",
    "payment_reference": "payment reference",
    "note": "note",
}

#: Columns without which no row of the file can be read.
REQUIRED_COLUMNS: tuple[str, ...] = (
    "invoice_number",
    "type_code",
    "issue_date",
    "currency",
    "seller_siren",
    "seller_name",
    "buyer_name",
    "total_without_vat",
    "total_vat",
    "total_with_vat",
)

#: At least one of these identifies the debtor (column in the header, value in each row).
BUYER_ID_COLUMNS: tuple[str, ...] = ("buyer_siren", "buyer_vat")


def header_names(line: str) -> list[str]:
    """Column names of a header line, tolerant of quoting and stray blanks."""
    fields = next(csv.reader([line], delimiter=SEPARATOR), [])
    return [name.strip() for name in fields]


class Layout:
    """Where each known column sits in the file's rows (-1 = absent, read as empty)."""

    def __init__(self, names: list[str]) -> None:
        self.width = len(names)
        self.position: dict[str, int] = {}
        for index, name in enumerate(names):
            if name in COLUMN_LABELS and name not in self.position:
                self.position[name] = index

    def index(self, column: str) -> int:
        return self.position.get(column, -1)


def check_header(names: list[str], line_no: int) -> tuple[list[Issue], list[Issue]]:
    """(fatal problems, warnings) about the header line."""
    fatal: list[Issue] = []
    warnings: list[Issue] = []
    present = set(names)
    missing = [c for c in REQUIRED_COLUMNS if c not in present]
    if missing:
        fatal.append(
            Issue(
                "GW-CSV-HEADER",
                f"The header (line {line_no}) lacks the required column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)}. See the csv-batch layout for the column names.",
                location=f"line {line_no}",
            )
        )
    if not any(c in present for c in BUYER_ID_COLUMNS):
        fatal.append(
            Issue(
                "GW-CSV-HEADER",
                f"The header (line {line_no}) has neither a buyer_siren nor a buyer_vat column: one of "
                "them is needed to identify each debtor.",
                location=f"line {line_no}",
            )
        )
    duplicates = sorted(n for n, times in Counter(names).items() if times > 1 and n in COLUMN_LABELS)
    if duplicates:
        fatal.append(
            Issue(
                "GW-CSV-HEADER",
                f"The header (line {line_no}) names the column{'s' if len(duplicates) > 1 else ''} "
                f"{', '.join(duplicates)} more than once, so it is unclear which value to use.",
                location=f"line {line_no}",
            )
        )
    unknown = [n for n in names if n and n not in COLUMN_LABELS]
    if unknown:
        shown = ", ".join(f"'{n}'" for n in unknown)
        warnings.append(
            Issue(
                "GW-CSV-COLUMN-UNKNOWN",
                (
                    f"The header (line {line_no}) names unknown columns, {shown}; they were ignored."
                    if len(unknown) > 1
                    else f"The header (line {line_no}) names an unknown column, {shown}; it was ignored."
                ),
                severity=Severity.WARNING,
                location=f"line {line_no}",
            )
        )
    return fatal, warnings
