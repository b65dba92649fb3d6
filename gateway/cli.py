"""The ``gateway`` command: parse arguments, call the layers below, render the result.

Exit codes (the same for every command):

===  ======================================================================
 0   everything went through (``validate``: every file valid)
 1   the input was refused in part or whole: invalid files, rejected invoices
 2   usage error, invalid configuration, a file that cannot be read
 3   the gateway or its environment failed (ledger unreachable, a file failed)
===  ======================================================================
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from gateway import __version__
from gateway.clock import business_date, parse_as_of
from gateway.errors import ConfigError, GatewayError, LedgerError
from gateway.pipeline import CycleReport, ProgressCallback
from gateway.text import escape_controls

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_FAILURE = 0, 1, 2, 3
DEFAULT_CONFIG = "gateway.toml"

console = Console(stderr=False)
err_console = Console(stderr=True)


def _as_of(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return parse_as_of(value)
    except ValueError as err:
        raise click.BadParameter(str(err)) from None


class EscapingFormatter(logging.Formatter):
    """Log lines carry names and values from clients' files: a control character in them
    (an ESC sequence, a NUL) is written escaped, never raw, to the operator's terminal."""

    def format(self, record: logging.LogRecord) -> str:
        return "\n".join(escape_controls(line) for line in super().format(record).split("\n"))


def _watchdog_shutdown_noise(record: logging.LogRecord) -> bool:
    """Drop the ERROR watchdog logs when an inbox event arrives while its watcher is being
    stopped: nothing is lost (the periodic scan is the truth) and an operator would take it
    for a failure of the gateway."""
    noise = "called when the thread is inactive"
    return not (record.name.startswith("watchdog.") and noise in str(record.msg))


def shown(value: object) -> Text:
    """Any value from outside as terminal-safe text: control characters escaped, and never read
    as rich markup (a file named ``[/]x.csv`` is a name, not a closing tag)."""
    return Text("\n".join(escape_controls(line) for line in str(value).split("\n")))


class Context:
    """What every command shares: where the configuration is and the fixed business date."""

    def __init__(self, config: Path, as_of: date | None, ledger_url: str | None) -> None:
        self.config = config
        self.as_of = as_of
        self.ledger_url = ledger_url

    def settings(self) -> Any:
        from gateway.config import load_settings

        try:
            return load_settings(self.config, as_of=self.as_of, ledger_url=self.ledger_url)
        except ConfigError as err:
            _fail_config(err)


def _fail_config(err: ConfigError) -> NoReturn:
    err_console.print(f"[bold red]The configuration has {len(err.problems)} problem(s):[/]")
    for problem in err.problems:
        err_console.print(f"  {problem}", markup=False, highlight=False)
    sys.exit(EXIT_USAGE)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Exit codes: 0 everything went through; 1 input refused (an invalid file, a rejected invoice); "
    "2 usage or configuration error, unreadable file; 3 the gateway or its environment failed "
    "(the files stay in work/ and are retried). Issue codes: docs/error-codes.md.",
)
@click.option(
    "--config",
    "-c",
    type=click.Path(dir_okay=False, path_type=Path),
    default=lambda: os.environ.get("GATEWAY_CONFIG", DEFAULT_CONFIG),
    show_default="$GATEWAY_CONFIG or ./gateway.toml",
    help="The gateway.toml to use.",
)
@click.option(
    "--as-of",
    callback=_as_of,
    metavar="YYYY-MM-DD",
    help="Fix the business date (replays, audits, tests); overrides `as_of` in the configuration.",
)
@click.option(
    "--ledger-url",
    help="Use this ledger instead of the configured one (sqlite:///… or postgresql+psycopg://…).",
)
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.version_option(__version__, prog_name="gateway")
@click.pass_context
def main(ctx: click.Context, config: Path, as_of: date | None, ledger_url: str | None, verbose: int) -> None:
    """Factoring gateway: client invoice batches in, assignment remittances for the factor and
    acknowledgements for the client out, recorded in a ledger that never assigns a receivable twice."""
    level = logging.WARNING - 10 * min(verbose, 2)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(EscapingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_watchdog_shutdown_noise)
    logging.basicConfig(level=level, handlers=[handler])
    ctx.obj = Context(config, as_of, ledger_url)
    from gateway.runtime import tune_memory_for_batches

    tune_memory_for_batches()


# -- demo ------------------------------------------------------------------------


@main.command()
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-work"),
    show_default=True,
    help="Working directory for the demo (created if missing; reused if present).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the cycle report as JSON.")
