"""Marshmallow fields that speak to the person who edits ``gateway.toml`` by hand.

Marshmallow's stock fields answer "Not a valid string." and quietly round
decimals (``fields.Decimal(places=2)``). The factor's IT team needs to know
*what* is expected and *what they wrote*, so every field here raises one plain
sentence ending in ``(got ...)`` that quotes the value as it reads in TOML.
Amounts and rates are parsed from their text, never through a binary float.
"""

from __future__ import annotations

import difflib
import json
import re
import zoneinfo
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import pycountry
import schwifty
from marshmallow import Schema, ValidationError, fields
from stdnum import exceptions as stdnum_errors
from stdnum.eu import vat as eu_vat
from stdnum.fr import siren as fr_siren
from stdnum.fr import siret as fr_siret

T = TypeVar("T")

#: The folder relative paths are resolved against: the configuration file's
#: folder, set by the loader for the duration of one load (marshmallow 4 has no
#: ``context`` any more; a context variable is its documented replacement).
CONFIG_FOLDER: ContextVar[Path] = ContextVar("CONFIG_FOLDER")

_MAX_SHOWN = 60


def shown(value: Any) -> str:
    """``value`` as it reads in TOML, so ``(got ...)`` quotes what the user typed.

    >>> shown("1.5"), shown(Decimal("1.50")), shown(True), shown(["a", 1])
    ('"1.5"', '1.50', 'true', '["a", 1]')
    """
    text: str
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, int | Decimal | float):
        text = str(value)
    elif isinstance(value, dict):
        text = "a table"
    elif isinstance(value, list):
        text = "[" + ", ".join(shown(item) for item in value) + "]"
    elif isinstance(value, date | time | datetime):
        text = value.isoformat()
    else:
        text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest candidate, or ``""`` when none is close."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.8)
    return f"; did you mean '{close[0]}'?" if close else ""


def unknown_key_message(key: str, known: Sequence[str]) -> str:
    hint = did_you_mean(key, known)
    if hint:
        return "unknown key" + hint
    return "unknown key; expected one of " + ", ".join(f"'{name}'" for name in sorted(known))


def resolve_folder(text: str) -> Path:
    """An absolute path: ``text`` itself when absolute, else relative to the configuration's folder."""
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = CONFIG_FOLDER.get() / path
    return path.resolve()


