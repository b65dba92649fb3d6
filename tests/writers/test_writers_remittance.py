"""The remittance writer: exact bytes for worked example 1, control sums, fail-closed
checks, spreadsheet safety, determinism and a CSV round trip."""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from gateway.errors import DeliveryError
from gateway.model import AssignedLine, CurrencyTotals, Remittance
from gateway.writers import remittance as writer
from gateway.writers.csv_cells import original_text

GOLDEN_CSV = (
    "\ufeff"
    "record;line_no;document_type;type_code;number;issue_date;due_date;debtor_id;debtor_name;currency;"
    "amount;guaranteed;non_guaranteed;preceding_invoice\r\n"
    "H;factoring-gateway/remittance;1;ACME;42;2025-03-10;batch-2025-03-10.csv;7;4;1;;;;\r\n"
    "D;1;credit_note;381;AV-0007;2025-03-02;;ALPHA;ALPHA SA;EUR;-1200.00;-1200.00;0.00;F-0950\r\n"
    "D;2;invoice;380;F-1001;2025-03-01;2025-05-04;ALPHA;ALPHA SA;EUR;12000.00;11200.00;800.00;\r\n"
    "D;3;invoice;380;F-1002;2025-03-03;2025-04-30;BETA;BETA SAS;EUR;24000.00;24000.00;0.00;\r\n"
    "D;4;invoice;380;F-1003;2025-03-05;2025-06-05;GAMMA;GAMMA SARL;EUR;6000.00;0.00;6000.00;\r\n"
    "T;EUR;3;42000.00;1;-1200.00;4;40800.00;34000.00;6800.00;;;;\r\n"
).encode()


def _rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_writers_remittance_csv_golden_bytes(remittance: Remittance) -> None:
    assert writer.write(remittance, "csv") == GOLDEN_CSV


def test_writers_remittance_trailer_holds_the_worked_example_totals(remittance: Remittance) -> None:
    (trailer,) = [row for row in _rows(writer.write(remittance, "csv")) if row[0] == "T"]
    currency, invoices, invoice_total, credits, credit_total, lines, net, guaranteed, non_guaranteed = (
        trailer[1:10]
    )
    assert (currency, invoices, credits, lines) == ("EUR", "3", "1", "4")
    assert Decimal(invoice_total) == Decimal("42000.00")
    assert Decimal(credit_total) == Decimal("-1200.00")
    assert Decimal(net) == Decimal("40800.00")
    assert Decimal(guaranteed) == Decimal("34000.00")
    assert Decimal(non_guaranteed) == Decimal("6800.00")


def test_writers_remittance_json_content(remittance: Remittance) -> None:
    document = json.loads(writer.write(remittance, "json"))
    assert {k: document[k] for k in ("format", "version", "client_id", "number", "business_date")} == {
        "format": "factoring-gateway/remittance",
        "version": 1,
        "client_id": "ACME",
        "number": 42,
        "business_date": "2025-03-10",
    }
    assert document["source_name"] == "batch-2025-03-10.csv"
    assert document["line_count"] == 4
    assert document["lines"][0] == {
        "line_no": 1,
        "document_type": "credit_note",
        "type_code": "381",
        "number": "AV-0007",
        "issue_date": "2025-03-02",
        "due_date": None,
        "debtor_id": "ALPHA",
        "debtor_name": "ALPHA SA",
        "currency": "EUR",
        "amount": "-1200.00",
        "guaranteed": "-1200.00",
        "non_guaranteed": "0.00",
        "preceding_invoice": "F-0950",
    }
    assert [line["number"] for line in document["lines"]] == ["AV-0007", "F-1001", "F-1002", "F-1003"]
    assert document["totals"] == [
        {
            "currency": "EUR",
            "invoice_count": 3,
            "invoice_total": "42000.00",
            "credit_note_count": 1,
            "credit_note_total": "-1200.00",
            "line_count": 4,
            "net_total": "40800.00",
            "guaranteed_total": "34000.00",
            "non_guaranteed_total": "6800.00",
        }
    ]
    assert writer.write(remittance, "json").endswith(b"}\n")