def demo(workdir: Path, as_json: bool) -> None:
    """Create a working directory with a sample configuration and batches, run one cycle,
    and show what happened and where the outputs are. Run it twice: nothing is assigned twice."""
    from gateway.config import load_settings
    from gateway.demo import prepare_demo
    from gateway.runtime import open_pipeline

    with _guard():
        try:
            config = prepare_demo(workdir)
        except FileNotFoundError as err:
            _usage(str(err))
    try:
        settings = load_settings(config)
    except ConfigError as err:
        _fail_config(err)
    with _guard(), open_pipeline(settings, progress=_progress_printer(as_json)) as pipeline:
        report = pipeline.run_cycle()
        status = pipeline.ledger.status()
    if as_json:
        _print_json(
            {"workdir": str(workdir.resolve()), "cycle": report.to_dict(), "status": status.to_dict()}
        )
    else:
        _render_cycle(report)
        console.print()
        console.print(
            Text("Working directory: ") + Text(escape_controls(str(workdir.resolve())), style="bold")
        )
        console.print(shown(f"  configuration:       {config}"))
        console.print(shown(f"  remittances (factor): {settings.factor.remittances.transport.root}"))
        for client in settings.clients:
            console.print(
                shown(f"  acknowledgements ({client.id}): {client.acknowledgements.transport.root}")
            )
            for channel in client.inbound:
                root = channel.transport.root
                console.print(shown(f"  inbox ({client.id}): {root / 'inbox'}"))
                console.print(shown(f"    archive: {root / 'archive'}  errors: {root / 'error'}"))
        console.print(shown(f"  ledger:              {settings.ledger_url}"))
        console.print("Run the demo again: the same batches are dropped again and refused as duplicates.")
    sys.exit(EXIT_FAILURE if report.failed_files else EXIT_OK)


# -- run ---------------------------------------------------------------------------


@main.command()
@click.option("--once", is_flag=True, help="Run one scan cycle, then exit.")
@click.option("--json", "as_json", is_flag=True, help="Print each cycle report as JSON (one line per cycle).")
@click.pass_obj
def run(obj: Context, once: bool, as_json: bool) -> None:
    """Watch every inbound channel and process what arrives (the daemon).

    A periodic scan is the truth; file-system events only bring the next scan forward.
    SIGTERM or Ctrl-C finishes the current batch, then stops."""
    from gateway.runtime import open_pipeline

    settings = obj.settings()
    with _guard(), open_pipeline(settings, progress=_progress_printer(as_json or not once)) as pipeline:
        if once:
            time.sleep(pipeline.observe())  # "stable" inboxes need two looks at a file
            report = pipeline.run_cycle()
            _emit_cycle(report, as_json)
            sys.exit(EXIT_FAILURE if report.failed_files else EXIT_OK)
        from gateway.scheduler import ScanScheduler

        ScanScheduler(
            pipeline, settings, on_report=lambda r: _emit_cycle(r, as_json, quiet_when_idle=True)
        ).run()


# -- ingest ------------------------------------------------------------------------


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--client", "client_id", required=True, help="The client (id in gateway.toml) these files come from."
)
@click.option("--channel", "channel_id", help="Inbound channel of that client (default: its first one).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def ingest(
    obj: Context, files: tuple[Path, ...], client_id: str, channel_id: str | None, as_json: bool
) -> None:
    """Process FILES now, as if the client had dropped them into its inbox.

    The files are copied into the channel's inbox (the originals are left alone) and go through
    the whole pipeline: ledger, remittance, acknowledgement, archive."""
    from gateway.ingest import ingest_files
    from gateway.runtime import open_pipeline

    settings = obj.settings()
    client = settings.client(client_id)
    if client is None:
        known = ", ".join(c.id for c in settings.clients) or "none"
        _usage(f"There is no client '{client_id}' in {obj.config} (clients: {known}).")
    unreadable = [f for f in files if not f.is_file() or not os.access(f, os.R_OK)]
    if unreadable:
        _usage("Cannot read: " + ", ".join(str(f) for f in unreadable))
    with _guard(), open_pipeline(settings, progress=_progress_printer(as_json)) as pipeline:
        try:
            report = ingest_files(pipeline, client, list(files), channel_id)
        except ValueError as err:
            _usage(str(err))
    _emit_cycle(report, as_json)
    if report.failed_files:
        sys.exit(EXIT_FAILURE)
    sys.exit(EXIT_REJECTED if report.rejected_files or report.rejected_documents else EXIT_OK)


