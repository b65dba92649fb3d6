"""One SIREN per client, one SIREN and one VAT number per debtor of a client, and the plausibility cap."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.config import check_settings, load_settings

ConfigWith = Callable[..., Path]  # the conftest fixture that bends the valid configuration


def debtor(debtor_id: str, *, siren: str | None = None, vat_id: str | None = None) -> str:
    lines = [
        "",
        "[[clients.acme.debtors]]",
        f'id = "{debtor_id}"',
        f'name = "{debtor_id} SA"',
        'approval_limit = "0"',
    ]
    lines += [f'siren = "{siren}"'] if siren else []
    lines += [f'vat_id = "{vat_id}"'] if vat_id else []
    return "\n".join(lines) + "\n"


APART = "invoices could not tell the two debtors apart"

CASES: list[tuple[str, list[tuple[str, str]], str, list[str]]] = [
    (
        "two clients with one SIREN",
        [('siren = "542065479"', 'siren = "732 829 320"')],
        "",
        [
            "clients.bolt.siren: SIREN 732829320 is already the siren of client acme (clients.acme.siren): a "
            "receivable belongs to one seller, so two clients cannot share a SIREN"
        ],
    ),
    (
        "two debtors with one SIREN",
        [],
        debtor("DELTA", siren="552 100 554"),
        [
            "clients.acme.debtors[DELTA].siren: SIREN 552100554 is already the siren of "
            f"clients.acme.debtors[ALPHA]: {APART}"
        ],
    ),
    (
        "two debtors with one VAT number, written differently",
        [],
        debtor("DELTA", vat_id="de 136.695.976"),
        [
            "clients.acme.debtors[DELTA].vat_id: VAT number DE136695976 is already the vat_id of "
            f"clients.acme.debtors[GAMMA]: {APART}"
        ],
    ),
    (
        "a French VAT number holding another debtor's SIREN",
        [],
        debtor("DELTA", vat_id="FR96552100554"),
        [
            "clients.acme.debtors[DELTA].vat_id: French VAT number FR96552100554 belongs to SIREN 552100554, "
            f"already the siren of clients.acme.debtors[ALPHA]: {APART}"
        ],
    ),
    (
        "a SIREN already inside another debtor's French VAT number",
        [
            (
                'siren = "552100554"\napproval_limit = "40000.00"',
                'vat_id = "FR96552100554"\napproval_limit = "40000.00"',
            )
        ],
        debtor("DELTA", siren="552100554"),
        [
            "clients.acme.debtors[DELTA].siren: SIREN 552100554 is already the SIREN in the vat_id of "
            f"clients.acme.debtors[ALPHA]: {APART}"
        ],
    ),
    (
        "the same SIREN and VAT number: one problem, at the SIREN",
        [],
        debtor("DELTA", siren="552100554", vat_id="FR96552100554"),
        [
            "clients.acme.debtors[DELTA].siren: SIREN 552100554 is already the siren of "
            f"clients.acme.debtors[ALPHA]: {APART}"
        ],
    ),
    (
        "debtors of different clients may be the same company",
        [],
        debtor("ALPHA", siren="552100554").replace("clients.acme", "clients.bolt"),
        [],
    ),
    (
        "a distinct debtor is fine",
        [],
        debtor("DELTA", siren="542065479", vat_id="FR 82 542 065 479"),
        [],
    ),
    (
        "plausibility cap of zero",
        [('currencies = ["EUR", "USD"]', 'currencies = ["EUR", "USD"]\nmax_invoice_amount = "0.00"')],
        "",
        ["clients.acme.contract.max_invoice_amount: must be more than 0 (got 0.00)"],
    ),
    (
        "negative plausibility cap",
        [('currencies = ["EUR", "USD"]', 'currencies = ["EUR", "USD"]\nmax_invoice_amount = "-5"')],
        "",
        ["clients.acme.contract.max_invoice_amount: must be more than 0 (got -5)"],
    ),
    (
        "plausibility cap with three decimals",
        [('currencies = ["EUR", "USD"]', 'currencies = ["EUR", "USD"]\nmax_invoice_amount = "1000.001"')],
        "",
        ["clients.acme.contract.max_invoice_amount: must have at most 2 decimals (got 1000.001)"],
    ),
    (
        "plausibility cap that is not a number",
        [('currencies = ["EUR", "USD"]', 'currencies = ["EUR", "USD"]\nmax_invoice_amount = "10 M"')],
        "",
        [
            "clients.acme.contract.max_invoice_amount: must be a decimal number, preferably quoted, such as "
            '"0.90" (got "10 M")'
        ],
    ),
]


@pytest.mark.parametrize(
    ("replacements", "appended", "expected"),
    [
        pytest.param(replacements, appended, expected, id=name)
        for name, replacements, appended, expected in CASES
    ],
)
def test_identity_rules(
    config_with: ConfigWith, replacements: list[tuple[str, str]], appended: str, expected: list[str]
) -> None:
    assert check_settings(config_with(*replacements, append=appended)) == expected


def test_the_plausibility_cap_defaults_to_ten_million_and_keeps_its_text(config_with: ConfigWith) -> None:
    path = config_with(('fee_rate = "0.01"', 'fee_rate = "0.01"\nmax_invoice_amount = 250000'))
    settings = load_settings(path)
    acme, bolt = settings.clients
    assert str(acme.contract.max_invoice_amount) == "10000000.00"
    assert bolt.contract.max_invoice_amount == Decimal("250000")


def test_every_identity_problem_is_reported_at_once(config_with: ConfigWith) -> None:
    path = config_with(
        ('siren = "542065479"', 'siren = "732829320"'),
        append=debtor("DELTA", siren="552100554") + debtor("EPSILON", vat_id="DE136695976"),
    )
    assert sorted(check_settings(path)) == [
        "clients.acme.debtors[DELTA].siren: SIREN 552100554 is already the siren of "
        f"clients.acme.debtors[ALPHA]: {APART}",
        "clients.acme.debtors[EPSILON].vat_id: VAT number DE136695976 is already the vat_id of "
        f"clients.acme.debtors[GAMMA]: {APART}",
        "clients.bolt.siren: SIREN 732829320 is already the siren of client acme (clients.acme.siren): a "
        "receivable belongs to one seller, so two clients cannot share a SIREN",
    ]
