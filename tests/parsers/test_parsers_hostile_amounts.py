"""Any amount a file can hold yields an issue on its document, never a traceback, in every format.

Each hostile value goes into the amount due of a real sample (UBL, CII) or into one row of a
csv-batch between two good rows; ``parse`` and then ``check_document`` on whatever was read
must say what is wrong. The XSD already refuses what is not an xsd:decimal (exponents, NaN,
separators); what it lets through (30 digits, 30 decimals, ``-0.00``) is the gateway's to refuse.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import ModuleType
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.limits import DEFAULT_LIMITS
from gateway.model import Issue, ParseResult
from gateway.parsers import cii, csv_batch, ubl
from gateway.validation.document import check_document

D = Decimal
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "demo" / "batches"
UBL_SAMPLE = (SAMPLES / "acme" / "acme_F-1010.xml").read_text(encoding="utf-8")
CII_SAMPLE = (SAMPLES / "bravo" / "bravo_B-2001.xml").read_text(encoding="utf-8")
UBL_DUE = '<cbc:PayableAmount currencyID="EUR">6000.00</cbc:PayableAmount>'
CII_DUE = "<ram:DuePayableAmount>18000.00</ram:DuePayableAmount>"
XML_FORMATS = {
    "ubl": (ubl, UBL_SAMPLE, UBL_DUE, '<cbc:PayableAmount currencyID="EUR">{}</cbc:PayableAmount>'),
    "cii": (cii, CII_SAMPLE, CII_DUE, "<ram:DuePayableAmount>{}</ram:DuePayableAmount>"),
}

CSV_HEADER = (
    "invoice_number;type_code;issue_date;due_date;currency;seller_siren;seller_name;buyer_name;buyer_siren;"
    "total_without_vat;total_vat;total_with_vat"
)
CSV_ROW = (
    "{number};380;2025-03-01;2025-05-04;EUR;732829320;ACME SARL;ALPHA SA;552100554;1000.00;200.00;{gross}"
)

THIRTY_DIGITS = "123456789012345678901234567890"
#: Values no format may take as an amount, with what the XML issue must show of them.
HOSTILE = [
    THIRTY_DIGITS,
    "1" * 19,
    "1." + "0" * 30,
    "0" * 40 + "1",
    "1E3",
    "1e-2",
    "NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "1.2.3",
    "1,234.50",
    "1 234.50",
    "1'234.50",
    "1_000.00",
    "١٢٣.٠٠",
    "0x1F",
    "12.00 EUR",
    "+",
    "-",
    ".",
    "9" * 1000,
]


def xml_file(fmt: str, amount: str) -> bytes:
    _, sample, due, template = XML_FORMATS[fmt]
    assert due in sample
    return sample.replace(due, template.format(escape(amount))).encode("utf-8")


def csv_file(amount_cell: str) -> bytes:
    rows = [CSV_ROW.format(number=f"F-{n}", gross="1200.00") for n in (1, 3)]
    rows.insert(1, CSV_ROW.format(number="F-2", gross=amount_cell))
    return "\n".join([CSV_HEADER, *rows, ""]).encode("utf-8")


def all_issues(result: ParseResult) -> list[Issue]:
    """File issues, rejected rows' issues and what check_document finds: it must never raise."""
    found = list(result.issues)
    for rejected in result.rejected:
        found.extend(rejected.issues)
    for document in result.documents:
        found.extend(check_document(document))
    return found


# --------------------------------------------------------------------------- UBL and CII


@pytest.mark.parametrize("fmt", sorted(XML_FORMATS))
def test_the_samples_are_sound(fmt: str) -> None:
    parser: ModuleType = XML_FORMATS[fmt][0]
    result = parser.parse(xml_file(fmt, "6000.00" if fmt == "ubl" else "18000.00"), DEFAULT_LIMITS)
    assert len(result.documents) == 1 and all_issues(result) == []


@pytest.mark.parametrize("fmt", sorted(XML_FORMATS))
def test_a_30_digit_total_is_refused_with_its_value(fmt: str) -> None:
    """The crash of the issue: the XSD lets 30 digits through, then the totals check raised."""
    result = XML_FORMATS[fmt][0].parse(xml_file(fmt, THIRTY_DIGITS), DEFAULT_LIMITS)
    assert result.documents == () and result.file_rejected
    (issue,) = result.issues
    assert issue.code == "GW-AMOUNT-INVALID"
    assert f"'{THIRTY_DIGITS}' has 30 digits before the point; an amount has at most 18" in issue.message
    assert "amount due for payment (BT-115)" in issue.message
    assert issue.location is not None and issue.location.endswith(
        ("cbc:PayableAmount", "ram:DuePayableAmount")
    )