# -- validate ----------------------------------------------------------------------


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--client",
    "client_id",
    help="Also check eligibility against this client's contract (needs the configuration).",
)
@click.option(
    "--format", "format_id", default="auto", show_default=True, help="Force a format instead of detecting it."
)
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts as JSON.")
@click.pass_obj
def validate(
    obj: Context, files: tuple[Path, ...], client_id: str | None, format_id: str, as_json: bool
) -> None:
    """Check FILES as `run` would, writing nothing: parse, XSD, document rules; with --client also
    the contract's rules and, read from the ledger, duplicates and the approval split `run` would
    record. Exit 0 if all are valid, 1 if any is not."""
    from gateway.file_validation import validate_files

    client, ledger_url = None, None
    bdate = business_date(as_of=obj.as_of)
    if client_id is not None:
        settings = obj.settings()
        client = settings.client(client_id)
        if client is None:
            _usage(f"There is no client '{client_id}' in {obj.config}.")
        bdate = business_date(settings.timezone, settings.as_of)
        ledger_url = settings.ledger_url
    missing = [f for f in files if not f.is_file()]
    if missing:
        _usage("Cannot read: " + ", ".join(str(f) for f in missing))
    try:
        results = validate_files(list(files), format_id, client, bdate, ledger_url)
    except LedgerError as err:  # the ledger could not be read: the environment, not the files
        err_console.print(Text("Ledger error: ", style="bold red") + shown(err), highlight=False)
        sys.exit(EXIT_FAILURE)
    except OSError as err:
        _usage(f"Cannot read {err.filename}: {err.strerror}")
    except GatewayError as err:
        _usage(str(err))
    if as_json:
        _print_json({"business_date": bdate.isoformat(), "files": [r.to_dict() for r in results]})
    else:
        for result in results:
            _render_validation(result)
    sys.exit(EXIT_OK if all(r.valid for r in results) else EXIT_REJECTED)


# -- status ------------------------------------------------------------------------


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_obj
def status(obj: Context, as_json: bool) -> None:
    """What the ledger holds: files per state, remittances, assigned totals, approvals.

    Reads the ledger as it is: never creates nor upgrades one."""
    from gateway.ledger import Ledger

    settings = obj.settings()
    with _guard():
        ledger = Ledger.open_for_reading(settings.ledger_url)
        if ledger is None:
            _usage(
                f"There is no ledger at {settings.ledger_url}: nothing was processed with this configuration "
                f"yet, or ledger_url in {obj.config} points to the wrong place."
            )
        try:
            report = ledger.status()
        finally:
            ledger.close()
    data = report.to_dict()
    if as_json:
        _print_json(data)
    else:
        _render_status(data)


# -- explain -----------------------------------------------------------------------


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """What an issue code means (GW-DUPLICATE-INVOICE, BR-CO-15…) and what it refuses."""
    import difflib

    from gateway.error_codes import ERROR_CODES_DOC, load_error_codes

    try:
        codes = load_error_codes()
    except OSError as err:
        _usage(f"Cannot read the issue codes ({ERROR_CODES_DOC}): {err.strerror or err}")
    found = codes.get(code.strip().upper())
    if found is None:
        close = difflib.get_close_matches(code.strip().upper(), list(codes), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        _usage(f"{code} is not an issue code of the gateway.{hint} Every code: {ERROR_CODES_DOC}")
    level, meaning = found
    refuses = {
        "file": "refuses the whole file",
        "document": "refuses that document",
        "warning": "refuses nothing",
    }
    console.print(shown(f"{code.strip().upper()} ({refuses.get(level, level)}): {meaning}"), highlight=False)


# -- config ------------------------------------------------------------------------


@main.group()
def config() -> None:
    """Work with gateway.toml."""


@config.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@click.pass_obj
def config_check(obj: Context, as_json: bool) -> None:
    """Print OK, or every problem of the configuration with its key path."""
    from gateway.config import check_settings

    problems = check_settings(obj.config)
    if as_json:
        _print_json({"config": str(obj.config), "ok": not problems, "problems": problems})
    elif problems:
        err_console.print(shown(f"{obj.config}: {len(problems)} problem(s)"), style="bold red")
        for problem in problems:
            err_console.print(f"  {problem}", markup=False, highlight=False)
    else:
        console.print(shown(f"{obj.config}: OK"))
    sys.exit(EXIT_USAGE if problems else EXIT_OK)


# -- ledger ------------------------------------------------------------------------


@main.group()
def ledger() -> None:
    """The ledger and the folders bound to it."""


@ledger.command("adopt")
@click.option("--reason", required=True, help="Why (recorded in the ledger with your user name).")
@click.pass_obj
def ledger_adopt(obj: Context, reason: str) -> None:
    """Bind every working folder to the configured ledger, on your word.

    The gateway refuses to start when its folders were worked in with another ledger, or hold
    processed files beside an empty ledger: a new or replaced ledger would number remittances
    again from 1 and assign known invoices a second time. When the ledger in use is the right
    one (a restored backup, a move to PostgreSQL), adopt it; the decision is recorded."""
    import getpass

    from gateway.ledger import Ledger
    from gateway.workdir import adopt

    settings = obj.settings()
    with _guard():
        opened = Ledger.open(settings.ledger_url, exclusive=True)
        try:
            changes = adopt(settings, opened, reason, getpass.getuser())
        finally:
            opened.close()
    if not changes:
        console.print(shown(f"Every folder already belongs to the ledger {settings.ledger_url}."))
    for root, previous in changes:
        console.print(shown(f"{root}: bound to this ledger (was {previous or 'not bound'})"))


@ledger.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def ledger_info(obj: Context, as_json: bool) -> None:
    """The ledger's identity, which ledger each folder is bound to, and the recorded events."""
    from gateway.ledger import Ledger
    from gateway.transports.ledger_binding import read_binding
    from gateway.workdir import channel_folders

    settings = obj.settings()
    with _guard():
        opened = Ledger.open(settings.ledger_url)
        try:
            identity, events = opened.identity(), opened.events()
        finally:
            opened.close()
        folders = []
        for folder in channel_folders(settings):
            binding = read_binding(folder.root)
            folders.append(
                {
                    "folder": str(folder.root),
                    "role": folder.label,
                    "ledger_id": binding.ledger_id if binding else None,
                }
            )
    data = {
        "ledger_url": settings.ledger_url,
        "ledger_id": identity,
        "folders": folders,
        "events": [
            {"at": e.at.isoformat(), "kind": e.kind, "actor": e.actor, "detail": e.detail} for e in events
        ],
    }
    if as_json:
        _print_json(data)
        return
    console.print(shown(f"Ledger {identity} at {settings.ledger_url}"))
    for item in folders:
        state = "this ledger" if item["ledger_id"] == identity else (item["ledger_id"] or "not bound yet")
        console.print(shown(f"  {item['folder']} ({item['role']}): {state}"))
    for event in data["events"]:
        console.print(
            shown(f"  {event['at']} {event['kind']} by {event['actor']}: {json.dumps(event['detail'])}")
        )


# -- rendering and helpers -------------------------------------------------------


@contextmanager
def _guard() -> Iterator[None]:
    """Turn environment failures into a readable message and exit code 3, never a traceback."""
    try:
        yield
    except ConfigError as err:
        _fail_config(err)
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


def _usage(message: str) -> NoReturn:
    err_console.print(Text("Error: ", style="bold red") + shown(message), highlight=False)
    sys.exit(EXIT_USAGE)


def _print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _progress_printer(quiet: bool) -> ProgressCallback | None:
    """A rich progress bar on stderr for long work (only when stderr is a terminal)."""
    if quiet or not err_console.is_terminal:
        return None
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
    )
    tasks: dict[str, Any] = {}

    def update(what: str, done: int, total: int) -> None:
        if what not in tasks:
            progress.start()
            tasks[what] = progress.add_task(what, total=total)
        progress.update(tasks[what], completed=done, total=total)
        if done >= total:
            progress.stop()
            del tasks[what]

    return update


