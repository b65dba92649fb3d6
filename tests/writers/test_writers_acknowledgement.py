"""The acknowledgement writer: exact bytes, refused files, self-consistency checks,
spreadsheet safety of messages and the file-name rule."""

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
from gateway.model import Acknowledgement, AcknowledgementLine, Issue, Severity, Verdict
from gateway.writers import acknowledgement as writer
from gateway.writers.csv_cells import original_text

GOLDEN_CSV = (
    "\ufeff"
    "record;location;number;type_code;verdict;amount;currency;codes;messages\r\n"
    "H;batch-2025-03-10.csv;ACME;7;accepted;2025-03-10;factoring-gateway/acknowledgement;2;\r\n"
    "F;;;;warning;;;GW-CSV-COLUMN;Column 'colour' is unknown and was ignored.\r\n"
    "D;line 2;AV-0007;381;accepted;1200.00;EUR;;\r\n"
    "D;line 3;F-1001;380;accepted;12000.00;EUR;;\r\n"
    "D;line 4;F-1002;380;accepted;24000.00;EUR;;\r\n"
    "D;line 5;F-1003;380;accepted;6000.00;EUR;;\r\n"
    "D;line 6;F-1004;380;rejected;150.00;EUR;GW-DUPLICATE-INVOICE|GW-DUE-DATE;"
    "F-1004 was already assigned on 2025-03-01. | The due date is in the past.\r\n"
    "D;line 7;;;rejected;;;GW-CSV-VALUE;The amount 'abc' is not a number.\r\n"
    "T;6;4;2;42;;;;\r\n"
).encode()


def _rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def _refused() -> Acknowledgement:
    return Acknowledgement(
        client_id="ACME",
        envelope_id=8,
        source_name="broken.csv",
        business_date=date(2025, 3, 11),
        verdict=Verdict.REJECTED,
        remittance_number=None,
        file_issues=(
            Issue("GW-CSV-HEADER", "Required column 'currency' is missing.", location="line 1"),
            Issue("GW-CSV-COLUMN", "Column 'colour' is unknown and was ignored.", Severity.WARNING),
        ),
    )


def test_writers_acknowledgement_csv_golden_bytes(acknowledgement: Acknowledgement) -> None:
    assert writer.write(acknowledgement, "csv") == GOLDEN_CSV


def test_writers_acknowledgement_json_content(acknowledgement: Acknowledgement) -> None:
    document = json.loads(writer.write(acknowledgement, "json"))
    assert document["format"] == "factoring-gateway/acknowledgement"
    assert document["version"] == 2
    assert document["verdict"] == "accepted"
    assert document["summary"] == {
        "line_count": 6,
        "accepted_count": 4,
        "rejected_count": 2,
        "remittance_number": 42,
    }
    assert document["file_issues"] == [
        {
            "code": "GW-CSV-COLUMN",
            "severity": "warning",
            "message": "Column 'colour' is unknown and was ignored.",
            "location": None,
            "source": "gateway",
        }
    ]
    assert document["lines"][4] == {
        "location": "line 6",
        "number": "F-1004",
        "type_code": "380",
        "verdict": "rejected",
        "amount": "150.00",
        "currency": "EUR",
        "issues": [
            {
                "code": "GW-DUPLICATE-INVOICE",
                "severity": "fatal",
                "message": "F-1004 was already assigned on 2025-03-01.",
                "location": None,
                "source": "gateway",
            },
            {
                "code": "GW-DUE-DATE",
                "severity": "warning",
                "message": "The due date is in the past.",
                "location": "column due_date",
                "source": "gateway",
            },
        ],
    }
    assert document["lines"][5]["number"] is None
    assert document["lines"][5]["amount"] is None


