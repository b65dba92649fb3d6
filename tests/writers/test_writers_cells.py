"""The cell rules every CSV and JSON writer relies on: formula neutralisation, exact
amounts, RFC 4180 quoting equal to the csv module's, one compact UTF-8 JSON form."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import DeliveryError
from gateway.writers.csv_cells import (
    amount_cell,
    amount_cells,
    csv_bytes,
    csv_row,
    date_cells,
    iso_dates,
    json_bytes,
    name_part,
    original_text,
    text_cell,
    text_cells,
)

TRIGGERS = ["=", "+", "-", "@", "\t", "\r", "\n"]


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_writers_text_cell_neutralises_each_formula_trigger(trigger: str) -> None:
    value = f"{trigger}1+1"
    assert text_cell(value) == "'" + value


def test_writers_text_cell_keeps_ordinary_text_and_blanks_none() -> None:
    assert text_cell("ALPHA SA") == "ALPHA SA"
    assert text_cell("F=1001") == "F=1001"  # only the first character matters
    assert text_cell("") == ""
    assert text_cell(None) == ""


def test_writers_text_cell_escapes_the_escape_so_it_can_be_undone() -> None:
    assert text_cell("'quoted") == "''quoted"
    assert original_text(text_cell("'quoted")) == "'quoted"
    assert original_text(text_cell("-0001")) == "-0001"


@given(st.text(min_size=1))
def test_writers_text_cell_is_inert_and_reversible(value: str) -> None:
    cell = text_cell(value)
    assert cell[0] not in "=+-@\t\r\n"
    assert original_text(cell) == value


@pytest.mark.parametrize(
    ("amount", "cell"),
    [
        (Decimal("-1200.00"), "-1200.00"),
        (Decimal("-1200"), "-1200.00"),
        (Decimal("12000.0"), "12000.00"),
        (Decimal("1E+3"), "1000.00"),
        (Decimal("0.1"), "0.10"),
        (Decimal("-0.00"), "0.00"),
        (Decimal("-0"), "0.00"),
        (Decimal("0.010"), "0.01"),
        (Decimal("123456789012.34"), "123456789012.34"),
    ],
)
def test_writers_amount_cell_writes_the_canonical_form(amount: Decimal, cell: str) -> None:
    assert amount_cell(amount) == cell


@pytest.mark.parametrize("amount", [Decimal("0.001"), Decimal("12.345"), Decimal("NaN"), Decimal("Infinity")])
def test_writers_amount_cell_refuses_to_round_or_invent(amount: Decimal) -> None:
    with pytest.raises(DeliveryError):
        amount_cell(amount)


def test_writers_negative_amount_is_never_neutralised() -> None:
    assert amount_cells([Decimal("-1200.00")]) == ["-1200.00"]


amounts_with_odd_exponents = st.one_of(
    st.decimals(places=2, allow_nan=False, allow_infinity=False, min_value=-(10**9), max_value=10**9),
    st.integers(-(10**6), 10**6).map(Decimal),
    st.integers(-(10**6), 10**6).map(lambda n: Decimal(n).scaleb(2)),  # 1E+2 style
    st.sampled_from([Decimal("-0.00"), Decimal("-0"), Decimal("0.0"), Decimal("5.10")]),
)


@given(st.lists(st.one_of(st.none(), amounts_with_odd_exponents)))
def test_writers_amount_column_agrees_with_amount_cell(amounts: list[Decimal | None]) -> None:
    expected = ["" if amount is None else amount_cell(amount) for amount in amounts]
    assert amount_cells(amounts) == expected


def test_writers_amount_column_refuses_a_sub_cent_value() -> None:
    with pytest.raises(DeliveryError):
        amount_cells([Decimal("1.00"), Decimal("1.005")])


def _csv_module_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


nasty_text = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from(list("ab;\"\r\n\t=+-@' é€")), max_size=8),
    st.text(max_size=8),
)


@given(st.lists(st.tuples(nasty_text, nasty_text), max_size=20))
def test_writers_csv_text_equals_the_csv_module(rows: list[tuple[str | None, str | None]]) -> None:
    first = text_cells([row[0] for row in rows])
    second = text_cells([row[1] for row in rows])
    written = csv_bytes([csv_row(["head", "x;y"])], "D", [first, second], [csv_row(["T", len(rows)])])
    expected_rows = [["head", "x;y"]]
    expected_rows += [["D", text_cell(a), text_cell(b)] for a, b in rows]
    expected_rows += [["T", str(len(rows))]]
    assert written == _csv_module_bytes(expected_rows)


def test_writers_csv_bytes_has_bom_semicolons_and_crlf() -> None:
    written = csv_bytes([csv_row(["a", "b"])], "D", [["1"], ["x"]], [])
    assert written == b"\xef\xbb\xbfa;b\r\nD;1;x\r\n"


def test_writers_json_bytes_is_compact_utf8_on_one_line_in_the_writers_key_order() -> None:
    written = json_bytes({"z": "Relevé €", "a": [1, None], "amount": "-1200.00"})
    assert written == '{"z":"Relevé €","a":[1,null],"amount":"-1200.00"}\n'.encode()


@given(st.dictionaries(st.text(), st.one_of(st.none(), st.text(), st.integers()), max_size=8))
def test_writers_json_bytes_equals_json_dumps(document: dict[str, str | int | None]) -> None:
    try:
        expected = (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    except UnicodeEncodeError:  # a lone surrogate: refused, never written half-way
        with pytest.raises(DeliveryError):
            json_bytes(document)
        return
    assert json_bytes(document) == expected


def test_writers_iso_dates_keep_missing_dates_null() -> None:
    from datetime import date

    assert iso_dates([date(2025, 3, 10), None, date(2025, 3, 10)]) == ["2025-03-10", None, "2025-03-10"]


def test_writers_date_cells_blank_missing_dates() -> None:
    from datetime import date

    assert date_cells([date(2025, 3, 10), None, date(2025, 3, 10)]) == ["2025-03-10", "", "2025-03-10"]


@pytest.mark.parametrize(
    ("value", "part"),
    [
        ("ACME", "ACME"),
        ("Relevé (mars) 2025", "Releve_mars_2025"),
        ("../../etc/passwd", "etc_passwd"),
        ("a b\tc", "a_b_c"),
        ("x-y_z", "x-y_z"),
        ("日本", "unnamed"),
    ],
)
def test_writers_name_part_keeps_only_safe_characters(value: str, part: str) -> None:
    assert name_part(value) == part
