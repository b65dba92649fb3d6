"""The commands that process files: ``demo``, ``run``, ``ingest``, and ``validate`` (which decides
as ``run`` would and writes nothing)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click
from rich.text import Text

from gateway.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_REJECTED,
    Context,
    common_options,
    console,
    err_console,
    fail_config,
    guard,
    print_json,
    shown,
    usage,
)
from gateway.cli.render import emit_cycle, progress_printer, render_cycle, render_validation
from gateway.clock import business_date
from gateway.errors import ConfigError, GatewayError, LedgerError
from gateway.parsers import FORMATS as PARSER_FORMATS
from gateway.pipeline import CycleReport
from gateway.text import escape_controls


def cycle_exit_code(report: CycleReport) -> int:
    """The same outcome gives the same exit code whichever command processed the files."""
    if report.failed_files:
        return EXIT_FAILURE
    if report.rejected_files or report.rejected_documents:
        return EXIT_REJECTED
    return EXIT_OK


@click.command()
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-work"),
    show_default=True,
    help="Working directory for the demo (created if missing; reused if present).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the cycle report as JSON.")
@common_options
def demo(workdir: Path, as_json: bool) -> None:
    """Create a working directory with a sample configuration and batches, run one cycle,
    and show what happened and where the outputs are. Run it twice: nothing is assigned twice.

    The samples contain files that must be refused (a truncated file, a duplicate): the demo
    exits 0 when the cycle ran, 3 when a file failed."""
    from gateway.config import load_settings
    from gateway.demo import prepare_demo
    from gateway.runtime import open_pipeline

    with guard():
        try:
            config = prepare_demo(workdir)
        except FileNotFoundError as err:
            usage(str(err))
    try:
        settings = load_settings(config)
    except ConfigError as err:
        fail_config(err)
    with guard(), open_pipeline(settings, progress=progress_printer(as_json)) as pipeline:
        report = pipeline.run_cycle()
        status = pipeline.ledger.status()
    if as_json:
        print_json({"workdir": str(workdir.resolve()), "cycle": report.to_dict(), "status": status.to_dict()})
    else:
        render_cycle(report)
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


@click.command()
@click.option("--once", is_flag=True, help="Run one scan cycle, then exit.")
@click.option("--json", "as_json", is_flag=True, help="Print each cycle report as JSON (one line per cycle).")
@common_options
@click.pass_obj
def run(obj: Context, once: bool, as_json: bool) -> None:
    """Watch every inbound channel and process what arrives (the daemon).

    A periodic scan is the truth; file-system events only bring the next scan forward.
    SIGTERM or Ctrl-C finishes the current batch, then stops. With --once, the exit code
    says how the cycle went, as for `ingest`: 0 all assigned, 1 something refused, 3 a file
    failed."""
    from gateway.runtime import open_pipeline

    settings = obj.settings()
    with guard(), open_pipeline(settings, progress=progress_printer(as_json or not once)) as pipeline:
        if once:
            time.sleep(pipeline.observe())  # "stable" inboxes need two looks at a file
            report = pipeline.run_cycle()
            emit_cycle(report, as_json)
            sys.exit(cycle_exit_code(report))
        from gateway.scheduler import ScanScheduler

        ScanScheduler(
            pipeline, settings, on_report=lambda r: emit_cycle(r, as_json, quiet_when_idle=True)
        ).run()


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--client", "client_id", required=True, help="The client (id in gateway.toml) these files come from."
)
@click.option("--channel", "channel_id", help="Inbound channel of that client (default: its first one).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@common_options
@click.pass_obj
def ingest(
    obj: Context, files: tuple[Path, ...], client_id: str, channel_id: str | None, as_json: bool
) -> None:
    """Process FILES now, as if the client had dropped them into its inbox.

    The files are copied into the channel's inbox (the originals are left alone) and go through
    the whole pipeline: ledger, remittance, acknowledgement, archive. Exit 0 all assigned,
    1 something refused, 3 a file failed (as `run --once`)."""
    from gateway.ingest import ingest_files
    from gateway.runtime import open_pipeline

    settings = obj.settings()
    client = settings.client(client_id)
    if client is None:
        known = ", ".join(c.id for c in settings.clients) or "none"
        usage(f"There is no client '{client_id}' in {obj.config} (clients: {known}).")
    unreadable = [f for f in files if not f.is_file() or not os.access(f, os.R_OK)]
    if unreadable:
        usage("Cannot read: " + ", ".join(str(f) for f in unreadable))
    with guard(), open_pipeline(settings, progress=progress_printer(as_json)) as pipeline:
        try:
            report = ingest_files(pipeline, client, list(files), channel_id)
        except ValueError as err:
            usage(str(err))
    emit_cycle(report, as_json)
    sys.exit(cycle_exit_code(report))


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--client",
    "client_id",
    help="Also check eligibility against this client's contract (needs the configuration).",
)
@click.option(
    "--channel",
    "channel_id",
    help="With --client: the inbound channel whose policy applies, e.g. schematron (default: its first).",
)
@click.option(
    "--format",
    "format_id",
    type=click.Choice(("auto", *PARSER_FORMATS)),
    default="auto",
    show_default=True,
    help="Force a format instead of detecting it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts as JSON.")
@common_options
@click.pass_obj
def validate(
    obj: Context,
    files: tuple[Path, ...],
    client_id: str | None,
    channel_id: str | None,
    format_id: str,
    as_json: bool,
) -> None:
    """Check FILES as `run` would, writing nothing, and answer two questions per file.

    Is it a conformant e-invoice? The official rule sets alone: the XSD, then the EN 16931 or
    Factur-X Schematron its syntax and profile call for, then BR-FR when the contract asks
    (verdict valid, invalid or error). Can the factor finance it? The gateway's rules and, with
    --client, the contract's and, read from the ledger, duplicates and the approval split `run`
    would record. Exit 0 if every file is financeable, 1 if any is not."""
    from gateway.file_validation import validate_files

    client, ledger_url, factor, schematron = None, None, None, True
    bdate = business_date(as_of=obj.as_of)
    if channel_id is not None and client_id is None:
        usage("--channel needs --client: a channel belongs to a client.")
    if client_id is not None:
        settings = obj.settings()
        client = settings.client(client_id)
        if client is None:
            usage(f"There is no client '{client_id}' in {obj.config}.")
        channel = next((c for c in client.inbound if channel_id in (None, c.id)), None)
        if channel is None:
            known = ", ".join(c.id for c in client.inbound)
            usage(f"Client '{client_id}' has no inbound channel '{channel_id}' (its channels: {known}).")
        bdate = business_date(settings.timezone, settings.as_of)
        ledger_url, factor, schematron = settings.ledger_url, settings.factor, channel.schematron
    missing = [f for f in files if not f.is_file()]
    if missing:
        usage("Cannot read: " + ", ".join(str(f) for f in missing))
    try:
        results = validate_files(
            list(files), format_id, client, bdate, ledger_url, factor=factor, schematron=schematron
        )
    except LedgerError as err:  # the ledger could not be read: the environment, not the files
        err_console.print(Text("Ledger error: ", style="bold red") + shown(err), highlight=False)
        sys.exit(EXIT_FAILURE)
    except OSError as err:
        usage(f"Cannot read {err.filename}: {err.strerror}")
    except GatewayError as err:
        usage(str(err))
    if as_json:
        print_json({"business_date": bdate.isoformat(), "files": [r.to_dict() for r in results]})
    else:
        render_validation(results)
    sys.exit(EXIT_OK if all(r.financeable for r in results) else EXIT_REJECTED)