@pytest.mark.parametrize("amount", HOSTILE)
@pytest.mark.parametrize("fmt", sorted(XML_FORMATS))
def test_a_hostile_xml_amount_refuses_the_file_with_a_clear_issue(fmt: str, amount: str) -> None:
    result = XML_FORMATS[fmt][0].parse(xml_file(fmt, amount), DEFAULT_LIMITS)
    assert result.documents == () and result.file_rejected
    issue = result.issues[0]
    assert issue.code in {"GW-AMOUNT-INVALID", "GW-XSD-INVALID"}
    assert amount[:40] in issue.message  # the value, as written (cut when long)
    assert "Traceback" not in issue.message


@pytest.mark.parametrize("fmt", sorted(XML_FORMATS))
def test_minus_zero_reads_as_zero_and_the_totals_say_what_is_wrong(fmt: str) -> None:
    result = XML_FORMATS[fmt][0].parse(xml_file(fmt, "-0.00"), DEFAULT_LIMITS)
    (document,) = result.documents
    due = document.totals.amount_due
    assert due == 0 and due is not None and not due.is_signed() and str(due) == "0.00"
    assert [i.code for i in all_issues(result)] == ["BR-CO-16"]


@pytest.mark.parametrize(
    ("amount", "codes"),
    [
        ("99999999999999999.99", {"BR-CO-16", "GW-AMOUNT-TOO-LARGE"}),
        ("999999999999999999.999999999999999999", {"BR-CO-16", "BR-DEC-18", "GW-AMOUNT-TOO-LARGE"}),
        ("0.000000000000000001", {"BR-CO-16", "BR-DEC-18"}),
    ],
)
@pytest.mark.parametrize("fmt", sorted(XML_FORMATS))
def test_the_widest_amounts_a_parser_reads_are_checked_without_crashing(
    fmt: str, amount: str, codes: set[str]
) -> None:
    result = XML_FORMATS[fmt][0].parse(xml_file(fmt, amount), DEFAULT_LIMITS)
    (document,) = result.documents
    assert document.totals.amount_due == D(amount)
    assert {i.code for i in all_issues(result)} == codes


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(XML_FORMATS)), st.text(max_size=80))
def test_any_text_in_an_xml_amount_never_raises(fmt: str, amount: str) -> None:
    result = XML_FORMATS[fmt][0].parse(xml_file(fmt, amount), DEFAULT_LIMITS)
    found = all_issues(result)
    for document in result.documents:  # read: then it is a plain decimal within the caps
        due = document.totals.amount_due
        assert due is None or (due.is_finite() and not (due == 0 and due.is_signed()))
    assert result.documents or any(issue.is_fatal for issue in found)


# --------------------------------------------------------------------------- csv-batch


@pytest.mark.parametrize("amount", HOSTILE)
def test_a_hostile_csv_amount_refuses_its_row_only(amount: str) -> None:
    result = csv_batch.parse(csv_file(amount), DEFAULT_LIMITS)
    assert [d.number for d in result.documents] == ["F-1", "F-3"]
    assert all_issues(result) == [*result.rejected[0].issues]
    (rejected,) = result.rejected
    assert (rejected.number, rejected.location) == ("F-2", "line 3")
    (issue,) = rejected.issues
    if len(amount) > 1000:
        assert issue.code == "GW-LIMIT-EXCEEDED"  # the cell is longer than a value may be
        return
    assert issue.code == "GW-CSV-VALUE" and issue.location == "line 3"
    assert issue.message.startswith(f"Line 3: the total with VAT '{amount.strip()[:40]}")


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        (THIRTY_DIGITS, "has 30 digits before the point; an amount has at most 15"),
        ("1234567890123456.00", "has 16 digits before the point; an amount has at most 15"),
        ("1200.005", "has 3 decimals; an amount has at most 2 (the gateway never rounds an amount)"),
        ("1E3", "is written with an exponent"),
        ("NaN", "is not a number"),
        ("1 234.50", "no thousands separator"),
        ("1.2.3", "has more than one point"),
        ("+1200.00", "starts with '+'"),
        (".50", "needs digits on both sides of the point"),
    ],
)
def test_a_csv_amount_problem_says_why_in_the_words_of_every_format(amount: str, reason: str) -> None:
    (rejected,) = csv_batch.parse(csv_file(amount), DEFAULT_LIMITS).rejected
    (issue,) = rejected.issues
    assert issue.message.startswith(f"Line 3: the total with VAT '{amount}' ")
    assert reason in issue.message and issue.message.endswith(".")