def test_writers_remittance_json_is_one_compact_line_in_the_documented_key_order(
    remittance: Remittance,
) -> None:
    data = writer.write(remittance, "json")
    document = json.loads(data)
    assert data == (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    assert list(document) == [
        "format",
        "version",
        "client_id",
        "number",
        "business_date",
        "source_name",
        "envelope_id",
        "line_count",
        "lines",
        "totals",
    ]
    assert tuple(document["lines"][0]) == writer.DETAIL_COLUMNS[1:]


def test_writers_remittance_hyperlink_debtor_name_is_neutralised(remittance: Remittance) -> None:
    hostile = '=HYPERLINK("http://x")'
    lines = (replace(remittance.lines[0], debtor_name=hostile), *remittance.lines[1:])
    data = writer.write(replace(remittance, lines=lines), "csv")
    first = _rows(data)[2]
    assert first[8] == "'" + hostile
    assert first[10] == "-1200.00"  # the amount stays a number
    assert b'"\'=HYPERLINK(""http://x"")"' in data  # RFC 4180 quoting of the inner quotes
    assert (
        json.loads(writer.write(replace(remittance, lines=lines), "json"))["lines"][0]["debtor_name"]
        == hostile
    )


def test_writers_remittance_output_is_deterministic(remittance: Remittance) -> None:
    twin = replace(remittance, lines=tuple(replace(line) for line in remittance.lines))
    for fmt in writer.FORMATS:
        assert writer.write(remittance, fmt) == writer.write(twin, fmt) == writer.write(remittance, fmt)


def test_writers_remittance_keeps_the_order_of_lines(remittance: Remittance) -> None:
    reversed_lines = replace(remittance, lines=remittance.lines[::-1])
    numbers = [row[4] for row in _rows(writer.write(reversed_lines, "csv")) if row[0] == "D"]
    assert numbers == ["F-1003", "F-1002", "F-1001", "AV-0007"]


@pytest.mark.parametrize(
    "change",
    [
        {"guaranteed_total": Decimal("34000.01")},
        {"non_guaranteed_total": Decimal("6799.99")},
        {"net_total": Decimal("42000.00")},
        {"invoice_count": 4},
        {"credit_note_total": Decimal("1200.00")},
    ],
)
def test_writers_remittance_refuses_totals_that_disagree_with_lines(
    remittance: Remittance, change: dict[str, object]
) -> None:
    wrong = replace(remittance, totals=(replace(remittance.totals[0], **change),))  # type: ignore[arg-type]
    for fmt in writer.FORMATS:
        with pytest.raises(DeliveryError, match="not written"):
            writer.write(wrong, fmt)


def test_writers_remittance_refuses_a_line_whose_split_does_not_add_up(remittance: Remittance) -> None:
    bad_line = replace(remittance.lines[1], guaranteed=Decimal("11000.00"))
    # totals adjusted so that only the line itself is wrong
    totals = replace(remittance.totals[0], guaranteed_total=Decimal("33800.00"))
    wrong = replace(
        remittance, lines=(remittance.lines[0], bad_line, *remittance.lines[2:]), totals=(totals,)
    )
    with pytest.raises(DeliveryError, match=r"line 2 \(F-1001\): guaranteed 11000.00"):
        writer.write(wrong, "csv")


def test_writers_remittance_refuses_a_credit_note_with_a_positive_amount(remittance: Remittance) -> None:
    flipped = replace(
        remittance.lines[0], amount=Decimal("1200.00"), guaranteed=Decimal("1200.00")
    )  # a sign lost upstream
    totals = replace(
        remittance.totals[0],
        credit_note_total=Decimal("1200.00"),
        net_total=Decimal("43200.00"),
        guaranteed_total=Decimal("36400.00"),
    )
    wrong = replace(remittance, lines=(flipped, *remittance.lines[1:]), totals=(totals,))
    with pytest.raises(DeliveryError, match="credit note with a positive amount"):
        writer.write(wrong, "json")


def test_writers_remittance_refuses_missing_duplicate_or_extra_currency_totals(
    remittance: Remittance,
) -> None:
    usd = CurrencyTotals("USD", 0, Decimal(0), 0, Decimal(0), Decimal(0), Decimal(0), Decimal(0))
    for totals in ((), (remittance.totals[0], remittance.totals[0]), (remittance.totals[0], usd)):
        with pytest.raises(DeliveryError):
            writer.write(replace(remittance, totals=totals), "csv")


def test_writers_remittance_refuses_a_sub_cent_amount(remittance: Remittance) -> None:
    odd = replace(remittance.lines[3], amount=Decimal("6000.004"), non_guaranteed=Decimal("6000.004"))
    totals = replace(
        remittance.totals[0],
        invoice_total=Decimal("42000.004"),
        net_total=Decimal("40800.004"),
        non_guaranteed_total=Decimal("6800.004"),
    )
    with pytest.raises(DeliveryError, match="cents"):
        writer.write(replace(remittance, lines=(*remittance.lines[:3], odd), totals=(totals,)), "csv")


def _line(no: int, currency: str, amount: str, type_code: str = "380") -> AssignedLine:
    value = Decimal(amount)
    return AssignedLine(
        no, f"N-{no}", type_code, date(2025, 3, 1), None, "D1", None, currency, value, value, Decimal("0.00")
    )


def test_writers_remittance_checks_each_currency_separately() -> None:
    lines = (_line(1, "EUR", "100.00"), _line(2, "USD", "50.00"), _line(3, "EUR", "-20.00", "381"))
    eur = CurrencyTotals(
        "EUR", 1, Decimal("100.00"), 1, Decimal("-20.00"), Decimal("80.00"), Decimal("80.00"), Decimal("0")
    )
    usd = CurrencyTotals(
        "USD", 1, Decimal("50.00"), 0, Decimal("0"), Decimal("50.00"), Decimal("50.00"), Decimal("0")
    )
    good = Remittance("ACME", 3, date(2025, 3, 10), "f.csv", 1, lines, (usd, eur))
    trailers = [row[:10] for row in _rows(writer.write(good, "csv")) if row[0] == "T"]
    assert trailers == [
        ["T", "USD", "1", "50.00", "0", "0.00", "1", "50.00", "50.00", "0.00"],
        ["T", "EUR", "1", "100.00", "1", "-20.00", "2", "80.00", "80.00", "0.00"],
    ]
    swapped = replace(good, totals=(replace(usd, currency="EUR"), replace(eur, currency="USD")))
    with pytest.raises(DeliveryError):
        writer.write(swapped, "json")


def test_writers_remittance_without_lines_has_no_trailer() -> None:
    empty = Remittance("ACME", 1, date(2025, 3, 10), "f.csv", 1, (), ())
    rows = _rows(writer.write(empty, "csv"))
    assert [row[0] for row in rows] == ["record", "H"]
    assert json.loads(writer.write(empty, "json"))["lines"] == []


def test_writers_remittance_csv_round_trips_through_the_csv_module(remittance: Remittance) -> None:
    awkward = (
        replace(remittance.lines[0], debtor_name='ALPHA; "the" SA\r\nsecond line', number="-0007"),
        replace(remittance.lines[1], debtor_name="Société Générale €", preceding_invoice="'quoted"),
        *remittance.lines[2:],
    )
    data = writer.write(replace(remittance, lines=awkward), "csv")
    assert data.count(b"\r\n") == len(awkward) + 4  # header, H, T, plus the CRLF inside a quoted cell
    rows = _rows(data)
    assert {len(row) for row in rows} == {len(writer.DETAIL_COLUMNS)}
    header, head, *details, trailer = rows
    assert header == list(writer.DETAIL_COLUMNS)
    assert head[:10] == ["H", "factoring-gateway/remittance", "1", "ACME", "42", "2025-03-10",
                         "batch-2025-03-10.csv", "7", "4", "1"]  # fmt: skip
    assert trailer[0] == "T"
    for line, row in zip(awkward, details, strict=True):
        record = dict(zip(writer.DETAIL_COLUMNS, row, strict=True))
        assert record["record"] == "D"
        assert int(record["line_no"]) == line.line_no
        assert original_text(record["number"]) == line.number
        assert original_text(record["debtor_name"]) == (line.debtor_name or "")
        assert original_text(record["preceding_invoice"]) == (line.preceding_invoice or "")
        assert date.fromisoformat(record["issue_date"]) == line.issue_date
        assert Decimal(record["amount"]) == line.amount
        assert Decimal(record["guaranteed"]) + Decimal(record["non_guaranteed"]) == line.amount
    assert details[0][4] == "'-0007"  # a reference that looks like a formula is neutralised too


def test_writers_remittance_file_names(remittance: Remittance) -> None:
    assert writer.file_name(remittance, "csv") == "REM_ACME_000042.csv"
    assert (
        writer.file_name(replace(remittance, client_id="Acmé/../x y"), "json") == "REM_Acme_x_y_000042.json"
    )
    assert writer.file_name(replace(remittance, number=1234567), "csv") == "REM_ACME_1234567.csv"
    with pytest.raises(ValueError):
        writer.file_name(remittance, "xlsx")
    with pytest.raises(ValueError):
        writer.write(remittance, "xml")
    with pytest.raises(DeliveryError):
        writer.file_name(replace(remittance, client_id="///"), "csv")


def _big_remittance(count: int) -> Remittance:
    base = (
        _line(0, "EUR", "-1200.00", "381"),
        _line(0, "EUR", "12000.00"),
        _line(0, "EUR", "24000.00"),
        _line(0, "EUR", "6000.00"),
    )
    lines = tuple(
        replace(base[n % 4], line_no=n + 1, number=f"F-{n:07d}", debtor_name=f"Debtor {n % 97}")
        for n in range(count)
    )
    credits = [line.amount for line in lines if line.type_code == "381"]
    invoices = [line.amount for line in lines if line.type_code != "381"]
    net = sum(credits, Decimal(0)) + sum(invoices, Decimal(0))
    totals = CurrencyTotals(
        "EUR",
        len(invoices),
        sum(invoices, Decimal(0)),
        len(credits),
        sum(credits, Decimal(0)),
        net,
        net,
        Decimal(0),
    )
    return Remittance("ACME", 99, date(2025, 3, 10), "big.csv", 5, lines, (totals,))


def test_writers_remittance_100k_lines_timing() -> None:
    big = _big_remittance(100_000)
    started = time.perf_counter()
    csv_data = writer.write(big, "csv")
    middle = time.perf_counter()
    json_data = writer.write(big, "json")
    ended = time.perf_counter()
    print(
        f"\nremittance 100,000 lines: csv {middle - started:.3f} s ({len(csv_data):,} bytes), "
        f"json {ended - middle:.3f} s ({len(json_data):,} bytes)"
    )
    assert json.loads(json_data)["line_count"] == 100_000
