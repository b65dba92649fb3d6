"""The built-in CSV batch layout (``csv-batch``), as docs/csv-batch-layout.md describes it.

The parser only *reads*: it turns each row into an :class:`~gateway.model.Invoice`
or, when a value cannot be read at all (a date that is not a date, an amount
that is not a number, a required cell left empty), into a
:class:`~gateway.model.RejectedRecord` naming the line. Whether what it read is
acceptable (a valid SIREN, a supported type code, totals that add up) is the
job of :mod:`gateway.validation.document` and the factoring rules, so that the
same checks apply to every format.

A batch may hold 100,000 rows, so the row loop is written for speed: column
positions are resolved once from the header, parties that repeat (the seller on
every row, each debtor on many) are built once and shared, and dates and
amounts are parsed through small caches keyed by their text.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from functools import lru_cache

from gateway.limits import Limits
from gateway.model import (
    CENT,
    DocumentTotals,
    Invoice,
    Issue,
    Note,
    ParseResult,
    Party,
    PartyId,
    PaymentInstructions,
    RejectedRecord,
    Severity,
)

FORMAT = "csv-batch"

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

_ACC_PREFIX = "#ACC#"
#: What the layout calls an amount: ASCII digits, a point, at most 2 decimals (and at most
#: 15 integer digits, far above any invoice, so that Decimal arithmetic stays exact).
_AMOUNT_SYNTAX = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,2})?")
_NUMBER_SYNTAX = re.compile(r"-?[0-9]+(?:\.([0-9]+))?")


# --------------------------------------------------------------------------- sniffing


def _header_names(line: str) -> list[str]:
    """Column names of a header line, tolerant of quoting and stray blanks."""
    fields = next(csv.reader([line], delimiter=SEPARATOR), [])
    return [name.strip() for name in fields]


def sniff(head: bytes, name: str) -> bool:
    """True when the first line is a ``;`` header naming ``invoice_number`` and ``type_code``.

    The file name is deliberately ignored: clients name their exports anything.

    >>> sniff(b"invoice_number;type_code;issue_date\\r\\nF-1;380;2025-03-01", "x.csv")
    True
    >>> sniff(b"<?xml version='1.0'?><Invoice/>", "x.xml")
    False
    """
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    first_line = head.split(b"\n", 1)[0].rstrip(b"\r")
    if SEPARATOR.encode() not in first_line:
        return False
    # The head may end in the middle of a multi-byte character: ignore that tail only.
    names = set(_header_names(first_line.decode("utf-8", errors="ignore")))
    return "invoice_number" in names and "type_code" in names


# --------------------------------------------------------------------------- value readers


@lru_cache(maxsize=8192)
def _read_date(text: str) -> date | None:
    """``YYYY-MM-DD`` only; ``fromisoformat`` alone would also take ``20250301`` or ``2025-W10``."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _read_amount(text: str) -> Decimal | None:
    """The amount, or None when it is not one the layout allows (see :func:`_amount_problem`).

    Not cached: amounts are nearly all distinct, so a cache would only add cost.
    """
    if _AMOUNT_SYNTAX.fullmatch(text) is None:
        return None
    if len(text) > 3 and text[-3] == ".":
        return Decimal(text)
    # At most two decimals (the syntax says so), so quantize only fixes the scale, never rounds.
    return Decimal(text).quantize(CENT)


def _date_problem(line_no: int, column: str, text: str) -> Issue:
    return Issue(
        "GW-CSV-VALUE",
        f"Line {line_no}: the {COLUMN_LABELS[column]} '{text}' is not a date in the form YYYY-MM-DD.",
        location=f"line {line_no}",
    )


def _amount_problem(line_no: int, column: str, text: str) -> Issue:
    label = COLUMN_LABELS[column]
    number = _NUMBER_SYNTAX.fullmatch(text)
    decimals = len(number.group(1) or "") if number else 0
    if decimals > 2:
        message = (
            f"Line {line_no}: the {label} '{text}' has {decimals} decimals; amounts may have at most 2 "
            "(the gateway never rounds an amount)."
        )
    elif number is not None:
        message = f"Line {line_no}: the {label} '{text}' has too many digits to be an amount."
    else:
        message = (
            f"Line {line_no}: the {label} '{text}' is not an amount: write it with a point as the decimal "
            "separator and no thousands separator, for example 1234.50."
        )
    return Issue("GW-CSV-VALUE", message, location=f"line {line_no}")


