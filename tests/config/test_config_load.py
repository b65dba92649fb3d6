"""A valid gateway.toml becomes exactly the Settings objects the rest of the gateway reads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.config import check_settings, load_settings
from gateway.errors import ConfigError
from gateway.settings import (
    ClientSettings,
    ContractTerms,
    DebtorSettings,
    FactorSettings,
    InboundChannel,
    LocalFolderSettings,
    OutboundChannel,
    ScheduleSettings,
    Settings,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "schemas" / "gateway.example.toml"

WriteConfig = Callable[[str], Path]  # the conftest fixture that writes etc/gateway.toml
ConfigWith = Callable[..., Path]  # the conftest fixture that bends the valid configuration


def test_full_configuration_loads_into_the_exact_settings(config_with: ConfigWith, tmp_path: Path) -> None:
    path = config_with()
    etc = (tmp_path / "etc").resolve()
    expected = Settings(
        source=path.resolve(),
        ledger_url=f"sqlite:///{etc}/var/ledger.sqlite",
        timezone="Europe/Paris",
        as_of=None,
        factor=FactorSettings(
            name="Test Factor SA",
            siren="443061841",
            collection_iban="FR7630006000011234567890189",
            remittances=OutboundChannel(
                id="factor:remittances",
                transport=LocalFolderSettings(root=etc / "out" / "factor", done_marker=True),
                formats=("csv",),
            ),
        ),
        clients=(
            ClientSettings(
                id="acme",
                name="ACME SARL",
                siren="732829320",
                sirets=("73282932000074",),
                vat_id="FR44732829320",
                contract=ContractTerms(
                    advance_rate=Decimal("0.90"),
                    reserve_rate=Decimal("0.10"),
                    fee_rate=Decimal("0.0035"),
                    fee_vat_rate=Decimal("0.20"),
                    financing_rate=Decimal("0.04"),
                    day_count="ACT/365",
                    max_term_days=120,
                    notified=False,
                    currencies=("EUR", "USD"),
                ),
                debtors=(
                    DebtorSettings(
                        id="ALPHA",
                        name="ALPHA SA",
                        siren="552100554",
                        vat_id=None,
                        approval_limit=Decimal("40000.00"),
                        approval_currency="EUR",
                        opening_outstanding=Decimal("30000.00"),
                    ),
                    DebtorSettings(
                        id="GAMMA",
                        name="GAMMA GmbH",
                        siren=None,
                        vat_id="DE136695976",
                        approval_limit=Decimal("0"),
                        approval_currency="USD",
                        opening_outstanding=Decimal("0.00"),
                    ),
                ),
                inbound=(
                    InboundChannel(
                        id="acme-inbox",
                        transport=LocalFolderSettings(
                            root=etc / "clients" / "acme", readiness="rename", stable_seconds=0.5
                        ),
                        format="ubl",
                    ),
                ),
                acknowledgements=OutboundChannel(
                    id="acme:acknowledgements",
                    transport=LocalFolderSettings(root=etc / "clients" / "acme" / "out"),
                    formats=("json",),
                ),
            ),
            ClientSettings(
                id="bolt",
                name="BOLT SAS",
                siren="542065479",
                sirets=(),
                vat_id=None,
                contract=ContractTerms(
                    advance_rate=Decimal("0.80"),
                    reserve_rate=Decimal("0.20"),
                    fee_rate=Decimal("0.01"),
                    fee_vat_rate=Decimal("0.20"),
                    financing_rate=Decimal("0.05"),
                    day_count="ACT/360",
                    max_term_days=90,
                    notified=True,
                    currencies=("EUR",),
                ),
                debtors=(),
                inbound=(
                    InboundChannel(
                        id="bolt-inbox",
                        transport=LocalFolderSettings(root=etc / "clients" / "bolt"),
                        format="auto",
                    ),
                ),
                acknowledgements=OutboundChannel(
                    id="bolt:acknowledgements",
                    transport=LocalFolderSettings(root=etc / "clients" / "bolt" / "out"),
                    formats=("csv", "json"),
                ),
            ),
        ),
        schedules=ScheduleSettings(scan_interval_seconds=5.0, batch_size=50),
    )
    assert load_settings(path) == expected
    assert check_settings(path) == []


def test_the_reference_example_file_is_valid() -> None:
    assert check_settings(EXAMPLE) == []
    settings = load_settings(EXAMPLE)
    acme = settings.client("acme")
    assert acme is not None
    alpha = acme.debtor("ALPHA")
    assert alpha is not None
    assert (alpha.approval_limit, alpha.opening_outstanding) == (Decimal("40000.00"), Decimal("30000.00"))
    assert settings.ledger_url == f"sqlite:///{EXAMPLE.parent}/var/ledger.sqlite"


def test_defaults_fill_a_minimal_configuration(write_config: WriteConfig) -> None:
    path = write_config(
        """
        [factor]
        name = "F"
        siren = "443061841"
        collection_iban = "FR7630006000011234567890189"
        remittances = { path = "out" }

        [clients.c1]
        name = "C1"
        siren = "732829320"
        contract = { advance_rate = "0.9", reserve_rate = "0.1", fee_rate = "0", financing_rate = "0" }
        inbound = [{ id = "c1", path = "in/c1" }]
        acknowledgements = { path = "ack/c1" }
        debtors = [{ id = "D", name = "D SA", siren = "552100554", approval_limit = "10" }]
        """
    )
    settings = load_settings(path)
    folder = path.parent.resolve()
    assert settings.ledger_url == f"sqlite:///{folder}/ledger.sqlite"
    assert (settings.timezone, settings.as_of, settings.schedules) == (
        "Europe/Paris",
        None,
        ScheduleSettings(),
    )
    assert settings.factor.remittances.formats == ("csv", "json")
    assert settings.factor.remittances.transport.done_marker is False
    client = settings.clients[0]
    contract = client.contract
    assert (contract.fee_vat_rate, contract.day_count, contract.max_term_days) == (
        Decimal("0.20"),
        "ACT/360",
        90,
    )
    assert (contract.notified, contract.currencies) == (True, ("EUR",))
    assert (client.sirets, client.vat_id) == ((), None)
    assert client.acknowledgements.formats == ("csv", "json")
    channel = client.inbound[0]
    assert (channel.format, channel.transport.readiness, channel.transport.stable_seconds) == (
        "auto",
        "stable",
        2.0,
    )
    debtor = client.debtors[0]
    assert (debtor.vat_id, debtor.approval_currency) == (None, "EUR")
    assert str(debtor.opening_outstanding) == "0.00"


def test_decimals_keep_the_scale_of_their_text_quoted_or_not(config_with: ConfigWith) -> None:
    path = config_with(
        ('advance_rate = "0.90"', "advance_rate = 0.90"),
        ('fee_rate = "0.0035"', "fee_rate = 0.0035"),
        ('approval_limit = "40000.00"', "approval_limit = 40000.10"),
        ('opening_outstanding = "30000.00"', "opening_outstanding = 1e3"),
    )
    acme = load_settings(path).clients[0]
    assert str(acme.contract.advance_rate) == "0.90"  # parsed from the text, not through a float
    assert str(acme.contract.fee_rate) == "0.0035"
    assert str(acme.contract.reserve_rate) == "0.10"
    assert str(acme.debtors[0].approval_limit) == "40000.10"
    assert acme.debtors[0].opening_outstanding == Decimal(1000)
    assert all(isinstance(rate, Decimal) for rate in (acme.contract.advance_rate, acme.contract.fee_rate))


def test_relative_paths_follow_the_configuration_not_the_working_directory(
    config_with: ConfigWith, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_with(('path = "clients/bolt"\n', 'path = "/srv/drop/bolt"\n'))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(Path("..") / "etc" / "gateway.toml")
    etc = (tmp_path / "etc").resolve()
    assert settings.source == etc / "gateway.toml"
    assert settings.factor.remittances.transport.root == etc / "out" / "factor"
    assert settings.clients[0].inbound[0].transport.root == etc / "clients" / "acme"
    assert settings.clients[1].inbound[0].transport.root == Path("/srv/drop/bolt")
    assert settings.ledger_url == f"sqlite:///{etc}/var/ledger.sqlite"


@pytest.mark.parametrize(
    ("configured", "loaded"),
    [
        ("sqlite:////var/lib/gateway/ledger.sqlite", "sqlite:////var/lib/gateway/ledger.sqlite"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        (
            "postgresql+psycopg://gateway@db.example/gateway",
            "postgresql+psycopg://gateway@db.example/gateway",
        ),
        ("sqlite+pysqlite:///data/l.sqlite?timeout=5", "sqlite+pysqlite:///{etc}/data/l.sqlite?timeout=5"),
    ],
)
def test_ledger_urls_only_relative_sqlite_files_are_anchored(
    config_with: ConfigWith, tmp_path: Path, configured: str, loaded: str
) -> None:
    path = config_with(('ledger_url = "sqlite:///var/ledger.sqlite"', f'ledger_url = "{configured}"'))
    etc = (tmp_path / "etc").resolve()
    assert load_settings(path).ledger_url == loaded.format(etc=etc)


def test_ledger_url_file_is_read_and_may_hold_a_password(config_with: ConfigWith, tmp_path: Path) -> None:
    secret = tmp_path / "etc" / "secrets" / "ledger_url"
    secret.parent.mkdir(parents=True)
    secret.write_text("postgresql+psycopg://gateway:s3cret@db.example/gateway\n", encoding="utf-8")
    path = config_with(
        ('ledger_url = "sqlite:///var/ledger.sqlite"', 'ledger_url_file = "secrets/ledger_url"'),
    )
    assert load_settings(path).ledger_url == "postgresql+psycopg://gateway:s3cret@db.example/gateway"


def test_command_line_flags_override_the_file(config_with: ConfigWith) -> None:
    path = config_with(('timezone = "Europe/Paris"', 'timezone = "Europe/Paris"\nas_of = 2025-03-10'))
    assert load_settings(path).as_of == date(2025, 3, 10)
    overridden = load_settings(path, as_of=date(2025, 4, 1), ledger_url="sqlite:///:memory:")
    assert (overridden.as_of, overridden.ledger_url) == (date(2025, 4, 1), "sqlite:///:memory:")


def test_a_ledger_url_flag_means_the_secret_file_is_not_needed(config_with: ConfigWith) -> None:
    path = config_with(('ledger_url = "sqlite:///var/ledger.sqlite"', 'ledger_url_file = "absent/secret"'))
    with pytest.raises(ConfigError):
        load_settings(path)
    assert load_settings(path, ledger_url="sqlite:///:memory:").ledger_url == "sqlite:///:memory:"


def test_as_of_may_be_quoted(config_with: ConfigWith) -> None:
    path = config_with(('timezone = "Europe/Paris"', 'as_of = "2025-03-10"'))
    assert load_settings(path).as_of == date(2025, 3, 10)


def test_formats_for_people_load_on_both_kinds_of_channel(config_with: ConfigWith) -> None:
    """The factor's remittances take every format (the PDF bordereau included), a client's
    acknowledgements every format but the PDF (refused in test_config_rules)."""
    settings = load_settings(
        config_with(
            ('formats = ["csv"]', 'formats = ["csv", "json", "xlsx", "csv-fr", "pdf"]'),
            ('formats = ["json"]', 'formats = ["xlsx", "csv-fr"]'),
        )
    )
    assert settings.factor.remittances.formats == ("csv", "json", "xlsx", "csv-fr", "pdf")
    acme = settings.client("acme")
    assert acme is not None and acme.acknowledgements.formats == ("xlsx", "csv-fr")
