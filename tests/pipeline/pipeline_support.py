"""Helpers for the pipeline integrity and property tests (imported by name: those test modules put
this folder on ``sys.path``, as tests/ledger/conftest.py does for its own helpers).

A three-client configuration whose clients share one debtor, a whole pipeline wired on in-memory
transports (every inbound channel of every client, in configuration order), a CSV row builder, and
the ledger's tables read back with plain SQL to check what was really stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from gateway.ledger import Ledger
from gateway.ledger.schema import metadata
from gateway.pipeline import CycleReport, InboundRoute, Pipeline
from gateway.settings import ClientSettings, Settings
from gateway.transports.base import OutboundTransport
from gateway.transports.memory import MemoryInbound, MemoryOutbound

ACME_SIREN, ACME_SIRET, ACME_VAT = "732829320", "73282932000009", "FR44732829320"
BRAVO_SIREN, BRAVO_VAT = "443061841", "FR64443061841"
CHARLIE_SIREN, CHARLIE_VAT = "542065479", "FR82542065479"
ALPHA_SIREN = "552100554"  # the debtor every client has

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _client(client_id: str, name: str, siren: str, vat: str, channels: Sequence[str], extra: str = "") -> str:
    inbound = "".join(
        f'\n[[clients.{client_id}.inbound]]\nid = "{channel}"\npath = "clients/{channel}"\n'
        'format = "auto"\nreadiness = "rename"\n'
        for channel in channels
    )
    return f"""
[clients.{client_id}]
name = "{name}"
siren = "{siren}"
vat_id = "{vat}"
{extra}
[clients.{client_id}.contract]
advance_rate = "0.90"
reserve_rate = "0.10"
fee_rate = "0.0035"
fee_vat_rate = "0.20"
financing_rate = "0.04"
day_count = "ACT/360"
max_term_days = 120
notified = true
currencies = ["EUR"]
{inbound}
[clients.{client_id}.acknowledgements]
path = "clients/{client_id}/out"
formats = ["json"]

[[clients.{client_id}.debtors]]
id = "ALPHA"
name = "ALPHA SA"
siren = "{ALPHA_SIREN}"
approval_limit = "1000000.00"
"""


#: Business date fixed at 2025-03-10; acme has two inbound channels, bravo and charlie one each.
#: No ``max_invoice_amount``: every contract has the default plausibility cap.
CONFIG = (
    """\
[gateway]
ledger_url = "sqlite:///var/ledger.sqlite"
timezone = "Europe/Paris"
as_of = "2025-03-10"

[factor]
name = "Affacturage Test SA"
siren = "802954784"
collection_iban = "FR7630006000011234567890189"

[factor.remittances]
path = "out/factor"
formats = ["json"]

[schedules]
scan_interval_seconds = 5
batch_size = 200
"""
    + _client(
        "acme", "ACME SARL", ACME_SIREN, ACME_VAT, ["acme-inbox", "acme-portal"], f'sirets = ["{ACME_SIRET}"]'
    )
    + _client("bravo", "BRAVO SAS", BRAVO_SIREN, BRAVO_VAT, ["bravo-inbox"])
    + _client("charlie", "CHARLIE SAS", CHARLIE_SIREN, CHARLIE_VAT, ["charlie-inbox"])
)


def write_config(folder: Path, config: str = CONFIG) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "gateway.toml"
    path.write_text(config, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- databases


@dataclass
class Databases:
    """Where a test's ledger lives, for the backend it runs on."""

    backend: str
    url: str  # the test's ledger database (empty until first opened)
    fresh: Callable[[], str]  # an empty ledger database again (hypothesis: one per example)