class HumanField(fields.Field[T]):
    """Base: plain-language messages for a missing key and a typed ``_convert``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["error_messages"] = {"required": "is required", "null": "is required"}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> T:
        return self.convert(value)

    def convert(self, value: Any) -> T:
        raise NotImplementedError


class Text(HumanField[str]):
    """A non-empty string, optionally checked against a pattern or a closed list of choices.

    ``expected`` describes the pattern to people ("1 to 32 of a-z, 0-9, _ and -").
    """

    def __init__(
        self,
        *,
        pattern: str | None = None,
        expected: str = "",
        choices: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pattern = re.compile(pattern) if pattern else None
        self.expected = expected
        self.choices = tuple(choices) if choices else None

    def convert(self, value: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError(f"must be text in double quotes (got {shown(value)})")
        text = value.strip()
        if not text:
            raise ValidationError("must not be empty")
        if self.choices is not None and text not in self.choices:
            options = " or ".join(", ".join(f'"{c}"' for c in self.choices).rsplit(", ", 1))
            raise ValidationError(f"must be {options} (got {shown(value)}){did_you_mean(text, self.choices)}")
        if self.pattern is not None and not self.pattern.fullmatch(text):
            raise ValidationError(f"must be {self.expected} (got {shown(value)})")
        return text


class Siren(Text):
    """A French SIREN (9 digits, Luhn), stored without spaces."""

    def convert(self, value: Any) -> str:
        return _company_number(super().convert(value), fr_siren, "SIREN", 9)


class Siret(Text):
    """A French SIRET (14 digits, Luhn), stored without spaces."""

    def convert(self, value: Any) -> str:
        return _company_number(super().convert(value), fr_siret, "SIRET", 14)


def _company_number(text: str, module: Any, label: str, digits: int) -> str:
    try:
        return str(module.validate(text))
    except stdnum_errors.InvalidLength:
        reason = f"must have {digits} digits"
    except stdnum_errors.InvalidFormat:
        reason = "must contain digits only"
    except stdnum_errors.InvalidChecksum:
        reason = "its check digit is wrong"
    except stdnum_errors.ValidationError as err:
        reason = str(err).lower()
    raise ValidationError(f"is not a valid {label}: {reason} (got {shown(text)})")


class VatId(Text):
    """An EU VAT number (``FR44732829320``), checked by python-stdnum, stored compact."""

    def convert(self, value: Any) -> str:
        text = super().convert(value)
        try:
            return str(eu_vat.validate(text))
        except stdnum_errors.ValidationError as err:
            reason = str(err).rstrip(".").lower()
        raise ValidationError(f"is not a valid EU VAT number: {reason} (got {shown(text)})")


def french_vat_siren(vat_id: str) -> str | None:
    """The SIREN inside a French VAT number (``FRkk`` + SIREN), or ``None`` for another country."""
    if vat_id.startswith("FR") and vat_id[4:].isdigit() and len(vat_id) == 13:
        return vat_id[4:]
    return None


class Iban(Text):
    """An IBAN checked by schwifty (country format and check digits), stored compact."""

    def convert(self, value: Any) -> str:
        text = super().convert(value)
        try:
            return str(schwifty.IBAN(text).compact)
        except ValueError as err:
            reason = str(err).rstrip(".")
            reason = reason[:1].lower() + reason[1:]
        raise ValidationError(f"is not a valid IBAN: {reason} (got {shown(text)})")


class Currency(Text):
    """An active ISO 4217 alphabetic code, in capitals."""

    def convert(self, value: Any) -> str:
        code = super().convert(value)
        if not re.fullmatch(r"[A-Z]{3}", code):
            raise ValidationError(f'must be an ISO 4217 code in capitals such as "EUR" (got {shown(value)})')
        if pycountry.currencies.get(alpha_3=code) is None:
            raise ValidationError(f"is not an ISO 4217 currency code (got {shown(value)})")
        return code


class Timezone(Text):
    """An IANA time zone name that zoneinfo can load (``Europe/Paris``)."""

    def convert(self, value: Any) -> str:
        name = super().convert(value)
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            hint = did_you_mean(name, _zone_names())
            raise ValidationError(f"is not a known IANA time zone (got {shown(value)}){hint}") from None
        return name


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class LedgerUrl(Text):
    """A database URL (``sqlite:///…``, ``postgresql+psycopg://…``) that carries no password.

    A password written in the configuration ends up in backups, tickets and
    screenshots; it belongs in a secret file named by ``ledger_url_file``.
    """

    def convert(self, value: Any) -> str:
        url = super().convert(value)
        check_ledger_url(url)
        if has_password(url):
            raise ValidationError(
                "must not contain a password: write the whole URL in a file only the gateway can read "
                "and set gateway.ledger_url_file to that file's path instead"
            )
        return url


def check_ledger_url(url: str) -> None:
    if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", url):
        raise ValidationError(
            f'must be a database URL such as "sqlite:///ledger.sqlite" or '
            f'"postgresql+psycopg://gateway@dbhost/gateway" (got {shown(url)})'
        )


def has_password(url: str) -> bool:
    parts = urlsplit(url)
    in_query = any(key.lower() == "password" for key, _ in parse_qsl(parts.query))
    return bool(parts.password) or in_query


class Folder(HumanField[Path]):
    """A folder path, absolute or relative to the configuration file's folder; loaded as an absolute Path."""

    def convert(self, value: Any) -> Path:
        return resolve_folder(Text().convert(value))


class DecimalText(HumanField[Decimal]):
    """A decimal read from its text: ``"0.90"`` stays ``Decimal("0.90")``.

    TOML numbers reach us as ``Decimal`` already (the loader parses floats with
    ``parse_float=Decimal``); a real ``float`` is converted through ``str()``.
    ``places`` is a maximum scale that is *checked*, never applied by rounding.
    ``above`` is an exclusive lower bound, for amounts that must be more than zero.
    """

    def __init__(
        self,
        *,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
        above: Decimal | None = None,
        places: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.minimum = minimum
        self.maximum = maximum
        self.above = above
        self.places = places

    def convert(self, value: Any) -> Decimal:
        number = _decimal(value)
        exponent = number.as_tuple().exponent
        if self.places is not None and isinstance(exponent, int) and -exponent > self.places:
            raise ValidationError(f"must have at most {self.places} decimals (got {shown(number)})")
        if self.above is not None and number <= self.above:
            raise ValidationError(f"must be more than {self.above} (got {shown(number)})")
        low, high = self.minimum, self.maximum
        if (low is not None and number < low) or (high is not None and number > high):
            if low is not None and high is not None:
                raise ValidationError(f"must be between {low} and {high} (got {shown(number)})")
            if low is not None:
                raise ValidationError(f"must be {low} or more (got {shown(number)})")
            raise ValidationError(f"must be {high} or less (got {shown(number)})")
        return number


def _decimal(value: Any) -> Decimal:
    expected = 'must be a decimal number, preferably quoted, such as "0.90"'
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValidationError(f"{expected} (got {shown(value)})")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, float):
        number = Decimal(str(value))
    else:
        try:
            number = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            hint = "; use a dot as the decimal separator" if isinstance(value, str) and "," in value else ""
            raise ValidationError(f"{expected} (got {shown(value)}){hint}") from None
    if not number.is_finite():
        raise ValidationError(f"must be a finite number (got {shown(value)})")
    return number


class Whole(HumanField[int]):
    """An integer within ``[minimum, maximum]`` (TOML integer, not a quoted string, not a boolean)."""

    def __init__(self, *, minimum: int, maximum: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.minimum = minimum
        self.maximum = maximum

    def convert(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"must be a whole number without quotes (got {shown(value)})")
        if not self.minimum <= value <= self.maximum:
            raise ValidationError(f"must be between {self.minimum} and {self.maximum} (got {value})")
        return value


class Seconds(HumanField[float]):
    """A duration in seconds (number or quoted decimal), at least ``minimum``."""

    def __init__(self, *, minimum: Decimal, maximum: Decimal | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.checked = DecimalText(minimum=minimum, maximum=maximum)

    def convert(self, value: Any) -> float:
        return float(self.checked.convert(value))


class Flag(HumanField[bool]):
    def convert(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError(f"must be true or false without quotes (got {shown(value)})")
        return value


class IsoDate(HumanField[date]):
    """A TOML date (``2025-03-10``) or the same text in quotes."""

    def convert(self, value: Any) -> date:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ValidationError(f"must be a date written YYYY-MM-DD (got {shown(value)})")


class TextList(HumanField[tuple[str, ...]]):
    """An array of strings, each checked by ``item``; duplicates are refused."""

    def __init__(self, item: Text, *, non_empty: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.item = item
        self.non_empty = non_empty

    def convert(self, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise ValidationError(f'must be an array such as ["a", "b"] (got {shown(value)})')
        if self.non_empty and not value:
            raise ValidationError("must not be empty")
        items: list[str] = []
        problems: list[str] = []
        for raw in value:
            try:
                item = self.item.convert(raw)
            except ValidationError as err:
                problems.extend(str(message) for message in _message_list(err))
                continue
            if item in items:
                problems.append(f"lists {shown(item)} twice")
            items.append(item)
        if problems:
            raise ValidationError(problems)
        return tuple(items)


def _message_list(err: ValidationError) -> list[Any]:
    messages = err.messages
    return messages if isinstance(messages, list) else [messages]


# -- tables ------------------------------------------------------------------------


def entry_labels(entries: Sequence[Any]) -> list[str]:
    """How error paths name the entries of an array of tables.

    ``[ALPHA]`` when the entry has an ``id`` that no other entry shares (easy
    to find in the file), ``[#2]`` (1-based position) otherwise.
    """
    ids = [entry.get("id") if isinstance(entry, dict) else None for entry in entries]
    labels = []
    for position, entry_id in enumerate(ids, start=1):
        usable = isinstance(entry_id, str) and re.fullmatch(r"[A-Za-z0-9_.-]+", entry_id)
        labels.append(f"[{entry_id}]" if usable and ids.count(entry_id) == 1 else f"[#{position}]")
    return labels


SchemaFactory = Callable[[], Schema]


class Table(HumanField[Any]):
    """A TOML table loaded by ``schema`` (errors keep their nesting, hence their key path)."""

    def __init__(self, schema: SchemaFactory, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.schema = schema

    def convert(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValidationError(f"must be a table (got {shown(value)})")
        return self.schema().load(value)


class ArrayOfTables(HumanField[list[Any]]):
    """A TOML array of tables (``[[clients.acme.inbound]]``), each loaded by ``schema``."""

    def __init__(self, schema: SchemaFactory, *, min_entries: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.schema = schema
        self.min_entries = min_entries

    def convert(self, value: Any) -> list[Any]:
        if isinstance(value, dict):
            raise ValidationError("must be an array of tables: write each entry under its own [[...]] header")
        if not isinstance(value, list):
            raise ValidationError(f"must be an array of tables (got {shown(value)})")
        if len(value) < self.min_entries:
            raise ValidationError(f"needs at least {self.min_entries} entry (one [[...]] block)")
        loaded: list[Any] = []  # aligned with ``value``; partial dicts where an entry failed
        errors: dict[str, Any] = {}
        for label, entry in zip(entry_labels(value), value, strict=True):
            if not isinstance(entry, dict):
                errors[label] = [f"must be a table (got {shown(entry)})"]
                loaded.append(None)
                continue
            try:
                loaded.append(self.schema().load(entry))
            except ValidationError as err:
                errors[label] = err.messages
                loaded.append(err.valid_data)
        if errors:
            raise ValidationError(errors, valid_data=loaded)
        return loaded


class KeyedTables(HumanField[dict[str, Any]]):
    """A table of tables whose keys are ids (``[clients.acme]``), each value loaded by ``schema``."""

    def __init__(self, schema: SchemaFactory, *, key_pattern: str, key_expected: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.schema = schema
        self.key_pattern = re.compile(key_pattern)
        self.key_expected = key_expected

    def convert(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValidationError(f"must be a table (got {shown(value)})")
        if not value:
            raise ValidationError("needs at least one entry")
        loaded: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for key, entry in value.items():
            key_problem = (
                []
                if self.key_pattern.fullmatch(key)
                else [f"this id must be {self.key_expected} (got {shown(key)})"]
            )
            if not isinstance(entry, dict):
                errors[key] = [*key_problem, f"must be a table (got {shown(entry)})"]
                continue
            try:
                loaded[key] = self.schema().load(entry)
            except ValidationError as err:
                errors[key] = _merge(key_problem, err.messages)
                continue
            if key_problem:
                errors[key] = key_problem
        if errors:
            raise ValidationError(errors)
        return loaded


def _merge(own: list[str], nested: Any) -> Any:
    """Attach ``own`` messages to the table itself alongside its nested errors."""
    if not own:
        return nested
    if isinstance(nested, dict):
        return {"_schema": own, **nested}
    return [*own, *(nested if isinstance(nested, list) else [nested])]
