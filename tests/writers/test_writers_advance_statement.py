"""The advance statement files: worked example 1 as CSV and JSON, and a statement that contradicts itself
is never written."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from decimal import Decimal

import pytest
from factoring_examples import EXAMPLE_TERMS, REMITTANCE_42

from gateway.errors import DeliveryError
from gateway.factoring.advance import compute_advances
from gateway.writers import advance_statement
from gateway.writers.advance_statement import StatementHeader

HEADER = StatementHeader("acme", 42, "2025-03-10")


def statements() -> tuple:
    return compute_advances(REMITTANCE_42, EXAMPLE_TERMS, date(2025, 3, 11))


def test_csv_of_worked_example_1() -> None:
    text = advance_statement.write(HEADER, statements(), "csv").decode("utf-8-sig")
    rows = text.splitlines()
    assert rows == [
        "record;currency;line_no;type_code;number;debtor_id;due_date;amount;financeable;non_financed;advance;"
        "reserve;financing_days;financing_commission",
        "H;factoring-gateway/advance-statement;1;acme;42;2025-03-10;4;1;;;;;;",
        "D;EUR;1;381;AV-0007;D;;-1200.00;-1200.00;0.00;-1080.00;-120.00;;0.00",
        "D;EUR;2;380;F-1001;D;2025-05-04;12000.00;11200.00;800.00;10080.00;1120.00;54;60.48",
        "D;EUR;3;380;F-1002;D;2025-04-30;24000.00;24000.00;0.00;21600.00;2400.00;50;120.00",
        "D;EUR;4;380;F-1003;D;2025-06-05;6000.00;0.00;6000.00;0.00;0.00;;0.00",
        "T;EUR;2025-03-11;40800.00;34000.00;6800.00;3400.00;30600.00;42000.00;147.00;29.40;180.48;30243.12;",
    ]
    assert {row.count(";") for row in rows} == {13}  # one rectangle of 14 columns
    assert advance_statement.stem(HEADER) == "ADV_acme_000042"


def test_json_carries_the_same_figures_as_text() -> None:
    document = json.loads(advance_statement.write(HEADER, statements(), "json"))
    (eur,) = document["currencies"]
    assert (eur["paid_out"], eur["fee_vat"], eur["funding_date"]) == ("30243.12", "29.40", "2025-03-11")
    assert [line["financing_days"] for line in eur["lines"]] == [None, 54, 50, None]
    assert advance_statement.write(HEADER, statements(), "json") == advance_statement.write(
        HEADER, statements(), "json"
    )


def test_a_statement_that_contradicts_itself_is_not_written() -> None:
    (eur,) = statements()
    broken_line = dataclasses.replace(eur.lines[1], reserve=Decimal("1119.99"))
    broken = dataclasses.replace(eur, lines=(eur.lines[0], broken_line, *eur.lines[2:]))
    with pytest.raises(DeliveryError, match=r"line 2: advance \+ reserve != financeable.*reserve total"):
        advance_statement.write(HEADER, (broken,), "csv")
    with pytest.raises(DeliveryError, match="paid out"):
        advance_statement.write(HEADER, (dataclasses.replace(eur, paid_out=Decimal("30243.13")),), "json")