def _missing(line_no: int, column: str) -> Issue:
    return Issue(
        "GW-CSV-MISSING",
        f"Line {line_no}: the {COLUMN_LABELS[column]} (column {column}) is empty.",
        location=f"line {line_no}",
    )


# --------------------------------------------------------------------------- decoding


def _decode(data: bytes) -> tuple[str | None, Issue | None]:
    """The text of the file, or an issue saying where it stops being UTF-8."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as err:
        line_no = data.count(b"\n", 0, err.start) + 1
        line_start = data.rfind(b"\n", 0, err.start) + 1
        column = err.start - line_start + 1
        bad = data[err.start : err.start + 1].hex().upper()
        return None, Issue(
            "GW-CSV-ENCODING",
            f"The file is not UTF-8: on line {line_no}, byte {column} of the line (0x{bad}) is not valid "
            'UTF-8. Export the file as UTF-8 (Excel: "CSV UTF-8").',
            location=f"line {line_no}",
        )


# --------------------------------------------------------------------------- header


class _Layout:
    """Where each known column sits in the file's rows (-1 = absent, read as empty)."""

    def __init__(self, names: list[str]) -> None:
        self.width = len(names)
        self.position: dict[str, int] = {}
        for index, name in enumerate(names):
            if name in COLUMN_LABELS and name not in self.position:
                self.position[name] = index

    def index(self, column: str) -> int:
        return self.position.get(column, -1)


def _check_header(names: list[str], line_no: int) -> tuple[list[Issue], list[Issue]]:
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


# --------------------------------------------------------------------------- rows


RowReader = Callable[[list[str], int], Invoice | RejectedRecord]


def _row_reader(layout: _Layout) -> RowReader:
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
    is_amount = _AMOUNT_SYNTAX.fullmatch
    to_decimal = Decimal

    def read(row: list[str], line_no: int) -> Invoice | RejectedRecord:
        number = row[i_number].strip()
        type_code = row[i_type].strip()
        currency = row[i_currency].strip()
        issue_date = read_date(row[i_issue].strip())
        due_text = row[i_due].strip()
        due_date = read_date(due_text) if due_text else None
        # Amounts written with exactly two decimals (nearly all) take the inlined path.
        text = row[i_net].strip()
        net = to_decimal(text) if text[-3:-2] == "." and is_amount(text) else read_amount(text)
        text = row[i_vat].strip()
        vat = to_decimal(text) if text[-3:-2] == "." and is_amount(text) else read_amount(text)
        text = row[i_gross].strip()
        gross = to_decimal(text) if text[-3:-2] == "." and is_amount(text) else read_amount(text)
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
            amount_due = gross - prepaid if prepaid is not None else gross

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


def _row_problems(row: list[str], line_no: int, layout: _Layout) -> list[Issue]:
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


def _limit_problem(line_no: int, what: str) -> Issue:
    return Issue("GW-LIMIT-EXCEEDED", f"Line {line_no}: {what}", location=f"line {line_no}")


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line number, cells) for every non-empty record.

    A quoted cell may span lines, so a record's number is the line it starts on.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=SEPARATOR, quotechar='"', strict=False)
    previous_end = 0
    for cells in reader:
        start = previous_end + 1
        previous_end = reader.line_num
        if not cells or (not cells[0] and not "".join(cells).strip()):
            continue  # an empty line, or one of bare separators as spreadsheets leave at the end
        yield start, cells


# --------------------------------------------------------------------------- parse