def test_writers_acknowledgement_json_is_one_compact_line_in_the_documented_key_order(
    acknowledgement: Acknowledgement,
) -> None:
    data = writer.write(acknowledgement, "json")
    document = json.loads(data)
    assert data == (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    assert list(document) == [
        "format",
        "version",
        "client_id",
        "envelope_id",
        "source_name",
        "business_date",
        "verdict",
        "summary",
        "file_issues",
        "lines",
    ]
    assert list(document["lines"][4]) == [
        "location",
        "number",
        "type_code",
        "verdict",
        "amount",
        "currency",
        "issues",
    ]
    assert list(document["lines"][4]["issues"][0]) == ["code", "severity", "message", "location", "source"]


def test_writers_acknowledgement_of_a_refused_file_explains_why() -> None:
    refused = _refused()
    rows = _rows(writer.write(refused, "csv"))
    assert [row[0] for row in rows] == ["record", "H", "F", "F", "T"]
    assert rows[1][4] == "rejected"
    assert rows[2][1] == "line 1" and rows[2][4] == "fatal" and rows[2][7] == "GW-CSV-HEADER"
    assert rows[2][8] == "Required column 'currency' is missing."
    assert rows[-1][:5] == ["T", "0", "0", "0", ""]
    document = json.loads(writer.write(refused, "json"))
    assert document["verdict"] == "rejected"
    assert document["lines"] == []
    assert document["summary"] == {
        "line_count": 0,
        "accepted_count": 0,
        "rejected_count": 0,
        "remittance_number": None,
    }
    assert [issue["code"] for issue in document["file_issues"]] == ["GW-CSV-HEADER", "GW-CSV-COLUMN"]


@pytest.mark.parametrize(
    "change",
    [
        {"verdict": Verdict.REJECTED},  # refused file still naming remittance 42 and accepted documents
        {"verdict": Verdict.REJECTED, "remittance_number": None},  # ... still with accepted documents
        {"file_issues": (Issue("GW-CSV-HEADER", "Required column missing."),)},  # fatal issue, accepted file
    ],
)
def test_writers_acknowledgement_refuses_to_contradict_itself(
    acknowledgement: Acknowledgement, change: dict[str, object]
) -> None:
    wrong = replace(acknowledgement, **change)  # type: ignore[arg-type]
    for fmt in writer.FORMATS:
        with pytest.raises(DeliveryError, match="not written"):
            writer.write(wrong, fmt)


def test_writers_acknowledgement_refused_file_with_a_remittance_is_refused() -> None:
    with pytest.raises(DeliveryError, match="remittance 3"):
        writer.write(replace(_refused(), remittance_number=3), "csv")


def test_writers_acknowledgement_neutralises_text_but_keeps_messages(
    acknowledgement: Acknowledgement,
) -> None:
    hostile = AcknowledgementLine(
        location="line 9",
        number="+33123",
        type_code="380",
        verdict=Verdict.REJECTED,
        amount=Decimal("-50.00"),
        currency="EUR",
        issues=(Issue("GW-X", '=HYPERLINK("http://x"; "click")'),),
    )
    ack = replace(acknowledgement, lines=(*acknowledgement.lines, hostile))
    row = _rows(writer.write(ack, "csv"))[-2]
    assert row == ["D", "line 9", "'+33123", "380", "rejected", "-50.00", "EUR", "GW-X",
                   "'=HYPERLINK(\"http://x\"; \"click\")"]  # fmt: skip
    assert original_text(row[8]) == hostile.issues[0].message
    last = json.loads(writer.write(ack, "json"))["lines"][-1]
    assert last["number"] == "+33123"
    assert last["issues"][0]["message"] == '=HYPERLINK("http://x"; "click")'


def test_writers_acknowledgement_output_is_deterministic(acknowledgement: Acknowledgement) -> None:
    twin = replace(acknowledgement, lines=tuple(replace(line) for line in acknowledgement.lines))
    for fmt in writer.FORMATS:
        assert writer.write(acknowledgement, fmt) == writer.write(twin, fmt)


def test_writers_acknowledgement_csv_round_trip(acknowledgement: Acknowledgement) -> None:
    rows = _rows(writer.write(acknowledgement, "csv"))
    assert {len(row) for row in rows} == {len(writer.DETAIL_COLUMNS)}
    details = [dict(zip(writer.DETAIL_COLUMNS, row, strict=True)) for row in rows if row[0] == "D"]
    for line, record in zip(acknowledgement.lines, details, strict=True):
        assert record["location"] == line.location
        assert (record["number"] or None) == line.number
        assert record["verdict"] == line.verdict.value
        assert (Decimal(record["amount"]) if record["amount"] else None) == line.amount
        assert (record["codes"].split("|") if record["codes"] else []) == [i.code for i in line.issues]
        assert record["messages"] == " | ".join(i.message for i in line.issues)


@pytest.mark.parametrize(
    ("source_name", "expected"),
    [
        ("batch-2025-03-10.csv", "ACK_ACME_00000007_batch-2025-03-10.csv"),
        ("in/sub/Relevé mars.CSV", "ACK_ACME_00000007_Releve_mars.csv"),
        ("C:\\exports\\factures.xml", "ACK_ACME_00000007_factures.csv"),
        ("archive.tar.gz", "ACK_ACME_00000007_archive_tar.csv"),
        ("no_extension", "ACK_ACME_00000007_no_extension.csv"),
        (".hidden", "ACK_ACME_00000007_hidden.csv"),
        ("???.csv", "ACK_ACME_00000007_unnamed.csv"),
        ("x" * 100 + ".csv", "ACK_ACME_00000007_" + "x" * 60 + ".csv"),
    ],
)
def test_writers_acknowledgement_file_names(
    acknowledgement: Acknowledgement, source_name: str, expected: str
) -> None:
    assert writer.file_name(replace(acknowledgement, source_name=source_name), "csv") == expected


def test_writers_acknowledgement_file_name_rejects_unknown_format(acknowledgement: Acknowledgement) -> None:
    assert writer.file_name(acknowledgement, "json").endswith(".json")
    with pytest.raises(ValueError):
        writer.file_name(acknowledgement, "pdf")


def test_writers_acknowledgement_100k_lines_timing(acknowledgement: Acknowledgement) -> None:
    pattern = acknowledgement.lines
    lines = tuple(replace(pattern[n % len(pattern)], location=f"line {n + 2}") for n in range(100_000))
    big = replace(acknowledgement, lines=lines)
    started = time.perf_counter()
    csv_data = writer.write(big, "csv")
    middle = time.perf_counter()
    json_data = writer.write(big, "json")
    ended = time.perf_counter()
    print(
        f"\nacknowledgement 100,000 lines: csv {middle - started:.3f} s ({len(csv_data):,} bytes), "
        f"json {ended - middle:.3f} s ({len(json_data):,} bytes)"
    )
    assert json.loads(json_data)["summary"]["line_count"] == 100_000
