"""The commands that only read: ``status`` and ``explain``."""

from __future__ import annotations

import difflib

import click

from gateway.cli.common import Context, common_options, console, guard, print_json, shown, usage
from gateway.cli.render import render_status


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@common_options
@click.pass_obj
def status(obj: Context, as_json: bool) -> None:
    """What the ledger holds: files per state, remittances, assigned totals, approvals.

    Reads the ledger as it is: never creates nor upgrades one."""
    from gateway.ledger import Ledger

    settings = obj.settings()
    with guard():
        ledger = Ledger.open_for_reading(settings.ledger_url)
        if ledger is None:
            usage(
                f"There is no ledger at {settings.ledger_url}: nothing was processed with this configuration "
                f"yet, or ledger_url in {obj.config} points to the wrong place."
            )
        try:
            report = ledger.status()
        finally:
            ledger.close()
    data = report.to_dict()
    if as_json:
        print_json(data)
    else:
        render_status(data)


@click.command()
@click.argument("code", required=False)
@common_options
def explain(code: str | None) -> None:
    """What an issue code means (GW-DUPLICATE-INVOICE, BR-CO-15…) and what it refuses;
    without a code, every code the gateway uses."""
    from gateway.error_codes import ERROR_CODES_DOC, find_error_code, load_error_codes

    try:
        codes = load_error_codes()
    except OSError as err:
        usage(
            f"Cannot read the issue codes ({ERROR_CODES_DOC}): {err.strerror or err}; "
            "this installation is incomplete: reinstall factoring-gateway."
        )
    refuses = {
        "file": "refuses the whole file",
        "document": "refuses that document",
        "warning": "refuses nothing",
    }
    if code is None:
        for known, (level, meaning) in sorted(codes.items()):
            console.print(shown(f"{known} ({refuses.get(level, level)}): {meaning}"), highlight=False)
        return
    wanted = code.strip().upper()
    row = find_error_code(wanted, codes) or find_error_code(code.strip(), codes)  # ``…:report`` ids
    found = row[1] if row else None
    if found is None:
        close = difflib.get_close_matches(wanted, list(codes), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        usage(f"{code} is not an issue code of the gateway.{hint} `gateway explain` lists every code.")
    level, meaning = found
    shown_code = wanted if row is not None and "*" not in row[0] else code.strip()
    console.print(shown(f"{shown_code} ({refuses.get(level, level)}): {meaning}"), highlight=False)
