"""What every command shares: exit codes, the consoles, the options every command accepts,
and the guard that turns an environment failure into a message instead of a traceback."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.text import Text

from gateway.clock import parse_as_of
from gateway.errors import ConfigError, GatewayError, LedgerError
from gateway.text import escape_controls

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_FAILURE = 0, 1, 2, 3
DEFAULT_CONFIG = "gateway.toml"


def _console(stderr: bool) -> Console:
    """A terminal gets rich output; a pipe or a file gets plain lines, never wrapped at 80 columns
    (a log shipper or ``grep`` must see one record per line)."""
    probe = Console(stderr=stderr)
    if probe.is_terminal:
        return probe
    return Console(stderr=stderr, soft_wrap=True, width=100_000, no_color=True, highlight=False)


console = _console(stderr=False)
err_console = _console(stderr=True)


def shown(value: object) -> Text:
    """Any value from outside as terminal-safe text: control characters escaped, and never read
    as rich markup (a file named ``[/]x.csv`` is a name, not a closing tag)."""
    return Text("\n".join(escape_controls(line) for line in str(value).split("\n")))


class Context:
    """What the options given before or after the command name say: the configuration, the
    business date, the ledger, and how much to log."""

    def __init__(self) -> None:
        self.config = Path(os.environ.get("GATEWAY_CONFIG", DEFAULT_CONFIG))
        self.as_of: date | None = None
        self.ledger_url: str | None = None
        self.verbosity = 0
        self.log_json = False

    def settings(self) -> Any:
        from gateway.config import load_settings

        try:
            return load_settings(self.config, as_of=self.as_of, ledger_url=self.ledger_url)
        except ConfigError as err:
            fail_config(err)

    def apply_logging(self) -> None:
        from gateway.cli.logs import configure_logging

        configure_logging(self.verbosity, self.log_json)


def _context(ctx: click.Context) -> Context:
    return ctx.ensure_object(Context)


def _set_config(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        _context(ctx).config = value


def _set_as_of(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is None:
        return
    try:
        _context(ctx).as_of = parse_as_of(value)
    except ValueError as err:
        raise click.BadParameter(str(err)) from None


def _set_ledger_url(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        _context(ctx).ledger_url = value


def _set_verbose(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    if value:
        _context(ctx).verbosity = min(value, 2)
        _context(ctx).apply_logging()


def _set_quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        _context(ctx).verbosity = -1
        _context(ctx).apply_logging()


def _set_log_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        _context(ctx).log_json = True
        _context(ctx).apply_logging()


F = TypeVar("F", bound=Callable[..., Any])

_COMMON_OPTIONS: tuple[Callable[[F], F], ...] = (
    click.option(
        "--config",
        "-c",
        type=click.Path(dir_okay=False, path_type=Path),
        callback=_set_config,
        expose_value=False,
        is_eager=True,
        help="The gateway.toml to use [default: $GATEWAY_CONFIG or ./gateway.toml].",
    ),
    click.option(
        "--as-of",
        callback=_set_as_of,
        expose_value=False,
        metavar="YYYY-MM-DD",
        help="Fix the business date (replays, audits, tests); overrides `as_of` in the configuration.",
    ),
    click.option(
        "--ledger-url",
        callback=_set_ledger_url,
        expose_value=False,
        help="Use this ledger instead of the configured one (sqlite:///… or postgresql+psycopg://…).",
    ),
    click.option(
        "-v",
        "--verbose",
        count=True,
        callback=_set_verbose,
        expose_value=False,
        help="More log output on stderr: -v debug, -vv debug of the libraries too.",
    ),
    click.option(
        "-q",
        "--quiet",
        is_flag=True,
        callback=_set_quiet,
        expose_value=False,
        help="Only warnings and errors on stderr (no line per file).",
    ),
    click.option(
        "--log-json",
        is_flag=True,
        callback=_set_log_json,
        expose_value=False,
        help="Log lines as JSON objects (for log shippers), with file, envelope, outcome and codes as keys.",
    ),
)


def common_options(command: F) -> F:
    """The options every command takes, before or after its name: ``gateway -c x.toml status``
    and ``gateway status -c x.toml`` say the same."""
    for option in reversed(_COMMON_OPTIONS):
        command = option(command)
    return command


def fail_config(err: ConfigError) -> NoReturn:
    err_console.print(Text(f"The configuration has {len(err.problems)} problem(s):", style="bold red"))
    for problem in err.problems:
        err_console.print(Text("  ") + shown(problem), highlight=False)
    sys.exit(EXIT_USAGE)


@contextmanager
def guard() -> Iterator[None]:
    """Turn environment failures into a readable message and exit code 3, never a traceback."""
    try:
        yield
    except ConfigError as err:
        fail_config(err)
    except LedgerError as err:
        err_console.print(Text("Ledger error: ", style="bold red") + shown(err), highlight=False)
        sys.exit(EXIT_FAILURE)
    except GatewayError as err:
        err_console.print(Text("Error: ", style="bold red") + shown(err), highlight=False)
        sys.exit(EXIT_FAILURE)
    except OSError as err:  # a folder or disk the transports did not wrap: still a message, exit 3
        where = f" ({err.filename})" if err.filename else ""
        message = f"{err.strerror or err}{where}; the files wait in work/ and are retried"
        err_console.print(Text("Environment error: ", style="bold red") + shown(message), highlight=False)
        sys.exit(EXIT_FAILURE)


def usage(message: str) -> NoReturn:
    err_console.print(Text("Error: ", style="bold red") + shown(message), highlight=False)
    sys.exit(EXIT_USAGE)


def print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))
