"""The validated configuration as plain frozen objects.

:mod:`gateway.config` turns ``gateway.toml`` into these (marshmallow does the
checking); everything else reads only these objects, never the TOML.
Paths are absolute (resolved against the configuration file's folder).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

#: E-invoice profiles, as :class:`gateway.model.EInvoiceFacts` names them (read from BT-24).
PROFILES = (
    "minimum",
    "basicwl",
    "basic",
    "en16931",
    "extended",
    "extended-ctc-fr",
    "xrechnung",
    "peppol",
    "zugferd1",
)
#: What a contract accepts unless it says otherwise: every profile that carries invoice lines and a
#: due date. MINIMUM has neither, BASIC WL has no lines, ZUGFeRD 1.0 predates EN 16931.
DEFAULT_ACCEPTED_PROFILES = ("basic", "en16931", "extended", "extended-ctc-fr", "xrechnung", "peppol")
#: How the assignment mention (payee and account of the factor, or the ``ACC`` note) weighs.
ASSIGNMENT_MENTION_LEVELS = ("fatal", "warning", "off")


@dataclass(frozen=True, slots=True)
class ContractTerms:
    """The factoring agreement of one client (see the brief, §1.4 and §1.6)."""

    advance_rate: Decimal  # share of the financeable amount paid in advance, 0..1 (e.g. 0.90)
    reserve_rate: Decimal  # guarantee reserve, 0..1 (e.g. 0.10)
    fee_rate: Decimal  # factoring commission on remitted TTC, 0..1 (e.g. 0.0035)
    fee_vat_rate: Decimal  # VAT on the commission (0.20 in France)
    financing_rate: Decimal  # yearly rate of the financing commission (index + margin), 0..1
    day_count: str  # "ACT/360" or "ACT/365"
    max_term_days: int  # latest acceptable due date, counted from the issue date
    notified: bool  # True: debtors are told to pay the factor
    currencies: tuple[str, ...]  # ISO 4217 codes the contract covers
    # Largest amount one document may carry (invoice or credit note, in its own currency): beyond it the
    # amount is a typing error, not a receivable. The default here is the configuration's default too.
    max_invoice_amount: Decimal = Decimal("10000000.00")
    # E-invoices: run the French BR-FR Flux 2 rules on top of the EN 16931 ones.
    br_fr: bool = False
    # E-invoice profiles (BT-24) the factor takes from this client (see PROFILES).
    accepted_profiles: tuple[str, ...] = DEFAULT_ACCEPTED_PROFILES
    # Notified contracts, e-invoices: an invoice without the assignment mention gets a fatal issue,
    # a warning, or nothing (see ASSIGNMENT_MENTION_LEVELS).
    assignment_mention: str = "warning"


@dataclass(frozen=True, slots=True)
class DebtorSettings:
    """A debtor (buyer) of one client and the factor's approval (agrément) on it."""

    id: str  # the factor's own debtor code
    name: str
    siren: str | None
    vat_id: str | None
    approval_limit: Decimal  # 0 = known debtor, nothing guaranteed
    approval_currency: str
    opening_outstanding: Decimal  # guaranteed outstanding brought over from the back office


@dataclass(frozen=True, slots=True)
class LocalFolderSettings:
    """A local folder channel. Inbound: ``root/inbox`` (drop), ``work``, ``archive``, ``error``.
    Outbound: files are delivered into ``root``."""

    root: Path
    # inbound, when a file is complete (see gateway.transports.local.inbox_scan): "stable" (size+mtime
    # unchanged), "rename" (written as *.part/*.tmp/dot file, then renamed) or "closed" (closed after its
    # last write, seen by the watcher; else as "stable"); under every rule only once unchanged for
    # stable_seconds (after the close, under "closed")
    readiness: str = "stable"
    stable_seconds: float = 2.0
    done_marker: bool = False  # outbound: write NAME.done after NAME
    # inbound: a file left in the inbox (hidden, temporary name, folder, empty) unchanged this long
    # is reported once with a WARNING
    report_after_seconds: float = 600.0
    # inbound, "stable"/"closed": an empty file unchanged this long is taken (and refused as empty)
    empty_after_seconds: float = 300.0


#: What an inbound channel can carry; each kind is a flow (:mod:`gateway.flows`). Bank statements,
#: collection reports and approvals files come with their issues.
CHANNEL_KINDS = ("invoices",)


@dataclass(frozen=True, slots=True)
class InboundChannel:
    id: str
    transport: LocalFolderSettings
    format: str = "auto"  # a parser FORMAT, or "auto" to sniff
    kind: str = "invoices"  # one of CHANNEL_KINDS: which flow takes the channel's files
    # handed to the format's parser (a mapping profile will be one); read-only
    parser_options: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    # e-invoices: run the official Schematron rules (the XSD and the gateway's rules always run)
    schematron: bool = True


@dataclass(frozen=True, slots=True)
class OutboundChannel:
    id: str
    transport: LocalFolderSettings
    formats: tuple[str, ...] = ("csv", "json")


@dataclass(frozen=True, slots=True)
class ClientSettings:
    id: str
    name: str
    siren: str
    sirets: tuple[str, ...]
    vat_id: str | None
    contract: ContractTerms
    debtors: tuple[DebtorSettings, ...]
    inbound: tuple[InboundChannel, ...]
    acknowledgements: OutboundChannel
    first_remittance_number: int = 1  # numbering continues another system's sequence when > 1

    def debtor(self, debtor_id: str) -> DebtorSettings | None:
        return next((d for d in self.debtors if d.id == debtor_id), None)


@dataclass(frozen=True, slots=True)
class FactorSettings:
    name: str
    siren: str
    collection_iban: str
    remittances: OutboundChannel


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    scan_interval_seconds: float = 30.0
    batch_size: int = 200  # envelopes handled per ledger transaction


@dataclass(frozen=True, slots=True)
class Settings:
    source: Path  # the configuration file
    ledger_url: str
    timezone: str
    as_of: date | None
    factor: FactorSettings
    clients: tuple[ClientSettings, ...]
    schedules: ScheduleSettings = field(default_factory=ScheduleSettings)

    def client(self, client_id: str) -> ClientSettings | None:
        return next((c for c in self.clients if c.id == client_id), None)
