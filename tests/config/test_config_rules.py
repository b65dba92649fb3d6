"""Each rule of gateway.toml, broken on purpose, reported as one exact ``key.path: message`` line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.config import check_settings, load_settings
from gateway.errors import ConfigError

ConfigWith = Callable[..., Path]  # the conftest fixture that bends the valid configuration

SECOND_BOLT_CHANNEL = """
[[clients.bolt.inbound]]
id = "bolt-drop"
path = "clients/bolt"
"""

RULES: list[tuple[str, list[tuple[str, str]], str, str]] = [
    # (name, replacements, appended text, the one expected problem)
    (
        "rate above 1",
        [('advance_rate = "0.90"', 'advance_rate = "1.5"')],
        "",
        "clients.acme.contract.advance_rate: must be between 0 and 1 (got 1.5)",
    ),
    (
        "negative rate",
        [('financing_rate = "0.04"', 'financing_rate = "-0.01"')],
        "",
        "clients.acme.contract.financing_rate: must be between 0 and 1 (got -0.01)",
    ),
    (
        "advance plus reserve above 1",
        [('reserve_rate = "0.10"', 'reserve_rate = "0.15"')],
        "",
        "clients.acme.contract.reserve_rate: advance_rate + reserve_rate must be at most 1 (got 0.90 "
        "+ 0.15 = 1.05)",
    ),
    (
        "rate that is not a number",
        [('fee_rate = "0.0035"', 'fee_rate = "0,35%"')],
        "",
        'clients.acme.contract.fee_rate: must be a decimal number, preferably quoted, such as "0.90" '
        '(got "0,35%")'
        "; use a dot as the decimal separator",
    ),
    (
        "unknown key close to a known one",
        [('advance_rate = "0.90"', 'advance_rate = "0.90"\nadvanse_rate = "0.90"')],
        "",
        "clients.acme.contract.advanse_rate: unknown key; did you mean 'advance_rate'?",
    ),
    (
        "unknown key far from any",
        [("batch_size = 50", "batch_size = 50\ncolour = 1")],
        "",
        "schedules.colour: unknown key; expected one of 'batch_size', 'scan_interval_seconds'",
    ),
    (
        "unknown table",
        [("[schedules]", "[schedule]")],
        "",
        "schedule: unknown key; did you mean 'schedules'?",
    ),
    (
        "required key missing",
        [('fee_rate = "0.01"\n', "")],
        "",
        "clients.bolt.contract.fee_rate: is required",
    ),
    (
        "amount with three decimals",
        [('approval_limit = "40000.00"', 'approval_limit = "40000.005"')],
        "",
        "clients.acme.debtors[ALPHA].approval_limit: must have at most 2 decimals (got 40000.005)",
    ),
    (
        "unquoted amount with three decimals is not rounded either",
        [('opening_outstanding = "30000.00"', "opening_outstanding = 0.125")],
        "",
        "clients.acme.debtors[ALPHA].opening_outstanding: must have at most 2 decimals (got 0.125)",
    ),
    (
        "negative outstanding",
        [('opening_outstanding = "30000.00"', 'opening_outstanding = "-1.00"')],
        "",
        "clients.acme.debtors[ALPHA].opening_outstanding: must be 0 or more (got -1.00)",
    ),
    (
        "outstanding above the limit is allowed (limit reduced), so only the scale is checked",
        [('opening_outstanding = "30000.00"', 'opening_outstanding = "50000.00"'), ("ALPHA SA", "ALPHA")],
        "",
        "",
    ),
    (
        "siren with a wrong check digit",
        [('siren = "443061841"', 'siren = "443061842"')],
        "",
        'factor.siren: is not a valid SIREN: its check digit is wrong (got "443061842")',
    ),
    (
        "siren too short",
        [('siren = "542065479"', 'siren = "54206547"')],
        "",
        'clients.bolt.siren: is not a valid SIREN: must have 9 digits (got "54206547")',
    ),
    (
        "siret of another company",
        [('sirets = ["73282932000074"]', 'sirets = ["55210055400013"]')],
        "",
        "clients.acme.sirets: every SIRET must start with the client's siren 732829320 (got "
        '"55210055400013")',
    ),
    (
        "siret listed twice",
        [('sirets = ["73282932000074"]', 'sirets = ["73282932000074", "73282932000074"]')],
        "",
        'clients.acme.sirets: lists "73282932000074" twice',
    ),
    (
        "siret with a wrong check digit",
        [('sirets = ["73282932000074"]', 'sirets = ["73282932000075"]')],
        "",
        'clients.acme.sirets: is not a valid SIRET: its check digit is wrong (got "73282932000075")',
    ),
    (
        "VAT number of another French company",
        [('vat_id = "FR44732829320"', 'vat_id = "FR40303265045"')],
        "",
        'clients.acme.vat_id: French VAT number "FR40303265045" belongs to SIREN 303265045, not to '
        'siren "732829320"',
    ),
    (
        "VAT number with a bad checksum",
        [('vat_id = "DE136695976"', 'vat_id = "DE136695977"')],
        "",
        "clients.acme.debtors[GAMMA].vat_id: is not a valid EU VAT number: "
        'the number\'s checksum or check digit is invalid (got "DE136695977")',
    ),
    (
        "debtor without siren nor VAT number",
        [('vat_id = "DE136695976"\n', "")],
        "",
        "clients.acme.debtors[GAMMA]: needs a siren or a vat_id (at least one) to recognise the "
        "debtor on invoices",
    ),
    (
        "IBAN with wrong check digits",
        [
            (
                'collection_iban = "FR76 3000 6000 0112 3456 7890 189"',
                'collection_iban = "FR77 3000 6000 0112 3456 7890 189"',
            )
        ],
        "",
        'factor.collection_iban: is not a valid IBAN: invalid checksum digits (got "FR77 3000 6000 '
        '0112 3456 7890 189")',
    ),
    (
        "unknown time zone",
        [('timezone = "Europe/Paris"', 'timezone = "Europe/Pari"')],
        "",
        "gateway.timezone: is not a known IANA time zone (got \"Europe/Pari\"); did you mean 'Europe/Paris'?",
    ),
    (
        "currency in lower case",
        [('currencies = ["EUR", "USD"]', 'currencies = ["eur"]'), ('approval_currency = "USD"\n', "")],
        "",
        'clients.acme.contract.currencies: must be an ISO 4217 code in capitals such as "EUR" (got "eur")',
    ),
    (
        "currency that does not exist",
        [('currencies = ["EUR", "USD"]', 'currencies = ["EUR", "USD", "EUX"]')],
        "",
        'clients.acme.contract.currencies: is not an ISO 4217 currency code (got "EUX")',
    ),
    (
        "no currency",
        [('currencies = ["EUR", "USD"]', "currencies = []"), ('approval_currency = "USD"\n', "")],
        "",
        "clients.acme.contract.currencies: must not be empty",
    ),
    (
        "approval in a currency outside the contract",
        [('approval_currency = "USD"', 'approval_currency = "GBP"')],
        "",
        "clients.acme.debtors[GAMMA].approval_currency: must be one of the contract's currencies "
        '("EUR", "USD") '
        '(got "GBP")',
    ),
    (
        "day count convention",
        [('day_count = "ACT/365"', 'day_count = "30/360"')],
        "",
        'clients.acme.contract.day_count: must be "ACT/360" or "ACT/365" (got "30/360")',
    ),
    (
        "term too long",
        [("max_term_days = 120", "max_term_days = 366")],
        "",
        "clients.acme.contract.max_term_days: must be between 1 and 365 (got 366)",
    ),
    (
        "term written in quotes",
        [("max_term_days = 120", 'max_term_days = "120"')],
        "",
        'clients.acme.contract.max_term_days: must be a whole number without quotes (got "120")',
    ),
    (
        "flag written in quotes",
        [("notified = false", 'notified = "no"')],
        "",
        'clients.acme.contract.notified: must be true or false without quotes (got "no")',
    ),
    (
        "inbound format",
        [('format = "ubl"', 'format = "xml"')],
        "",
        'clients.acme.inbound[acme-inbox].format: must be "auto", "ubl", "cii", "facturx" or "csv-batch" '
        '(got "xml")',
    ),
    (
        "readiness misspelt",
        [('readiness = "rename"', 'readiness = "renamed"')],
        "",
        'clients.acme.inbound[acme-inbox].readiness: must be "stable", "rename" or "closed" (got "renamed"); '
        "did you mean 'rename'?",
    ),
    (
        "outbound format",
        [('formats = ["json"]', 'formats = ["json", "xls"]')],
        "",
        'clients.acme.acknowledgements.formats: must be "csv", "json", "xlsx", "csv-fr" or "pdf" '
        """(got "xls"); did you mean 'xlsx'?""",
    ),
    (
        "the PDF bordereau on an acknowledgements channel",
        [('formats = ["json"]', 'formats = ["json", "xlsx", "pdf"]')],
        "",
        'clients.acme.acknowledgements.formats: "pdf" is written for the factor\'s remittances only (the '
        "bordereau de cession, in [factor.remittances]); acknowledgements can be "
        '"csv", "json", "xlsx" or "csv-fr"',
    ),
    (
        "no outbound format",
        [('formats = ["csv"]', "formats = []")],
        "",
        "factor.remittances.formats: must not be empty",
    ),
    (
        "client id with capitals",
        [
            ("[clients.bolt]", "[clients.Bolt]"),
            ("[clients.bolt.contract]", "[clients.Bolt.contract]"),
            ("[[clients.bolt.inbound]]", "[[clients.Bolt.inbound]]"),
            ("[clients.bolt.acknowledgements]", "[clients.Bolt.acknowledgements]"),
        ],
        "",
        'clients.Bolt: this id must be 1 to 32 characters among a-z, 0-9, _ and - (got "Bolt")',
    ),
    (
        "channel id used by two clients",
        [('id = "bolt-inbox"', 'id = "acme-inbox"')],
        "",
        'clients.bolt.inbound[acme-inbox].id: channel id "acme-inbox" is already used by '
        "clients.acme.inbound[acme-inbox]",
    ),
    (
        "channel id used twice by one client",
        [],
        SECOND_BOLT_CHANNEL.replace("bolt-drop", "bolt-inbox").replace("clients/bolt", "clients/bolt2"),
        'clients.bolt.inbound[#2].id: channel id "bolt-inbox" is already used by clients.bolt.inbound[#1]',
    ),
    (
        "channel id with a space",
        [('id = "bolt-inbox"', 'id = "bolt inbox"')],
        "",
        "clients.bolt.inbound[#1].id: must be 1 to 64 characters among A-Z, a-z, 0-9, _, . and - "
        '(starting with a letter or digit) (got "bolt inbox")',
    ),
    (
        "debtor id used twice",
        [('id = "GAMMA"', 'id = "ALPHA"')],
        "",
        'clients.acme.debtors[#2].id: debtor id "ALPHA" is already used by clients.acme.debtors[#1]',
    ),
    (
        "one client's folder inside another's",
        [('path = "clients/bolt"\n', 'path = "clients/acme/bolt"\n')],
        "",
        "clients.bolt.inbound[bolt-inbox].path: folder {etc}/clients/acme/bolt overlaps "
        "clients.acme.inbound[acme-inbox].path ({etc}/clients/acme); "
        "each client and the factor need folders of their own",
    ),
    (
        "a client receiving the factor's remittances",
        [('path = "clients/bolt/out"', 'path = "out"')],
        "",
        "clients.bolt.acknowledgements.path: folder {etc}/out overlaps factor.remittances.path "
        "({etc}/out/factor); "
        "each client and the factor need folders of their own",
    ),
    (
        "two channels of one client on one folder",
        [],
        SECOND_BOLT_CHANNEL,
        "clients.bolt.inbound[bolt-drop].path: is the same folder as clients.bolt.inbound[bolt-inbox].path; "
        "two channels cannot share one",
    ),
    (
        "no inbound channel",
        [('[[clients.bolt.inbound]]\nid = "bolt-inbox"\npath = "clients/bolt"\n', "")],
        "",
        "clients.bolt.inbound: is required",
    ),
    (
        "inbound written as a single table",
        [("[[clients.bolt.inbound]]", "[clients.bolt.inbound]")],
        "",
        "clients.bolt.inbound: must be an array of tables: write each entry under its own [[...]] header",
    ),
    (
        "scan interval too short",
        [("scan_interval_seconds = 5", "scan_interval_seconds = 0.05")],
        "",
        "schedules.scan_interval_seconds: must be 0.1 or more (got 0.05)",
    ),
    (
        "batch size zero",
        [("batch_size = 50", "batch_size = 0")],
        "",
        "schedules.batch_size: must be between 1 and 10000 (got 0)",
    ),
    (
        "business date",
        [('timezone = "Europe/Paris"', 'as_of = "10/03/2025"')],
        "",
        'gateway.as_of: must be a date written YYYY-MM-DD (got "10/03/2025")',
    ),
    (
        "ledger URL that is not a URL",
        [('ledger_url = "sqlite:///var/ledger.sqlite"', 'ledger_url = "var/ledger.sqlite"')],
        "",
        'gateway.ledger_url: must be a database URL such as "sqlite:///ledger.sqlite" or '
        '"postgresql+psycopg://gateway@dbhost/gateway" (got "var/ledger.sqlite")',
    ),
    (
        "ledger URL with a password",
        [('ledger_url = "sqlite:///var/ledger.sqlite"', 'ledger_url = "postgresql://gw:s3cret@db/gw"')],
        "",
        "gateway.ledger_url: must not contain a password: write the whole URL in a file only the "
        "gateway can read "
        "and set gateway.ledger_url_file to that file's path instead",
    ),
    (
        "ledger URL with a password in its query",
        [
            (
                'ledger_url = "sqlite:///var/ledger.sqlite"',
                'ledger_url = "postgresql://db/gw?user=gw&password=x"',
            )
        ],
        "",
        "gateway.ledger_url: must not contain a password: write the whole URL in a file only the "
        "gateway can read "
        "and set gateway.ledger_url_file to that file's path instead",
    ),
    (
        "both ledger keys",
        [
            (
                'ledger_url = "sqlite:///var/ledger.sqlite"',
                'ledger_url = "sqlite:///l"\nledger_url_file = "secret"',
            )
        ],
        "",
        "gateway.ledger_url_file: set either ledger_url or ledger_url_file, not both",
    ),
    (
        "secret file missing",
        [('ledger_url = "sqlite:///var/ledger.sqlite"', 'ledger_url_file = "secret"')],
        "",
        "gateway.ledger_url_file: cannot read {etc}/secret (No such file or directory)",
    ),
    (
        "secret file without a URL",
        [('ledger_url = "sqlite:///var/ledger.sqlite"', 'ledger_url_file = "gateway.toml"')],
        "",
        "gateway.ledger_url_file: {etc}/gateway.toml must hold one database URL such as sqlite:///…",
    ),
    (
        "a table written as a value",
        [
            ('[clients.bolt.acknowledgements]\npath = "clients/bolt/out"\n', ""),
            ('siren = "542065479"', 'siren = "542065479"\nacknowledgements = "clients/bolt/out"'),
        ],
        "",
        'clients.bolt.acknowledgements: must be a table (got "clients/bolt/out")',
    ),
    (
        "text written as a number",
        [('name = "BOLT SAS"', "name = 42")],
        "",
        "clients.bolt.name: must be text in double quotes (got 42)",
    ),
]


@pytest.mark.parametrize(
    ("replacements", "appended", "expected"),
    [
        pytest.param(replacements, appended, expected, id=name)
        for name, replacements, appended, expected in RULES
    ],
)
def test_config_rule_is_reported_with_its_key_path(
    config_with: ConfigWith, tmp_path: Path, replacements: list[tuple[str, str]], appended: str, expected: str
) -> None:
    path = config_with(*replacements, append=appended)
    etc = (tmp_path / "etc").resolve()
    assert check_settings(path) == ([expected.format(etc=etc)] if expected else [])


def test_config_reports_every_problem_at_once(config_with: ConfigWith) -> None:
    path = config_with(
        ('advance_rate = "0.90"', 'advance_rate = "1.5"'),
        ('timezone = "Europe/Paris"', 'timezone = "Mars/Olympus"'),
        ('approval_limit = "40000.00"', 'approval_limit = "1.001"'),
        ('id = "bolt-inbox"', 'id = "acme-inbox"'),
        ("batch_size = 50", "batch_sise = 50"),
    )
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    assert sorted(raised.value.problems) == sorted(
        [
            "clients.acme.contract.advance_rate: must be between 0 and 1 (got 1.5)",
            # 0.90 + 0.10 fits, and a rate that failed is not checked twice
            'gateway.timezone: is not a known IANA time zone (got "Mars/Olympus")',
            "clients.acme.debtors[ALPHA].approval_limit: must have at most 2 decimals (got 1.001)",
            'clients.bolt.inbound[acme-inbox].id: channel id "acme-inbox" is already used by '
            "clients.acme.inbound[acme-inbox]",
            "schedules.batch_sise: unknown key; did you mean 'batch_size'?",
        ]
    )
    assert all(problem in str(raised.value) for problem in raised.value.problems)


def test_config_problems_inside_a_broken_client_do_not_hide_the_others(config_with: ConfigWith) -> None:
    path = config_with(
        ('siren = "542065479"', 'siren = "1"'),
        ('reserve_rate = "0.20"', 'reserve_rate = "0.30"'),
        ('path = "clients/bolt/out"', 'path = "clients/acme"'),
    )
    assert check_settings(path) == [
        'clients.bolt.siren: is not a valid SIREN: must have 9 digits (got "1")',
        "clients.bolt.contract.reserve_rate: advance_rate + reserve_rate must be at most 1 (got 0.80 "
        "+ 0.30 = 1.10)",
        f"clients.bolt.acknowledgements.path: folder {path.parent.resolve()}/clients/acme overlaps "
        f"clients.acme.inbound[acme-inbox].path ({path.parent.resolve()}/clients/acme); "
        "each client and the factor need folders of their own",
    ]
