"""The shape of ``gateway.toml``: one marshmallow schema per table.

Each schema checks its own keys (types, ranges, checksums, unknown keys) and
the rules that tie its keys together; :class:`ConfigurationFile` adds the
rules that span the whole file (channel ids, folders shared between clients).
Validators run even when other keys already failed, so one pass reports every
problem. Schemas build the frozen objects of :mod:`gateway.settings` once all
is valid; the loader only adds what needs the outside world (the ledger URL).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validates_schema

from gateway.clock import DEFAULT_ZONE
from gateway.config.fields import (
    ArrayOfTables,
    Currency,
    DecimalText,
    Flag,
    Folder,
    Iban,
    IsoDate,
    KeyedTables,
    LedgerUrl,
    Seconds,
    Siren,
    Siret,
    Table,
    Text,
    TextList,
    Timezone,
    VatId,
    Whole,
    entry_labels,
    french_vat_siren,
    resolve_folder,
    shown,
    unknown_key_message,
)
from gateway.settings import (
    ASSIGNMENT_MENTION_LEVELS,
    CHANNEL_KINDS,
    DEFAULT_ACCEPTED_PROFILES,
    PROFILES,
    ClientSettings,
    ContractTerms,
    DebtorSettings,
    FactorSettings,
    InboundChannel,
    LocalFolderSettings,
    OutboundChannel,
    ScheduleSettings,
)

CLIENT_ID = r"[a-z0-9_-]{1,32}"
CLIENT_ID_EXPECTED = "1 to 32 characters among a-z, 0-9, _ and -"
CHANNEL_ID = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
CHANNEL_ID_EXPECTED = "1 to 64 characters among A-Z, a-z, 0-9, _, . and - (starting with a letter or digit)"
DEBTOR_ID = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,34}"
DEBTOR_ID_EXPECTED = "1 to 35 characters among A-Z, a-z, 0-9, _, . and - (starting with a letter or digit)"
INBOUND_FORMATS = ("auto", "ubl", "cii", "facturx", "csv-batch")
#: The per-channel options each format's parser understands (its ``OPTIONS``; a test keeps the
#: two in step, so that checking a configuration does not load the XML stack).
FORMAT_OPTIONS: dict[str, frozenset[str]] = {
    "ubl": frozenset(),
    "cii": frozenset(),
    "facturx": frozenset(),
    "csv-batch": frozenset(),
}
#: What an outbound channel can write (``gateway.writers.outputs`` has the same lists; a test keeps
#: them in step, so that checking a configuration does not load the writers). ``pdf`` is the
#: bordereau de cession: the factor's remittances only.
OUTBOUND_FORMATS = ("csv", "json", "xlsx", "csv-fr", "pdf")
ACKNOWLEDGEMENT_FORMATS = ("csv", "json", "xlsx", "csv-fr")
DEFAULT_OUTBOUND_FORMATS = ("csv", "json")
READINESS = ("stable", "rename", "closed")
DAY_COUNTS = ("ACT/360", "ACT/365")
FACTOR_REMITTANCES_CHANNEL = "factor:remittances"
#: ZUGFeRD 1.0 cannot be accepted: no conformance rule set exists for it, its verdict is always invalid.
ACCEPTABLE_PROFILES = tuple(p for p in PROFILES if p != "zugferd1")
ZERO, ONE = Decimal(0), Decimal(1)

Segments = tuple[str, ...]


def acknowledgements_channel_id(client_id: str) -> str:
    """Outbound channels are named after their owner; ``:`` keeps them apart from inbound ids."""
    return f"{client_id}:acknowledgements"


class ErrorTree:
    """Collects messages at key paths in marshmallow's nested error shape."""

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}

    def add(self, segments: Segments, message: str) -> None:
        node = self.tree
        for segment in segments[:-1]:
            node = node.setdefault(segment, {})
        node.setdefault(segments[-1], []).append(message)

    def raise_if_any(self) -> None:
        if self.tree:
            raise ValidationError(self.tree)


def dotted(segments: Segments) -> str:
    """``("clients", "acme", "inbound", "[in]", "path")`` → ``clients.acme.inbound[in].path``."""
    text = ""
    for segment in segments:
        text += segment if segment.startswith("[") or not text else "." + segment
    return text


