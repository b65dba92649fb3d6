"""Fixtures for the writer tests: worked example 1 of the factoring brief (§1.6) and its acknowledgement."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from gateway.model import (
    Acknowledgement,
    AcknowledgementLine,
    AssignedLine,
    CurrencyTotals,
    Issue,
    Remittance,
    Severity,
    Verdict,
)

BUSINESS_DATE = date(2025, 3, 10)


def example_lines() -> tuple[AssignedLine, ...]:
    return (
        AssignedLine(
            1,
            "AV-0007",
            "381",
            date(2025, 3, 2),
            None,
            "ALPHA",
            "ALPHA SA",
            "EUR",
            Decimal("-1200.00"),
            Decimal("-1200.00"),
            Decimal("0.00"),
            "F-0950",
        ),
        AssignedLine(
            2,
            "F-1001",
            "380",
            date(2025, 3, 1),
            date(2025, 5, 4),
            "ALPHA",
            "ALPHA SA",
            "EUR",
            Decimal("12000.00"),
            Decimal("11200.00"),
            Decimal("800.00"),
        ),
        AssignedLine(
            3,
            "F-1002",
            "380",
            date(2025, 3, 3),
            date(2025, 4, 30),
            "BETA",
            "BETA SAS",
            "EUR",
            Decimal("24000.00"),
            Decimal("24000.00"),
            Decimal("0.00"),
        ),
        AssignedLine(
            4,
            "F-1003",
            "380",
            date(2025, 3, 5),
            date(2025, 6, 5),
            "GAMMA",
            "GAMMA SARL",
            "EUR",
            Decimal("6000.00"),
            Decimal("0.00"),
            Decimal("6000.00"),
        ),
    )


EXAMPLE_TOTALS = CurrencyTotals(
    currency="EUR",
    invoice_count=3,
    invoice_total=Decimal("42000.00"),
    credit_note_count=1,
    credit_note_total=Decimal("-1200.00"),
    net_total=Decimal("40800.00"),
    guaranteed_total=Decimal("34000.00"),
    non_guaranteed_total=Decimal("6800.00"),
)


def example_remittance(**changes: object) -> Remittance:
    fields: dict[str, object] = {
        "client_id": "ACME",
        "number": 42,
        "business_date": BUSINESS_DATE,
        "source_name": "batch-2025-03-10.csv",
        "envelope_id": 7,
        "lines": example_lines(),
        "totals": (EXAMPLE_TOTALS,),
    }
    fields.update(changes)
    return Remittance(**fields)  # type: ignore[arg-type]


def example_acknowledgement(**changes: object) -> Acknowledgement:
    accepted = (
        AcknowledgementLine(
            f"line {n + 2}", line.number, line.type_code, Verdict.ACCEPTED, abs(line.amount), "EUR"
        )
        for n, line in enumerate(example_lines())
    )
    lines = (
        *accepted,
        AcknowledgementLine(
            "line 6",
            "F-1004",
            "380",
            Verdict.REJECTED,
            Decimal("150.00"),
            "EUR",
            (
                Issue("GW-DUPLICATE-INVOICE", "F-1004 was already assigned on 2025-03-01."),
                Issue("GW-DUE-DATE", "The due date is in the past.", Severity.WARNING, "column due_date"),
            ),
        ),
        AcknowledgementLine(
            "line 7",
            None,
            None,
            Verdict.REJECTED,
            issues=(Issue("GW-CSV-VALUE", "The amount 'abc' is not a number.", location="line 7"),),
        ),
    )
    fields: dict[str, object] = {
        "client_id": "ACME",
        "envelope_id": 7,
        "source_name": "batch-2025-03-10.csv",
        "business_date": BUSINESS_DATE,
        "verdict": Verdict.ACCEPTED,
        "remittance_number": 42,
        "file_issues": (
            Issue("GW-CSV-COLUMN", "Column 'colour' is unknown and was ignored.", Severity.WARNING),
        ),
        "lines": lines,
    }
    fields.update(changes)
    return Acknowledgement(**fields)  # type: ignore[arg-type]


@pytest.fixture
def remittance() -> Remittance:
    return example_remittance()


@pytest.fixture
def acknowledgement() -> Acknowledgement:
    return example_acknowledgement()