def parse(data: bytes, limits: Limits) -> ParseResult:
    """Read a csv-batch file; bad rows are rejected one by one, a bad header rejects the file."""
    text, encoding_issue = _decode(data)
    if text is None:
        assert encoding_issue is not None
        return ParseResult(format=FORMAT, issues=(encoding_issue,))

    records = _records(text)
    file_issues: list[Issue] = []
    try:
        header = next(records, None)
    except csv.Error as err:
        return ParseResult(format=FORMAT, issues=(_csv_error(1, err),))
    if header is None:
        return ParseResult(
            format=FORMAT,
            issues=(Issue("GW-CSV-HEADER", "The file has no header line and no rows.", location="line 1"),),
        )
    header_line, header_cells = header
    names = [name.strip() for name in header_cells]
    fatal, warnings = _check_header(names, header_line)
    if fatal:
        return ParseResult(format=FORMAT, issues=tuple(fatal + warnings))
    file_issues.extend(warnings)

    layout = _Layout(names)
    read_row = _row_reader(layout)
    width = layout.width
    max_field = limits.max_field_chars
    max_line = limits.max_line_chars
    max_documents = limits.max_documents_per_file
    max_rejected = limits.max_issues_per_file

    documents: list[Invoice] = []
    rejected: list[RejectedRecord] = []
    count = 0
    line_no = header_line
    try:
        for line_no, cells in records:
            count += 1
            if count > max_documents:
                return _refused(
                    Issue(
                        "GW-LIMIT-EXCEEDED",
                        f"The file holds more than {max_documents:,} documents, the most one file may hold; "
                        "split it into several files.",
                        location=f"line {line_no}",
                    ),
                    file_issues,
                    rejected,
                )
            longest = max(map(len, cells))
            refusal = None
            if len(cells) != width or longest > max_field or longest * width > max_line:
                refusal = _shape_problem(cells, line_no, width, max_field, max_line)
            if refusal is None:
                cells.append("")  # what an absent optional column (index -1) reads
                outcome = read_row(cells, line_no)
                if type(outcome) is Invoice:
                    documents.append(outcome)
                    continue
                assert isinstance(outcome, RejectedRecord)
                refusal = outcome
            rejected.append(refusal)
            if len(rejected) > max_rejected:
                return _refused(
                    Issue(
                        "GW-LIMIT-EXCEEDED",
                        f"More than {max_rejected:,} rows of the file cannot be read (the last at line "
                        f"{line_no}); the file was not read further. Check that it follows the csv-batch "
                        "layout.",
                        location=f"line {line_no}",
                    ),
                    file_issues,
                    rejected[:max_rejected],
                )
    except csv.Error as err:
        return _refused(_csv_error(line_no + 1, err), file_issues, rejected)

    return ParseResult(
        format=FORMAT, documents=tuple(documents), rejected=tuple(rejected), issues=tuple(file_issues)
    )


def _shape_problem(
    cells: list[str], line_no: int, width: int, max_field: int, max_line: int
) -> RejectedRecord | None:
    """Why a record cannot even be read as a row (too long, wrong number of cells), if it cannot."""
    longest = max(map(len, cells))
    if longest > max_field:
        cell = next(c for c in cells if len(c) == longest)
        hint = ' (a quote " opening it may lack its closing quote)' if "\n" in cell else ""
        return RejectedRecord(
            location=f"line {line_no}",
            issues=(
                _limit_problem(
                    line_no, f"a value is {longest:,} characters long{hint}, the limit {max_field:,}."
                ),
            ),
        )
    length = sum(map(len, cells)) + len(cells) - 1
    if length > max_line:
        return RejectedRecord(
            location=f"line {line_no}",
            issues=(
                _limit_problem(line_no, f"the line is {length:,} characters long, the limit {max_line:,}."),
            ),
        )
    if len(cells) != width:
        return RejectedRecord(
            location=f"line {line_no}",
            issues=(
                Issue(
                    "GW-CSV-VALUE",
                    f"Line {line_no} has {len(cells)} values but the header names {width} columns; "
                    "a separator ';' is probably missing or extra (quote values that contain ';').",
                    location=f"line {line_no}",
                ),
            ),
        )
    return None


def _csv_error(line_no: int, err: csv.Error) -> Issue:
    if "field larger than field limit" in str(err):
        return Issue(
            "GW-LIMIT-EXCEEDED",
            f'Near line {line_no}, a value is too long to be a CSV cell (an opening quote " may lack its '
            "closing quote); the file was not read further.",
            location=f"line {line_no}",
        )
    return Issue(
        "GW-CSV-VALUE",
        f"Near line {line_no}, the file is not valid CSV ({err}); the file was not read further.",
        location=f"line {line_no}",
    )


def _refused(reason: Issue, file_issues: list[Issue], rejected: list[RejectedRecord]) -> ParseResult:
    """A result rejecting the whole file: no document of it goes further."""
    return ParseResult(format=FORMAT, rejected=tuple(rejected), issues=(*file_issues, reason))