class Section(Schema):
    """A TOML table: unknown keys are errors that suggest the closest known key."""

    class Meta:
        unknown = EXCLUDE

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _reject_unknown_keys(self, data: dict[str, Any], original_data: dict[str, Any], **_: Any) -> None:
        known = [field.data_key or name for name, field in self.load_fields.items()]
        unknown = {key: [unknown_key_message(key, known)] for key in original_data if key not in known}
        if unknown:
            raise ValidationError(unknown)


class GatewaySection(Section):
    ledger_url = LedgerUrl()
    ledger_url_file = Text()
    timezone = Timezone(load_default=DEFAULT_ZONE)
    as_of = IsoDate(load_default=None)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _one_ledger_source(self, data: dict[str, Any], original_data: dict[str, Any], **_: Any) -> None:
        if "ledger_url" in original_data and "ledger_url_file" in original_data:
            raise ValidationError("set either ledger_url or ledger_url_file, not both", "ledger_url_file")


class OutboundSection(Section):
    path = Folder(required=True)
    formats = TextList(Text(choices=OUTBOUND_FORMATS), non_empty=True, load_default=DEFAULT_OUTBOUND_FORMATS)
    done_marker = Flag(load_default=False)


class AcknowledgementsSection(OutboundSection):
    """A client's acknowledgements: every outbound format but the PDF bordereau."""

    @validates_schema(skip_on_field_errors=True)
    def _no_bordereau(self, data: dict[str, Any], **_: Any) -> None:
        refused = [fmt for fmt in data.get("formats", ()) if fmt not in ACKNOWLEDGEMENT_FORMATS]
        if refused:
            allowed = " or ".join(", ".join(f'"{f}"' for f in ACKNOWLEDGEMENT_FORMATS).rsplit(", ", 1))
            listed = ", ".join(f'"{f}"' for f in refused)
            raise ValidationError(
                f"{listed} is written for the factor's remittances only (the bordereau de cession, "
                f"in [factor.remittances]); acknowledgements can be {allowed}",
                "formats",
            )


def outbound_channel(channel_id: str, data: dict[str, Any]) -> OutboundChannel:
    folder = LocalFolderSettings(root=data["path"], done_marker=data["done_marker"])
    return OutboundChannel(id=channel_id, transport=folder, formats=data["formats"])


class InboundSection(Section):
    id = Text(pattern=CHANNEL_ID, expected=CHANNEL_ID_EXPECTED, required=True)
    path = Folder(required=True)
    kind = Text(choices=CHANNEL_KINDS, load_default="invoices")
    format = Text(choices=INBOUND_FORMATS, load_default="auto")
    readiness = Text(choices=READINESS, load_default="stable")
    stable_seconds = Seconds(minimum=ZERO, maximum=Decimal(3600), load_default=2.0)
    empty_after_seconds = Seconds(minimum=ZERO, maximum=Decimal(86400), load_default=300.0)
    report_after_seconds = Seconds(minimum=ZERO, maximum=Decimal(86400), load_default=600.0)
    parser_options = fields.Dict(keys=fields.String(), load_default=dict)
    schematron = Flag(load_default=True)

    @validates_schema(skip_on_field_errors=True)
    def _options_known(self, data: dict[str, Any], **_: Any) -> None:
        fmt = data.get("format", "auto")
        known = (
            frozenset().union(*FORMAT_OPTIONS.values())
            if fmt == "auto"
            else FORMAT_OPTIONS.get(fmt, frozenset())
        )
        unknown = sorted(set(data.get("parser_options", {})) - known)
        if unknown:
            takes = f"takes {', '.join(sorted(known))}" if known else "takes no options yet"
            raise ValidationError(
                f"unknown option(s) {', '.join(unknown)}: the format {fmt!r} {takes}", "parser_options"
            )

    @post_load
    def _build(self, data: dict[str, Any], **_: Any) -> InboundChannel:
        folder = LocalFolderSettings(
            root=data["path"],
            readiness=data["readiness"],
            stable_seconds=data["stable_seconds"],
            empty_after_seconds=data["empty_after_seconds"],
            report_after_seconds=data["report_after_seconds"],
        )
        return InboundChannel(
            id=data["id"],
            transport=folder,
            format=data["format"],
            kind=data["kind"],
            parser_options=MappingProxyType(dict(data["parser_options"])),
            schematron=data["schematron"],
        )


