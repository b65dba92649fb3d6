"""A valid two-client configuration that each test bends in one place."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

VALID_CONFIG = """\
[gateway]
ledger_url = "sqlite:///var/ledger.sqlite"
timezone = "Europe/Paris"

[factor]
name = "Test Factor SA"
siren = "443061841"
collection_iban = "FR76 3000 6000 0112 3456 7890 189"

[factor.remittances]
path = "out/factor"
formats = ["csv"]
done_marker = true

[clients.acme]
name = "ACME SARL"
siren = "732829320"
sirets = ["73282932000074"]
vat_id = "FR44732829320"

[clients.acme.contract]
advance_rate = "0.90"
reserve_rate = "0.10"
fee_rate = "0.0035"
fee_vat_rate = "0.20"
financing_rate = "0.04"
day_count = "ACT/365"
max_term_days = 120
notified = false
currencies = ["EUR", "USD"]

[[clients.acme.inbound]]
id = "acme-inbox"
path = "clients/acme"
format = "ubl"
readiness = "rename"
stable_seconds = "0.5"

[clients.acme.acknowledgements]
path = "clients/acme/out"
formats = ["json"]

[[clients.acme.debtors]]
id = "ALPHA"
name = "ALPHA SA"
siren = "552100554"
approval_limit = "40000.00"
opening_outstanding = "30000.00"

[[clients.acme.debtors]]
id = "GAMMA"
name = "GAMMA GmbH"
vat_id = "DE136695976"
approval_limit = "0"
approval_currency = "USD"

[clients.bolt]
name = "BOLT SAS"
siren = "542065479"

[clients.bolt.contract]
advance_rate = "0.80"
reserve_rate = "0.20"
fee_rate = "0.01"
financing_rate = "0.05"

[[clients.bolt.inbound]]
id = "bolt-inbox"
path = "clients/bolt"

[clients.bolt.acknowledgements]
path = "clients/bolt/out"

[schedules]
scan_interval_seconds = 5
batch_size = 50
"""

WriteConfig = Callable[[str], Path]
ConfigWith = Callable[..., Path]


@pytest.fixture
def valid_config_text() -> str:
    return VALID_CONFIG


@pytest.fixture
def write_config(tmp_path: Path) -> WriteConfig:
    """Writes TOML text as ``etc/gateway.toml`` under the test's folder and returns its path."""

    def write(text: str) -> Path:
        folder = tmp_path / "etc"
        folder.mkdir(exist_ok=True)
        path = folder / "gateway.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def config_with(write_config: WriteConfig) -> ConfigWith:
    """The valid configuration with each ``(old, new)`` replaced exactly once, plus ``append``."""

    def write(*replacements: tuple[str, str], append: str = "") -> Path:
        text = VALID_CONFIG
        for old, new in replacements:
            assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in the base configuration"
            text = text.replace(old, new)
        return write_config(text + append)

    return write