def _emit_cycle(report: CycleReport, as_json: bool, quiet_when_idle: bool = False) -> None:
    if quiet_when_idle and report.files == 0:
        return
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        _render_cycle(report)


def _render_cycle(report: CycleReport) -> None:
    table = Table(title=f"Cycle of business date {report.business_date.isoformat()}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for label, value in (
        ("files processed", report.files),
        ("files with a remittance", report.assigned_files),
        ("files refused", report.rejected_files),
        ("files failed (will be retried)", report.failed_files),
        ("documents accepted", report.accepted_documents),
        ("documents rejected", report.rejected_documents),
    ):
        table.add_row(label, str(value))
    console.print(table)
    if report.remittances:
        console.print(shown("Remittances: " + ", ".join(f"{c} n°{n}" for c, n in report.remittances)))
    if report.busy_channels:
        console.print(shown("Held by another process this cycle: " + ", ".join(report.busy_channels)))
    if report.delivered:
        console.print(f"Files delivered: {len(report.delivered)}")
        for name in report.delivered[:20]:
            console.print(Text("  ") + shown(name), highlight=False)
        if len(report.delivered) > 20:
            console.print(f"  … and {len(report.delivered) - 20} more")


def _render_validation(result: Any) -> None:
    mark = Text("valid", style="green") if result.valid else Text("invalid", style="red")
    console.print(
        shown(result.path) + Text(": ") + mark + shown(f" ({result.format}, {result.documents} document(s))")
    )
    for issue in result.issues:
        where = f" [{issue.location}]" if issue.location else ""
        console.print(
            shown(f"  {issue.severity.value:7} {issue.code}{where}: {issue.message}"), highlight=False
        )


def _render_status(data: dict[str, Any]) -> None:
    for section, rows in data.items():
        if not isinstance(rows, list) or not rows:
            console.print(shown(f"{section}: {rows}"))
            continue
        table = Table(title=section.replace("_", " "))
        columns = list(rows[0].keys())
        for column in columns:
            table.add_column(column.replace("_", " "))
        for row in rows:
            table.add_row(*(shown(row.get(c, "")) for c in columns))
        console.print(table)