class ProfileName(Text):
    """An e-invoice profile a contract may accept; ZUGFeRD 1.0 is named, and refused, with its reason."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=ACCEPTABLE_PROFILES, **kwargs)

    def convert(self, value: Any) -> str:
        if isinstance(value, str) and value.strip() == "zugferd1":
            raise ValidationError(
                '"zugferd1" cannot be accepted: ZUGFeRD 1.0 predates EN 16931 and no official rule set '
                "checks it, so its verdict is always invalid"
            )
        return super().convert(value)


class ContractSection(Section):
    advance_rate = DecimalText(minimum=ZERO, maximum=ONE, required=True)
    reserve_rate = DecimalText(minimum=ZERO, maximum=ONE, required=True)
    fee_rate = DecimalText(minimum=ZERO, maximum=ONE, required=True)
    fee_vat_rate = DecimalText(minimum=ZERO, maximum=ONE, load_default=Decimal("0.20"))
    financing_rate = DecimalText(minimum=ZERO, maximum=ONE, required=True)
    day_count = Text(choices=DAY_COUNTS, load_default="ACT/360")
    max_term_days = Whole(minimum=1, maximum=365, load_default=90)
    notified = Flag(load_default=True)
    currencies = TextList(Currency(), non_empty=True, load_default=("EUR",))
    # No load_default: when absent, ContractTerms' own default applies (one place for it).
    max_invoice_amount = DecimalText(above=ZERO, places=2)
    br_fr = Flag(load_default=False)
    accepted_profiles = TextList(ProfileName(), non_empty=True, load_default=DEFAULT_ACCEPTED_PROFILES)
    assignment_mention = Text(choices=ASSIGNMENT_MENTION_LEVELS, load_default="warning")

    @validates_schema(skip_on_field_errors=False)
    def _advance_and_reserve_fit(self, data: dict[str, Any], **_: Any) -> None:
        advance, reserve = data.get("advance_rate"), data.get("reserve_rate")
        if advance is not None and reserve is not None and advance + reserve > ONE:
            total = f"{advance} + {reserve} = {advance + reserve}"
            raise ValidationError(
                f"advance_rate + reserve_rate must be at most 1 (got {total})", "reserve_rate"
            )

    @post_load
    def _build(self, data: dict[str, Any], **_: Any) -> ContractTerms:
        return ContractTerms(**data)


class DebtorSection(Section):
    id = Text(pattern=DEBTOR_ID, expected=DEBTOR_ID_EXPECTED, required=True)
    name = Text(required=True)
    siren = Siren(load_default=None)
    vat_id = VatId(load_default=None)
    approval_limit = DecimalText(minimum=ZERO, places=2, required=True)
    approval_currency = Currency(load_default=None)
    opening_outstanding = DecimalText(minimum=ZERO, places=2, load_default=Decimal("0.00"))

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _identified(self, data: dict[str, Any], original_data: dict[str, Any], **_: Any) -> None:
        if "siren" not in original_data and "vat_id" not in original_data:
            raise ValidationError(
                "needs a siren or a vat_id (at least one) to recognise the debtor on invoices"
            )
        check_vat_matches_siren(data)


def check_vat_matches_siren(data: dict[str, Any]) -> None:
    """A French VAT number embeds the SIREN: both must name the same company."""
    vat_id, siren = data.get("vat_id"), data.get("siren")
    embedded = french_vat_siren(vat_id) if vat_id else None
    if embedded is not None and siren is not None and embedded != siren:
        raise ValidationError(
            f"French VAT number {shown(vat_id)} belongs to SIREN {embedded}, not to siren {shown(siren)}",
            "vat_id",
        )


class ClientSection(Section):
    name = Text(required=True)
    siren = Siren(required=True)
    sirets = TextList(Siret(), load_default=())
    vat_id = VatId(load_default=None)
    contract = Table(ContractSection, required=True)
    inbound = ArrayOfTables(InboundSection, min_entries=1, required=True)
    acknowledgements = Table(AcknowledgementsSection, required=True)
    debtors = ArrayOfTables(DebtorSection, load_default=list)
    # Where this client's gapless remittance numbering starts (continuing another system's).
    first_remittance_number = Whole(minimum=1, maximum=999_999_999, load_default=1)

    @validates_schema(skip_on_field_errors=False)
    def _own_numbers_agree(self, data: dict[str, Any], **_: Any) -> None:
        siren = data.get("siren")
        if siren is None:
            return
        check_vat_matches_siren(data)
        strangers = [s for s in data.get("sirets", ()) if not s.startswith(siren)]
        if strangers:
            listed = ", ".join(shown(s) for s in strangers)
            raise ValidationError(
                f"every SIRET must start with the client's siren {siren} (got {listed})", "sirets"
            )

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _approvals_in_contract_currencies(
        self, data: dict[str, Any], original_data: dict[str, Any], **_: Any
    ) -> None:
        raw_debtors = original_data.get("debtors")
        if not isinstance(raw_debtors, list):
            return
        errors = ErrorTree()
        labels = entry_labels(raw_debtors)
        currencies = _contract_currencies(data.get("contract"))
        loaded = data.get("debtors")
        if currencies and isinstance(loaded, list) and len(loaded) == len(labels):
            for label, debtor in zip(labels, loaded, strict=True):
                currency = debtor.get("approval_currency") if isinstance(debtor, dict) else None
                if currency is not None and currency not in currencies:
                    allowed = ", ".join(f'"{c}"' for c in currencies)
                    errors.add(
                        ("debtors", label, "approval_currency"),
                        f"must be one of the contract's currencies ({allowed}) (got {shown(currency)})",
                    )
        errors.raise_if_any()

    @post_load
    def _build(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        currencies = data["contract"].currencies
        debtors = tuple(
            DebtorSettings(**{**debtor, "approval_currency": debtor["approval_currency"] or currencies[0]})
            for debtor in data["debtors"]
        )
        return {**data, "debtors": debtors, "inbound": tuple(data["inbound"])}


def _contract_currencies(contract: Any) -> tuple[str, ...]:
    """The contract's currencies, also from a contract that is partly invalid (then a dict)."""
    if isinstance(contract, ContractTerms):
        return contract.currencies
    if isinstance(contract, dict):
        return tuple(contract.get("currencies", ()))
    return ()