@pytest.mark.parametrize("amount", ["", "   "])
def test_an_empty_csv_amount_is_missing(amount: str) -> None:
    (rejected,) = csv_batch.parse(csv_file(amount), DEFAULT_LIMITS).rejected
    assert [i.code for i in rejected.issues] == ["GW-CSV-MISSING"]


@pytest.mark.parametrize("amount", ["-0.00", "-0", "-0.0"])
def test_minus_zero_in_a_csv_reads_as_zero(amount: str) -> None:
    result = csv_batch.parse(csv_file(amount), DEFAULT_LIMITS)
    second = result.documents[1]
    gross = second.totals.tax_inclusive
    assert gross is not None and str(gross) == "0.00" and not gross.is_signed()
    assert [i.code for i in all_issues(result)] == ["BR-CO-15"]  # amount_due follows the total


def test_optional_csv_amounts_are_read_the_same_way() -> None:
    header = CSV_HEADER + ";prepaid;amount_due"
    rows = [
        CSV_ROW.format(number="F-1", gross="1200.00") + ";200.00;",
        CSV_ROW.format(number="F-2", gross="1200.00") + ";NaN;1E3",
        CSV_ROW.format(number="F-3", gross="1200.00") + ";-0.00;1200",
    ]
    result = csv_batch.parse("\n".join([header, *rows]).encode(), DEFAULT_LIMITS)
    first, third = result.documents
    assert first.totals.amount_due == D("1000.00")  # the layout's rule: total with VAT - prepaid
    assert third.totals.prepaid is not None and str(third.totals.prepaid) == "0.00"
    assert str(third.totals.amount_due) == "1200.00"
    (rejected,) = result.rejected
    assert [i.message for i in rejected.issues] == [
        "Line 3: the prepaid amount 'NaN' is not a number, so it cannot be an amount.",
        "Line 3: the amount due '1E3' is written with an exponent; write the amount in full, for example "
        "1000.00.",
    ]


def csv_cell(text: str) -> str:
    """``text`` as one quoted CSV cell, whatever it holds."""
    return '"' + text.replace('"', '""') + '"'


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80), st.sampled_from(["total_without_vat", "total_vat", "total_with_vat"]))
def test_any_text_in_a_csv_amount_never_raises_and_spares_the_other_rows(text: str, column: str) -> None:
    row = CSV_ROW.format(number="F-2", gross="1200.00").split(";")
    row[CSV_HEADER.split(";").index(column)] = csv_cell(text)
    lines = [CSV_HEADER, CSV_ROW.format(number="F-1", gross="1200.00"), ";".join(row)]
    lines.append(CSV_ROW.format(number="F-3", gross="1200.00"))
    result = csv_batch.parse("\n".join(lines).encode("utf-8"), DEFAULT_LIMITS)
    found = all_issues(result)  # check_document on every row read: it never raises
    if result.file_rejected:  # a character the csv module refuses: the file says so
        assert result.issues
        return
    by_number = {d.number: d for d in result.documents}
    assert "F-1" in by_number and "F-3" in by_number
    if "F-2" in by_number:  # the text was an amount: read exactly, at the cents scale, never -0.00
        totals = by_number["F-2"].totals
        amount = {"total_without_vat": totals.tax_exclusive, "total_vat": totals.tax}.get(
            column, totals.amount_due
        )
        assert amount is not None and amount.as_tuple().exponent == -2
        assert not (amount == 0 and amount.is_signed())
    else:
        (rejected,) = result.rejected
        assert rejected.issues[0].code in {"GW-CSV-VALUE", "GW-CSV-MISSING"}
    assert all(issue.message for issue in found)