def _truncate_postgresql(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            if conn.execute(text("SELECT to_regclass('envelopes')")).scalar() is not None:
                tables = ", ".join(t.name for t in metadata.sorted_tables if t.name != "ledger_identity")
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


def databases_for(request: pytest.FixtureRequest, tmp_path: Path) -> Databases:
    """The body of each test module's ``databases`` fixture (parametrised with :data:`BACKENDS`)."""
    counter = iter(range(1_000_000))
    if request.param == "sqlite":

        def fresh_sqlite() -> str:
            folder = tmp_path / f"ledger{next(counter)}"
            folder.mkdir()
            return f"sqlite:///{folder / 'ledger.sqlite'}"

        return Databases("sqlite", fresh_sqlite(), fresh_sqlite)
    url: str = request.getfixturevalue("pg_server").create()

    def fresh_postgresql() -> str:
        _truncate_postgresql(url)
        return url

    return Databases("postgresql", url, fresh_postgresql)


# --------------------------------------------------------------------------- CSV batches

HEADER = (
    "invoice_number;type_code;issue_date;due_date;currency;seller_siren;seller_name;seller_vat;"
    "buyer_name;buyer_siren;total_without_vat;total_vat;total_with_vat"
)


def row(
    number: str,
    *,
    issue: str = "2025-03-05",
    due: str = "2025-05-04",
    seller_siren: str = ACME_SIREN,
    seller_vat: str = "",
    seller_name: str = "ACME SARL",
    amount: str = "100.00",
    currency: str = "EUR",
    type_code: str = "380",
) -> str:
    """One csv-batch row of an invoice on ALPHA, without VAT (so the totals always add up)."""
    return ";".join(
        [
            number, type_code, issue, due, currency, seller_siren, seller_name, seller_vat,
            "ALPHA SA", ALPHA_SIREN, amount, "0.00", amount,
        ]
    )  # fmt: skip


def batch(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


# --------------------------------------------------------------------------- the pipeline


def acknowledgement_lines(ack: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(number, verdict, issue codes) of each line of an acknowledgement, in file order."""
    return [(line["number"], line["verdict"], [i["code"] for i in line["issues"]]) for line in ack["lines"]]


class Gateway:
    """Every client's every inbound channel on memory transports, one pipeline, one ledger."""

    def __init__(self, settings: Settings, url: str) -> None:
        self.settings = settings
        self.url = url
        self.ledger = Ledger.open(url)
        self.engine = create_engine(url)  # reads the tables as stored, bypassing the ledger's code
        self.inboxes: dict[str, MemoryInbound] = {}
        self.owner: dict[str, ClientSettings] = {}  # channel id -> its client
        self.factor_out = MemoryOutbound(settings.factor.remittances.id)
        self.acks: dict[str, MemoryOutbound] = {}
        routes: list[InboundRoute] = []
        outbound: dict[str, OutboundTransport] = {self.factor_out.channel: self.factor_out}
        for client in settings.clients:
            self.acks[client.id] = MemoryOutbound(client.acknowledgements.id)
            outbound[client.acknowledgements.id] = self.acks[client.id]
            for channel in client.inbound:
                self.inboxes[channel.id] = MemoryInbound(channel.id)
                self.owner[channel.id] = client
                routes.append(InboundRoute(client, channel, self.inboxes[channel.id]))
        self.routes = routes
        self.pipeline = Pipeline(settings, self.ledger, routes, outbound)

    def close(self) -> None:
        for inbox in self.inboxes.values():
            inbox.close()
        self.engine.dispose()
        self.ledger.close()

    def drop(self, channel: str, name: str, data: bytes, mtime_ns: int | None = None) -> None:
        self.inboxes[channel].drop(name, data, mtime_ns)

    def cycle(self) -> CycleReport:
        return self.pipeline.run_cycle()

    def acknowledgements(self, client_id: str) -> dict[str, dict[str, Any]]:
        """source name -> the JSON acknowledgement delivered to ``client_id`` for it."""
        found: dict[str, dict[str, Any]] = {}
        for name, data in sorted(self.acks[client_id].files.items()):
            if name.endswith(".json"):
                ack: dict[str, Any] = json.loads(data)
                found[ack["source_name"]] = ack
        return found

    def acknowledgement(self, client_id: str, source_name: str) -> dict[str, Any]:
        acks = self.acknowledgements(client_id)
        assert source_name in acks, f"no acknowledgement to {client_id} for {source_name}: {sorted(acks)}"
        return acks[source_name]

    def remittances(self) -> list[dict[str, Any]]:
        return [
            json.loads(data) for name, data in sorted(self.factor_out.files.items()) if name.endswith(".json")
        ]

    # -- the ledger as stored ---------------------------------------------------------

    def query(self, sql: str, **params: object) -> list[tuple[Any, ...]]:
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]

    def accepted_documents(self) -> list[tuple[Any, ...]]:
        """(seller_key, normalised_number, issue_date, remittance_id, document client, envelope client,
        envelope channel) of every accepted document."""
        return self.query(
            "SELECT d.seller_key, d.normalised_number, d.issue_date, d.remittance_id, d.client_id, "
            "e.client_id, e.channel FROM documents d JOIN envelopes e ON e.id = d.envelope_id "
            "WHERE d.verdict = 'accepted' ORDER BY d.id"
        )

    def assignment_keys(self) -> list[tuple[Any, ...]]:
        """(client_id, seller_key, normalised_number, issue_date) of every key, sorted."""
        return sorted(
            self.query("SELECT client_id, seller_key, normalised_number, issue_date FROM assignment_keys"),
            key=repr,
        )

    def stored_texts(self) -> Iterator[tuple[str, str, str]]:
        """(table, column, value) of every text value of every ledger table."""
        with self.engine.connect() as conn:
            for table in metadata.sorted_tables:
                # Plain SQL: the values as the database holds them, not as the ledger's types read them.
                result = conn.execute(text(f"SELECT * FROM {table.name}"))
                names = list(result.keys())
                for values in result:
                    for name, value in zip(names, values, strict=True):
                        if isinstance(value, str):
                            yield table.name, name, value
