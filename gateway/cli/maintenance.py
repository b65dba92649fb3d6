"""The commands that look after an installation: ``doctor``."""

from __future__ import annotations

import sys

import click
from rich.text import Text

from gateway.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    Context,
    common_options,
    console,
    guard,
    print_json,
    shown,
)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option(
    "--min-free-mib",
    type=click.IntRange(min=0),
    default=512,
    show_default=True,
    help="Free space each file system the gateway writes to should keep, in MiB.",
)
@common_options
@click.pass_obj
def doctor(obj: Context, as_json: bool, min_free_mib: int) -> None:
    """Check the configuration, the ledger, every folder and channel, and say what is wrong and
    how to fix it: one line per check, OK or PROBLEM.

    Only looks: creates, upgrades, binds and locks nothing, so it is safe beside a running
    gateway. Exit code 0 when everything is OK, 3 when something needs fixing, 2 when the
    configuration itself is wrong."""
    from gateway.doctor import diagnose

    settings = obj.settings()
    with guard():  # a check that fails outright is still a message and exit 3, not a traceback
        findings = diagnose(settings, min_free_bytes=min_free_mib * 1024 * 1024)
    problems = sum(1 for finding in findings if not finding.ok)
    if as_json:
        print_json(
            {
                "config": str(obj.config),
                "ok": not problems,
                "problems": problems,
                "findings": [finding.to_dict() for finding in findings],
            }
        )
    else:
        for finding in findings:
            verdict = Text("OK     ", style="green") if finding.ok else Text("PROBLEM", style="bold red")
            line = f" {finding.check:<16} {finding.subject}: {finding.message}"
            if finding.fix:
                line += f". Fix: {finding.fix}"
            console.print(verdict + shown(line), highlight=False)
        summary = f"{problems} problem(s) to fix." if problems else "Everything is OK."
        console.print(shown(summary), style="bold red" if problems else "bold green")
    sys.exit(EXIT_FAILURE if problems else EXIT_OK)
