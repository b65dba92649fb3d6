"""The commands an operator uses to set things right: ``config check``, ``ledger adopt``,
``ledger info``."""

from __future__ import annotations

import json
import sys

import click

from gateway.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    Context,
    common_options,
    console,
    err_console,
    guard,
    print_json,
    shown,
)


@click.group()
def config() -> None:
    """Work with gateway.toml."""


@config.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@common_options
@click.pass_obj
def config_check(obj: Context, as_json: bool) -> None:
    """Print OK, or every problem of the configuration with its key path."""
    from gateway.config import check_settings

    problems = check_settings(obj.config)
    if as_json:
        print_json({"config": str(obj.config), "ok": not problems, "problems": problems})
    elif problems:
        err_console.print(shown(f"{obj.config}: {len(problems)} problem(s)"), style="bold red")
        for problem in problems:
            err_console.print(shown(f"  {problem}"), highlight=False)
    else:
        console.print(shown(f"{obj.config}: OK"))
    sys.exit(EXIT_USAGE if problems else EXIT_OK)


@click.group()
def ledger() -> None:
    """The ledger and the folders bound to it."""


@ledger.command("adopt")
@click.option("--reason", required=True, help="Why (recorded in the ledger with your user name).")
@common_options
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
    with guard():
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
@common_options
@click.pass_obj
def ledger_info(obj: Context, as_json: bool) -> None:
    """The ledger's identity, which ledger each folder is bound to, and the recorded events."""
    from gateway.ledger import Ledger
    from gateway.transports.ledger_binding import read_binding
    from gateway.workdir import channel_folders

    settings = obj.settings()
    with guard():
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
        print_json(data)
        return
    console.print(shown(f"Ledger {identity} at {settings.ledger_url}"))
    for item in folders:
        state = "this ledger" if item["ledger_id"] == identity else (item["ledger_id"] or "not bound yet")
        console.print(shown(f"  {item['folder']} ({item['role']}): {state}"))
    for event in data["events"]:
        console.print(
            shown(f"  {event['at']} {event['kind']} by {event['actor']}: {json.dumps(event['detail'])}")
        )