class FactorSection(Section):
    name = Text(required=True)
    siren = Siren(required=True)
    collection_iban = Iban(required=True)
    remittances = Table(OutboundSection, required=True)

    @post_load
    def _build(self, data: dict[str, Any], **_: Any) -> FactorSettings:
        remittances = outbound_channel(FACTOR_REMITTANCES_CHANNEL, data["remittances"])
        return FactorSettings(
            name=data["name"],
            siren=data["siren"],
            collection_iban=data["collection_iban"],
            remittances=remittances,
        )


class ScheduleSection(Section):
    scan_interval_seconds = Seconds(minimum=Decimal("0.1"), load_default=30.0)
    batch_size = Whole(minimum=1, maximum=10_000, load_default=200)

    @post_load
    def _build(self, data: dict[str, Any], **_: Any) -> ScheduleSettings:
        return ScheduleSettings(**data)


class ConfigurationFile(Section):
    """The whole file. Loads to ``{"gateway": dict, "factor": ..., "clients": (...), "schedules": ...}``."""

    gateway = Table(GatewaySection, load_default=lambda: GatewaySection().load({}))
    factor = Table(FactorSection, required=True)
    clients = KeyedTables(
        ClientSection, key_pattern=CLIENT_ID, key_expected=CLIENT_ID_EXPECTED, required=True
    )
    schedules = Table(ScheduleSection, load_default=ScheduleSettings)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _channel_ids_unique(self, data: dict[str, Any], original_data: dict[str, Any], **_: Any) -> None:
        errors = ErrorTree()
        seen: dict[str, Segments] = {}
        for segments, raw in _raw_inbound_channels(original_data):
            channel_id = raw.get("id")
            if not isinstance(channel_id, str):
                continue
            if channel_id in seen:
                errors.add(
                    (*segments, "id"),
                    f"channel id {shown(channel_id)} is already used by {dotted(seen[channel_id])}",
                )
            else:
                seen[channel_id] = segments
        errors.raise_if_any()

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _debtor_ids_unique_per_client(
        self, data: dict[str, Any], original_data: dict[str, Any], **_: Any
    ) -> None:
        errors = ErrorTree()
        for client_id, client in _raw_clients(original_data):
            debtors = client.get("debtors")
            if not isinstance(debtors, list):
                continue
            seen: dict[str, Segments] = {}
            for label, debtor in zip(entry_labels(debtors), debtors, strict=True):
                debtor_id = debtor.get("id") if isinstance(debtor, dict) else None
                if not isinstance(debtor_id, str):
                    continue
                segments = ("clients", client_id, "debtors", label)
                if debtor_id in seen:
                    errors.add(
                        (*segments, "id"),
                        f"debtor id {shown(debtor_id)} is already used by {dotted(seen[debtor_id])}",
                    )
                else:
                    seen[debtor_id] = segments
        errors.raise_if_any()

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _client_sirens_unique(self, data: dict[str, Any], original_data: dict[str, Any], **_: Any) -> None:
        """A receivable belongs to one seller: with two clients on one SIREN, the same invoice could
        be assigned through either channel and the business key could not say whose it is."""
        errors = ErrorTree()
        seen: dict[str, str] = {}  # SIREN → the first client that has it
        for client_id, client in _raw_clients(original_data):
            siren = _valid(Siren(), client.get("siren"))
            if siren is None:
                continue
            if siren in seen:
                first = seen[siren]
                errors.add(
                    ("clients", client_id, "siren"),
                    f"SIREN {siren} is already the siren of client {first} (clients.{first}.siren): a "
                    "receivable belongs to one seller, so two clients cannot share a SIREN",
                )
            else:
                seen[siren] = client_id
        errors.raise_if_any()

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _debtor_identities_unique_per_client(
        self, data: dict[str, Any], original_data: dict[str, Any], **_: Any
    ) -> None:
        """Invoices find their debtor by SIREN, then VAT number: two debtors of one client sharing
        either could not be told apart, and one's documents would consume the other's approval."""
        errors = ErrorTree()
        for client_id, client in _raw_clients(original_data):
            debtors = client.get("debtors")
            if not isinstance(debtors, list):
                continue
            sirens: dict[str, str] = {}  # SIREN, given or inside a French VAT number → where first seen
            vats: dict[str, str] = {}
            for label, debtor in zip(entry_labels(debtors), debtors, strict=True):
                if isinstance(debtor, dict):
                    segments = ("clients", client_id, "debtors", label)
                    _check_debtor_identity(debtor, segments, sirens, vats, errors)
        errors.raise_if_any()

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _folders_not_shared(self, data: dict[str, Any], original_data: dict[str, Any], **_: Any) -> None:
        """A client must never see another client's files, nor the factor's remittances."""
        folders = list(_raw_folders(original_data))
        at: dict[Path, list[int]] = {}  # folder → positions of the channels there
        below: dict[Path, list[int]] = {}  # folder → positions of the channels somewhere inside it
        for position, (_owner, _segments, folder, _inbound) in enumerate(folders):
            at.setdefault(folder, []).append(position)
            for parent in folder.parents:
                below.setdefault(parent, []).append(position)
        errors = ErrorTree()
        for position, (owner, segments, folder, inbound) in enumerate(folders):
            related = [*at[folder], *below.get(folder, ())]
            related += [other for parent in folder.parents for other in at.get(parent, ())]
            for other in sorted(p for p in related if p < position):
                other_owner, other_segments, other_folder, other_inbound = folders[other]
                if owner != other_owner:
                    errors.add(
                        segments,
                        f"folder {folder} overlaps {dotted(other_segments)} ({other_folder}); "
                        "each client and the factor need folders of their own",
                    )
                    break
                if inbound and other_inbound and folder == other_folder:
                    errors.add(
                        segments,
                        f"is the same folder as {dotted(other_segments)}; two channels cannot share one",
                    )
                    break
        errors.raise_if_any()

    @post_load
    def _build(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        clients = tuple(
            ClientSettings(
                id=client_id,
                **{
                    **client,
                    "acknowledgements": outbound_channel(
                        acknowledgements_channel_id(client_id), client["acknowledgements"]
                    ),
                },
            )
            for client_id, client in data["clients"].items()
        )
        return {**data, "clients": clients}


def _raw_clients(original: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    clients = original.get("clients")
    if isinstance(clients, dict):
        for client_id, client in clients.items():
            if isinstance(client, dict):
                yield client_id, client


def _valid(field: Text, value: Any) -> str | None:
    """``value`` as the field stores it (compacted), or ``None`` when invalid (reported by the field).

    Rules across tables read the raw file, so that they run even when another
    key of the same table failed; comparing stored forms makes ``"552 100 554"``
    and ``"552100554"`` the same number.
    """
    try:
        return field.convert(value)
    except ValidationError:
        return None


def _check_debtor_identity(
    debtor: dict[str, Any],
    segments: Segments,
    sirens: dict[str, str],
    vats: dict[str, str],
    errors: ErrorTree,
) -> None:
    """Report ``debtor`` when its SIREN or VAT number is an earlier debtor's; then remember its own.

    ``sirens`` and ``vats`` say where each number was first seen, in words for the message.
    """
    siren = _valid(Siren(), debtor.get("siren"))
    vat = _valid(VatId(), debtor.get("vat_id"))
    embedded = french_vat_siren(vat) if vat else None
    apart = "invoices could not tell the two debtors apart"
    if siren is not None and siren in sirens:
        errors.add((*segments, "siren"), f"SIREN {siren} is already {sirens[siren]}: {apart}")
    elif vat is not None and vat in vats:
        errors.add((*segments, "vat_id"), f"VAT number {vat} is already {vats[vat]}: {apart}")
    elif embedded is not None and siren is None and embedded in sirens:
        errors.add(
            (*segments, "vat_id"),
            f"French VAT number {vat} belongs to SIREN {embedded}, already {sirens[embedded]}: {apart}",
        )
    if siren is not None:
        sirens.setdefault(siren, f"the siren of {dotted(segments)}")
    if embedded is not None:
        sirens.setdefault(embedded, f"the SIREN in the vat_id of {dotted(segments)}")
    if vat is not None:
        vats.setdefault(vat, f"the vat_id of {dotted(segments)}")


def _raw_inbound_channels(original: dict[str, Any]) -> Iterator[tuple[Segments, dict[str, Any]]]:
    for client_id, client in _raw_clients(original):
        channels = client.get("inbound")
        if isinstance(channels, list):
            for label, channel in zip(entry_labels(channels), channels, strict=True):
                if isinstance(channel, dict):
                    yield ("clients", client_id, "inbound", label), channel


def _raw_folders(original: dict[str, Any]) -> Iterator[tuple[str, Segments, Path, bool]]:
    """(owner, key path, resolved folder, is inbound) for every channel folder written as text."""
    candidates: list[tuple[str, Segments, Any, bool]] = []
    factor = original.get("factor")
    remittances = factor.get("remittances") if isinstance(factor, dict) else None
    if isinstance(remittances, dict):
        candidates.append((":factor", ("factor", "remittances", "path"), remittances.get("path"), False))
    for segments, channel in _raw_inbound_channels(original):
        candidates.append((segments[1], (*segments, "path"), channel.get("path"), True))
    for client_id, client in _raw_clients(original):
        acknowledgements = client.get("acknowledgements")
        if isinstance(acknowledgements, dict):
            segments = ("clients", client_id, "acknowledgements", "path")
            candidates.append((client_id, segments, acknowledgements.get("path"), False))
    for owner, segments, text, inbound in candidates:
        if isinstance(text, str) and text.strip():
            yield owner, segments, resolve_folder(text.strip()), inbound
