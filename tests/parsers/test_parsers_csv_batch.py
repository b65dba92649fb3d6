"""The csv-batch parser against docs/csv-batch-layout.md."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.limits import DEFAULT_LIMITS, Limits
from gateway.model import Note, ParseResult, PartyId, PaymentInstructions, Severity
from gateway.parsers import csv_batch

D = Decimal
HEADER = (
    "invoice_number;type_code;issue_date;due_date;currency;seller_siren;seller_name;buyer_name;buyer_siren;"
    "total_without_vat;total_vat;total_with_vat"
)
F1001 = (
    "F-1001;380;2025-03-01;2025-05-04;EUR;732829320;ACME SARL;ALPHA SA;552100554;10000.00;2000.00;12000.00"
)
AV0007 = "AV-0007;381;2025-03-02;;EUR;732829320;ACME SARL;ALPHA SA;552100554;1000.00;200.00;1200.00"


def parse(text: str, limits: Limits = DEFAULT_LIMITS, *, bom: bool = False) -> ParseResult:
    data = text.encode("utf-8")
    return csv_batch.parse(b"\xef\xbb\xbf" + data if bom else data, limits)


def test_the_documented_example() -> None:
    result = parse(f"{HEADER}\n{F1001}\n{AV0007}\n")
    assert result.format == "csv-batch"
    assert result.issues == () and result.rejected == ()
    invoice, credit_note = result.documents
    assert (invoice.number, invoice.type_code, invoice.currency) == ("F-1001", "380", "EUR")
    assert (invoice.issue_date, invoice.due_date) == (date(2025, 3, 1), date(2025, 5, 4))
    assert invoice.seller.name == "ACME SARL"
    assert invoice.seller.legal_id == PartyId("732829320", "0002")
    assert invoice.buyer.name == "ALPHA SA"
    assert invoice.buyer.legal_id == PartyId("552100554", "0002")
    assert invoice.buyer.identifiers == ()
    totals = invoice.totals
    assert (totals.tax_exclusive, totals.tax, totals.tax_inclusive) == (
        D("10000.00"),
        D("2000.00"),
        D("12000.00"),
    )
    assert totals.amount_due == D("12000.00")
    assert invoice.location == "line 2"
    assert credit_note.is_credit_note and credit_note.due_date is None
    assert credit_note.signed_amount == D("-1200.00")
    assert credit_note.location == "line 3"


def test_every_optional_column_reaches_the_model() -> None:
    header = (
        "note;payment_reference;payee_iban;payment_means;payment_terms;buyer_reference;purchase_order;"
        "preceding_invoice;amount_due;prepaid;buyer_country;buyer_id;buyer_vat;seller_vat;" + HEADER
    )
    row = (
        "#ACC# Créance cédée à FACTOR SA;RF18539007547034;FR7630006000011234567890189;58;30 jours;BR-1;PO-9;"
        "F-0950;;200.00;FR;C-0042;FR96552100554;FR44732829320;" + AV0007
    )
    (doc,) = parse(f"{header}\n{row}\n").documents
    assert doc.notes == (Note("Créance cédée à FACTOR SA", "ACC"),)
    assert doc.payment_instructions == (
        PaymentInstructions(
            means_code="58",
            remittance_information="RF18539007547034",
            account_id="FR7630006000011234567890189",
        ),
    )
    assert (doc.payment_terms, doc.buyer_reference, doc.purchase_order_reference) == (
        "30 jours",
        "BR-1",
        "PO-9",
    )
    assert doc.preceding_invoices == ("F-0950",)
    assert doc.totals.prepaid == D("200.00")
    assert doc.totals.amount_due == D("1000.00")  # empty amount_due: total_with_vat - prepaid
    assert doc.buyer.identifiers == (PartyId("C-0042"),)
    assert (doc.buyer.vat_id, doc.buyer.country, doc.seller.vat_id) == (
        "FR96552100554",
        "FR",
        "FR44732829320",
    )


def test_plain_note_and_explicit_amount_due() -> None:
    (doc,) = parse(f"{HEADER};note;amount_due\n{F1001};merci;11000.00\n").documents
    assert doc.notes == (Note("merci"),)
    assert doc.totals.amount_due == D("11000.00")


def test_bom_and_crlf() -> None:
    result = parse(f"{HEADER}\r\n{F1001}\r\n{AV0007}\r\n", bom=True)
    assert [d.number for d in result.documents] == ["F-1001", "AV-0007"]
    assert result.documents[0].totals.tax_inclusive == D("12000.00")  # no '\r' left on the last cell
    assert result.issues == ()


def test_quoted_fields_with_separator_quote_and_line_break() -> None:
    row = F1001.replace("ALPHA SA", '"ALPHA; ""LES ÉDITIONS""\nSA"')
    result = parse(f"{HEADER}\n{row}\n{AV0007}\n")
    first, second = result.documents
    assert first.buyer.name == 'ALPHA; "LES ÉDITIONS"\nSA'
    assert first.location == "line 2"
    assert second.location == "line 4"  # the quoted line break took line 3


def test_empty_lines_and_blank_cells_are_tolerated() -> None:
    spaced = (
        " F-1001 ; 380 ;2025-03-01;2025-05-04; EUR;732829320;ACME SARL ;ALPHA SA;552100554;"
        " 10000.00;2000.00;12000.00 "
    )
    result = parse(f"{HEADER}\n\n{spaced}\n;;;;;;;;;;;\n\n{AV0007}\n\n")
    assert result.rejected == ()
    first, second = result.documents
    assert (first.number, first.type_code, first.currency, first.seller.name) == (
        "F-1001",
        "380",
        "EUR",
        "ACME SARL",
    )
    assert first.totals.tax_exclusive == D("10000.00")
    assert second.location == "line 6"


def test_bad_rows_are_rejected_with_their_line_while_others_parse() -> None:
    bad_date = F1001.replace("2025-05-04", "31/02/2025").replace("F-1001", "F-1007")
    bad_amount = AV0007.replace("1200.00", "1 200,00")
    result = parse(f"{HEADER}\n{F1001}\n{bad_date}\n{bad_amount}\n{AV0007}\n")
    assert [d.location for d in result.documents] == ["line 2", "line 5"]
    first, second = result.rejected
    assert (first.location, first.number) == ("line 3", "F-1007")
    (issue,) = first.issues
    assert issue.code == "GW-CSV-VALUE"
    assert issue.message == "Line 3: the due date '31/02/2025' is not a date in the form YYYY-MM-DD."
    assert issue.location == "line 3"
    (issue,) = second.issues
    assert (
        issue.code == "GW-CSV-VALUE"
        and "Line 4: the total with VAT '1 200,00' is not an amount" in issue.message
    )
    assert result.issues == ()


def test_dates_must_be_exactly_yyyy_mm_dd() -> None:
    for text in ("20250301", "2025-3-1", "2025-W10-1", "2025-02-30", "2025-03-01T00:00"):
        (rejected,) = parse(f"{HEADER}\n{F1001.replace('2025-03-01', text)}\n").rejected
        assert [i.code for i in rejected.issues] == ["GW-CSV-VALUE"], text


def test_three_decimals_are_refused_not_rounded() -> None:
    (rejected,) = parse(f"{HEADER}\n{F1001.replace(';2000.00;', ';2000.005;')}\n").rejected
    (issue,) = rejected.issues
    assert issue.code == "GW-CSV-VALUE"
    assert "'2000.005' has 3 decimals" in issue.message and "at most 2" in issue.message


def test_amounts_are_plain_decimal_numbers() -> None:
    for text in ("1e3", "NaN", "1_000.00", "+5.00", ".50", "5.", "١٢٣", "12.00 EUR", "Infinity"):
        result = parse(f"{HEADER}\n{F1001.replace(';2000.00;', f';{text};')}\n")
        assert result.documents == (), text
        assert result.rejected[0].issues[0].code == "GW-CSV-VALUE", text
    (doc,) = parse(f"{HEADER}\n{F1001.replace(';2000.00;', ';2000.5;')}\n").documents
    assert str(doc.totals.tax) == "2000.50"


def test_missing_required_values_are_all_named() -> None:
    row = ";380;2025-03-01;2025-05-04;EUR;732829320;ACME SARL;;;10000.00;;12000.00"
    (rejected,) = parse(f"{HEADER}\n{row}\n").rejected
    assert rejected.number is None
    assert [i.code for i in rejected.issues] == ["GW-CSV-MISSING"] * 4
    text = " ".join(i.message for i in rejected.issues)
    assert "invoice number (column invoice_number)" in text
    assert "buyer's name (column buyer_name)" in text
    assert "buyer_siren" in text and "buyer_vat" in text
    assert "total VAT (column total_vat)" in text


def test_buyer_vat_alone_identifies_the_debtor() -> None:
    header = HEADER.replace("buyer_siren", "buyer_vat")
    row = F1001.replace("552100554", "FR96552100554")
    (doc,) = parse(f"{header}\n{row}\n").documents
    assert doc.buyer.legal_id is None and doc.buyer.vat_id == "FR96552100554"


def test_wrong_number_of_values() -> None:
    result = parse(f"{HEADER}\n{F1001};extra\n{AV0007.rsplit(';', 1)[0]}\n")
    assert [r.location for r in result.rejected] == ["line 2", "line 3"]
    assert all(r.issues[0].code == "GW-CSV-VALUE" for r in result.rejected)
    assert "13 values but the header names 12 columns" in result.rejected[0].issues[0].message


def test_header_missing_columns_rejects_the_file() -> None:
    header = HEADER.replace(";currency", "").replace(";total_vat", "")
    result = parse(f"{header}\n")
    assert result.file_rejected and result.documents == ()
    (issue,) = result.issues
    assert issue.code == "GW-CSV-HEADER"
    assert "currency, total_vat" in issue.message


def test_header_needs_a_buyer_identifier_column() -> None:
    result = parse(HEADER.replace(";buyer_siren", "") + "\n")
    assert [i.code for i in result.issues] == ["GW-CSV-HEADER"]
    assert "buyer_siren" in result.issues[0].message and "buyer_vat" in result.issues[0].message


def test_header_duplicate_column() -> None:
    result = parse(HEADER + ";currency\n")
    assert result.file_rejected and "currency" in result.issues[0].message


def test_unknown_columns_are_a_warning() -> None:
    result = parse(f"{HEADER};colour\n{F1001};blue\n")
    (issue,) = result.issues
    assert (
        issue.code == "GW-CSV-COLUMN-UNKNOWN"
        and issue.severity is Severity.WARNING
        and "'colour'" in issue.message
    )
    assert not result.file_rejected and len(result.documents) == 1


def test_empty_file_and_header_only() -> None:
    assert parse("").file_rejected
    header_only = parse(HEADER + "\n")
    assert not header_only.file_rejected and header_only.documents == () and header_only.rejected == ()


def test_not_utf8_names_line_and_byte() -> None:
    data = f"{HEADER}\n{F1001}\n".encode() + "AV-0007;381;2025-03-02;;EUR;732829320;SOCIÉTÉ".encode("cp1252")
    result = csv_batch.parse(data, DEFAULT_LIMITS)
    (issue,) = result.issues
    assert issue.code == "GW-CSV-ENCODING" and issue.is_fatal
    assert "line 3" in issue.message and "0xC9" in issue.message
    assert issue.location == "line 3"


def test_field_and_line_limits_reject_the_row() -> None:
    limits = Limits(max_field_chars=20, max_line_chars=120)
    long_name = F1001.replace("ALPHA SA", "A" * 21)
    result = parse(f"{HEADER}\n{long_name}\n{AV0007}\n", limits)
    assert [d.number for d in result.documents] == ["AV-0007"]
    (rejected,) = result.rejected
    assert rejected.issues[0].code == "GW-LIMIT-EXCEEDED" and "21 characters" in rejected.issues[0].message
    many = parse(
        f"{HEADER}\n{F1001.replace('ALPHA SA', 'A' * 20)}\n", Limits(max_field_chars=20, max_line_chars=100)
    )
    assert (
        many.rejected[0].issues[0].code == "GW-LIMIT-EXCEEDED"
        and "the line is" in many.rejected[0].issues[0].message
    )


def test_a_runaway_quote_stops_the_file() -> None:
    row = F1001.replace("ALPHA SA", '"ALPHA SA')
    result = parse(f"{HEADER}\n{row}\n" + (AV0007 + "\n") * 20, Limits(max_field_chars=50))
    assert result.documents == ()
    (issue,) = result.rejected[0].issues
    assert issue.code == "GW-LIMIT-EXCEEDED" and "closing quote" in issue.message


def test_too_many_documents_rejects_the_file() -> None:
    result = parse(f"{HEADER}\n{F1001}\n{AV0007}\n{F1001}\n", Limits(max_documents_per_file=2))
    assert result.file_rejected and result.documents == ()
    assert (
        result.issues[-1].code == "GW-LIMIT-EXCEEDED" and "more than 2 documents" in result.issues[-1].message
    )


def test_too_many_unreadable_rows_rejects_the_file() -> None:
    bad = F1001.replace("2025-03-01", "01/03/2025")
    result = parse(HEADER + "\n" + "\n".join([bad] * 5) + "\n", Limits(max_issues_per_file=3))
    assert result.file_rejected and result.documents == ()
    assert len(result.rejected) == 3
    assert result.issues[-1].code == "GW-LIMIT-EXCEEDED" and "line 5" in result.issues[-1].message


def test_sniff() -> None:
    assert csv_batch.sniff(f"{HEADER}\r\n{F1001}".encode(), "batch.txt")
    assert csv_batch.sniff(b"\xef\xbb\xbf" + HEADER.encode(), "x")
    assert csv_batch.sniff(b'"invoice_number";"type_code"\n', "x")
    assert csv_batch.sniff(b"type_code;invoice_number", "x")
    assert not csv_batch.sniff(b"invoice_number,type_code,issue_date\n", "x.csv")
    assert not csv_batch.sniff(b"number;type\ninvoice_number;type_code\n", "x.csv")
    assert not csv_batch.sniff(b'<?xml version="1.0"?><Invoice/>', "x.xml")
    assert not csv_batch.sniff(b"", "x")
    # A head cut inside a multi-byte character still sniffs.
    assert csv_batch.sniff(HEADER.encode() + ";é".encode()[:-1], "x")


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1),
    st.sampled_from([0, 1, 2]),
)
def test_amounts_round_trip_exactly(units: int, decimals: int) -> None:
    amount = D(units).scaleb(-decimals)
    text = f"{amount:f}"
    (doc,) = parse(f"{HEADER}\n{F1001.replace('10000.00', text)}\n").documents
    assert doc.totals.tax_exclusive == amount
    assert doc.totals.tax_exclusive is not None and doc.totals.tax_exclusive.as_tuple().exponent == -2


def test_a_runaway_quote_in_a_big_file_rejects_the_file() -> None:
    row = F1001.replace("ALPHA SA", '"ALPHA SA')
    result = parse(f"{HEADER}\n{F1001}\n{row}\n" + (AV0007 + "\n") * 2000)
    assert result.file_rejected and result.documents == ()
    issue = result.issues[-1]
    assert issue.code == "GW-LIMIT-EXCEEDED" and "closing quote" in issue.message
