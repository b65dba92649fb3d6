"""Document totals are checked exactly, whatever they hold and whatever the caller's decimal context."""

from __future__ import annotations

import dataclasses
import decimal
import json
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.model import DocumentTotals, Invoice, Party, PartyId
from gateway.validation.document import amount_text, check_document

D = Decimal
REPO = Path(__file__).resolve().parents[2]
TOTALS = ("line_net", "allowances", "charges", "tax_exclusive", "tax", "tax_inclusive", "prepaid", "rounding")
SOUND = DocumentTotals(
    tax_exclusive=D("1000.00"), tax=D("200.00"), tax_inclusive=D("1200.00"), amount_due=D("1200.00")
)


def invoice(**totals: Decimal | None) -> Invoice:
    return Invoice(
        number="F-1001",
        issue_date=date(2025, 3, 1),
        type_code="380",
        currency="EUR",
        seller=Party(name="ACME SARL", legal_id=PartyId("732829320", "0002")),
        buyer=Party(name="ALPHA SA", legal_id=PartyId("552100554", "0002")),
        totals=dataclasses.replace(SOUND, **totals),
        due_date=date(2025, 5, 4),
        location="line 7",
    )


def codes(inv: Invoice) -> list[str]:
    return [issue.code for issue in check_document(inv)]


def test_sums_of_wide_amounts_are_exact_even_in_a_narrow_caller_context() -> None:
    """18 digits and 18 decimals: the default 28-digit context would round the sum and miss the gap."""
    net = D("100000000000000000.000000000000000001")
    tax = D("0.000000000000000001")
    with decimal.localcontext(prec=28):
        assert codes(invoice(tax_exclusive=net, tax=tax, tax_inclusive=net, amount_due=net)) == [
            "BR-CO-15",
            "BR-DEC-12",
            "GW-AMOUNT-TOO-LARGE",
            "BR-DEC-13",
            "BR-DEC-14",
            "GW-AMOUNT-TOO-LARGE",
            "BR-DEC-18",
            "GW-AMOUNT-TOO-LARGE",
        ]
    (br_co_15,) = (
        i
        for i in check_document(invoice(tax_exclusive=net, tax=tax, tax_inclusive=net))
        if i.code == "BR-CO-15"
    )
    assert "makes 100000000000000000.000000000000000002" in br_co_15.message


def test_a_30_digit_total_built_by_hand_is_reported_not_raised() -> None:
    """What crashed ``gateway validate``: amount_text quantized 30 digits in the default context."""
    thirty = D("123456789012345678901234567890")
    found = check_document(invoice(amount_due=thirty))
    assert [i.code for i in found] == ["GW-AMOUNT-TOO-LARGE"]
    assert "123456789012345678901234567890.00" in found[0].message


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity", "1E+999999", "-1E-999999"])
@pytest.mark.parametrize("term", [*TOTALS, "amount_due"])
def test_a_total_no_parser_produces_is_reported_not_raised(term: str, value: str) -> None:
    found = check_document(invoice(**{term: D(value)}))
    assert found, (term, value)
    if not D(value).is_finite():
        assert "GW-AMOUNT-INVALID" in [i.code for i in found]
        (invalid,) = (i for i in found if i.code == "GW-AMOUNT-INVALID")
        assert f"'{value}' is not a number" in invalid.message
    assert not {"BR-CO-15", "BR-CO-16"} & {i.code for i in found}  # no sum over what is not an amount


def test_minus_zero_rounding_is_neutral() -> None:
    assert codes(invoice(rounding=D("-0.00"))) == []
    assert codes(invoice(prepaid=D("0.00"), rounding=D("0.00"))) == []


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("12", "12.00"),
        ("12.5", "12.50"),
        ("-0.00", "-0.00"),
        ("1.005", "1.005"),
        ("1E+3", "1000.00"),
        ("123456789012345678901234567890", "123456789012345678901234567890.00"),
        ("NaN", "NaN"),
        ("Infinity", "Infinity"),
        ("1E+999999", "1E+999999"),
    ],
)
def test_amount_text_shows_any_decimal_without_rounding(amount: str, text: str) -> None:
    with decimal.localcontext(prec=3):
        assert amount_text(D(amount)) == text


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            term: st.one_of(st.none(), st.decimals(allow_nan=True, allow_infinity=True))
            for term in (*TOTALS, "amount_due")
        },
    )
)
def test_check_document_never_raises_whatever_the_totals(totals: dict[str, Decimal | None]) -> None:
    for issue in check_document(invoice(**totals)):
        assert issue.message and issue.location == "line 7"


def test_the_30_digit_ubl_crash_of_gateway_validate_is_an_issue(tmp_path: Path) -> None:
    """The reproduction of the issue, end to end through the command: an issue, exit code 1."""
    sample = (REPO / "samples/demo/batches/acme/acme_F-1010.xml").read_text(encoding="utf-8")
    due = '<cbc:PayableAmount currencyID="EUR">6000.00<'
    assert due in sample
    path = tmp_path / "acme_F-1010_30_digits.xml"
    path.write_text(sample.replace(due, due.replace("6000.00", "123456789012345678901234567890")))
    env = {key: value for key, value in os.environ.items() if key != "GATEWAY_CONFIG"}
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "validate", str(path), "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stderr
    (report,) = json.loads(done.stdout)["files"]
    assert report["financeable"] is False and report["documents"] == 0
    # Two answers: the official rules find the total wrong, the gateway cannot even read the amount.
    assert report["verdict"] == "invalid"
    issue, official = report["issues"]
    assert (official["code"], official["source"]) == ("BR-CO-16", "EN16931")
    assert (issue["code"], issue["source"]) == ("GW-AMOUNT-INVALID", "gateway")
    assert "'123456789012345678901234567890' has 30 digits before the point" in issue["message"]
