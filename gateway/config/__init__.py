"""``gateway.toml`` → :class:`gateway.settings.Settings`, or every problem at once.

The factor's IT team edits the file by hand, so a failed load lists *all*
problems, each as ``key.path: message`` (``clients.acme.contract.advance_rate:
must be between 0 and 1 (got 1.5)``), instead of stopping at the first one.
Relative paths are relative to the configuration file's folder, never to the
working directory, so the same file behaves the same from cron, systemd or a
shell. The key-by-key reference is ``schemas/configuration.md``.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from marshmallow import ValidationError

from gateway.config.fields import CONFIG_FOLDER, check_ledger_url, resolve_folder
from gateway.config.schema import ConfigurationFile, Segments, dotted
from gateway.errors import ConfigError
from gateway.settings import Settings

__all__ = ["DEFAULT_LEDGER_URL", "check_settings", "load_settings"]

#: Used when the file names no ledger: an SQLite file beside the configuration.
DEFAULT_LEDGER_URL = "sqlite:///ledger.sqlite"


def load_settings(path: Path, *, as_of: date | None = None, ledger_url: str | None = None) -> Settings:
    """Read, validate and resolve ``path``.

    ``as_of`` and ``ledger_url`` (command-line flags) win over the file; with
    ``ledger_url`` given, ``gateway.ledger_url_file`` is not read.
    Raises :class:`ConfigError` listing every problem.
    """
    source = Path(path).expanduser().resolve()
    raw = _read_toml(source)
    token = CONFIG_FOLDER.set(source.parent)
    try:
        try:
            data: dict[str, Any] = ConfigurationFile().load(raw)
            problems: list[str] = []
        except ValidationError as err:
            problems = flatten_messages(err.messages)
            data = err.valid_data if isinstance(err.valid_data, dict) else {}
        gateway = data.get("gateway")
        gateway = gateway if isinstance(gateway, dict) else {}
        raw_gateway = raw.get("gateway")
        raw_gateway = raw_gateway if isinstance(raw_gateway, dict) else {}
        resolved_url = ledger_url if ledger_url is not None else _ledger_url(gateway, raw_gateway, problems)
    finally:
        CONFIG_FOLDER.reset(token)
    if problems or resolved_url is None:
        raise ConfigError(list(dict.fromkeys(problems)))
    return Settings(
        source=source,
        ledger_url=resolved_url,
        timezone=gateway["timezone"],
        as_of=as_of if as_of is not None else gateway["as_of"],
        factor=data["factor"],
        clients=data["clients"],
        schedules=data["schedules"],
    )


def check_settings(path: Path) -> list[str]:
    """Every problem of the configuration at ``path``, ``[]`` when valid (``gateway config check``)."""
    try:
        load_settings(path)
    except ConfigError as err:
        return err.problems
    return []


def flatten_messages(messages: Any, segments: Segments = ()) -> list[str]:
    """Marshmallow's nested error dict → ``["key.path: message", ...]`` in file order."""
    if isinstance(messages, dict):
        lines: list[str] = []
        for key, nested in messages.items():
            lines += flatten_messages(nested, segments if key == "_schema" else (*segments, str(key)))
        return lines
    if isinstance(messages, list):
        return [line for message in messages for line in flatten_messages(message, segments)]
    return [f"{dotted(segments)}: {messages}" if segments else str(messages)]


# -- the file itself -------------------------------------------------------------------


def _read_toml(source: Path) -> dict[str, Any]:
    """The parsed TOML; numbers with a fraction become ``Decimal`` straight from their text."""
    try:
        content = source.read_bytes()
    except OSError as err:
        raise ConfigError([f"{source.name}: cannot read {source} ({err.strerror or err})"]) from None
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = content[: err.start].count(b"\n") + 1
        raise ConfigError(
            [f"{source.name} line {line}: the file must be UTF-8 text (byte 0x{content[err.start]:02x})"]
        ) from None
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([_syntax_problem(source.name, str(err), text)]) from None


def _syntax_problem(file_name: str, message: str, text: str) -> str:
    """``Invalid value (at line 12, column 9)`` → ``gateway.toml line 12: invalid value (column 9)``."""
    # tomllib names keys as Python tuples: ('clients', 'acme') → clients.acme
    message = re.sub(
        r"\(((?:'[^']*'(?:, )?)+)\)", lambda key: ".".join(re.findall(r"'([^']*)'", key[1])), message
    )
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if found:
        line, where = found[1], f"column {found[2]}"
    else:
        line, where = str(text.count("\n") + 1), "at the end of the file"
    what = re.sub(r"\s*\(at end of document\)$", "", message[: found.start()] if found else message)
    return f"{file_name} line {line}: {what[:1].lower()}{what[1:]} ({where})"


# -- the ledger URL --------------------------------------------------------------------


def _ledger_url(gateway: dict[str, Any], raw_gateway: dict[str, Any], problems: list[str]) -> str | None:
    """The URL from ``ledger_url``, from the secret file, or the default; ``None`` after a problem."""
    if "ledger_url_file" in raw_gateway:
        file_text = gateway.get("ledger_url_file")
        if file_text is None or "ledger_url" in raw_gateway:
            return None  # already reported by the schema
        secret = resolve_folder(file_text)
        try:
            url = secret.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as err:
            reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            problems.append(f"gateway.ledger_url_file: cannot read {secret} ({reason})")
            return None
        try:
            check_ledger_url(url)
        except ValidationError:
            problems.append(
                f"gateway.ledger_url_file: {secret} must hold one database URL such as sqlite:///…"
            )
            return None
        return _anchor_sqlite_path(url)
    if "ledger_url" in raw_gateway:
        configured = gateway.get("ledger_url")
        return _anchor_sqlite_path(configured) if isinstance(configured, str) else None
    return _anchor_sqlite_path(DEFAULT_LEDGER_URL)


def _anchor_sqlite_path(url: str) -> str:
    """``sqlite:///var/ledger.sqlite`` → ``sqlite:////etc/gateway/var/ledger.sqlite``.

    SQLAlchemy would resolve the relative path against the working directory;
    anchoring it to the configuration's folder keeps cron and shell runs on one ledger.
    """
    found = re.fullmatch(r"(sqlite(?:\+\w+)?):///([^?]*)(\?.*)?", url)
    if not found:
        return url
    scheme, file_name, query = found[1], found[2], found[3] or ""
    if not file_name or file_name == ":memory:" or file_name.startswith(("/", "file:")):
        return url
    return f"{scheme}:///{resolve_folder(file_name)}{query}"
