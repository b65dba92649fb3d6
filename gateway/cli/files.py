"""The commands about one file: ``show`` (its history) and ``replay`` (take it again)."""

from __future__ import annotations

import getpass
import sys
from typing import Any

import click
from rich.text import Text

from gateway.cli.common import (
    EXIT_OK,
    Context,
    common_options,
    console,
    guard,
    print_json,
    shown,
    usage,
)
from gateway.cli.processing import cycle_exit_code
from gateway.cli.render import render_cycle


@click.command()
@click.argument("target")
@click.option("--json", "as_json", is_flag=True, help="Print the history as JSON.")
@common_options
@click.pass_obj
def show(obj: Context, target: str, as_json: bool) -> None:
    """What happened to a file: TARGET is an envelope id, a file name (as sent, or as kept), or
    the path of a file (found by its bytes too).

    Received, decided (each document's verdict and codes), outputs delivered, finalised, where
    the file is now, and the operator's replays. Reads the ledger; changes nothing."""
    from gateway.file_history import find_stories, story_dict, where_now
    from gateway.ledger import Ledger
    from gateway.transports.local import LocalFolderInbound

    settings = obj.settings()
    with guard():
        ledger = Ledger.open_for_reading(settings.ledger_url)
        if ledger is None:
            usage(f"There is no ledger at {settings.ledger_url}: nothing was processed yet.")
        try:
            stories = find_stories(ledger, target)
        finally:
            ledger.close()
        channels = {c.id: c for client in settings.clients for c in client.inbound}
        found = []
        for story in stories:
            channel = channels.get(story.record.channel)
            transport = LocalFolderInbound(channel.id, channel.transport) if channel else None
            try:
                found.append(story_dict(story, where_now(transport, story)))
            finally:
                if transport is not None:
                    transport.close()
    if not found:
        usage(f"The ledger knows no file or envelope {target!r}.")
    if as_json:
        print_json({"envelopes": found})
        return
    for item in found:
        _render_story(item)
    sys.exit(EXIT_OK)


@click.command()
@click.argument("envelope", type=int)
@click.option("--reason", required=True, help="Why (recorded in the ledger with your user name).")
@click.option("--json", "as_json", is_flag=True, help="Print the report of the new processing as JSON.")
@common_options
@click.pass_obj
def replay(obj: Context, envelope: int, reason: str, as_json: bool) -> None:
    """Process the file of ENVELOPE again, as an operator's decision (e.g. once a debtor that was
    missing has been set up).

    Its kept copy (archive/ or error/) is put back into the inbox and processed now; the decision
    and the reason are recorded in the ledger. Nothing can be assigned twice: the invoices
    assigned the first time are refused as GW-DUPLICATE-INVOICE. Exit codes as `ingest`."""
    from gateway.replay import ReplayRefused
    from gateway.replay import replay as replay_envelope
    from gateway.runtime import open_pipeline

    settings = obj.settings()
    with guard(), open_pipeline(settings) as pipeline:
        try:
            done = replay_envelope(pipeline, envelope, reason, getpass.getuser())
        except ReplayRefused as err:
            usage(str(err))
    if as_json:
        print_json({"replayed": envelope, "from": done.copy.location, "cycle": done.report.to_dict()})
    else:
        console.print(shown(f"Envelope {envelope} replayed from {done.copy.location} as {done.name}."))
        render_cycle(done.report)
    sys.exit(cycle_exit_code(done.report))


def _render_story(item: dict[str, Any]) -> None:
    console.print(
        Text(f"Envelope {item['envelope_id']}: ", style="bold")
        + shown(f"{item['source_name']} (client {item['client_id']}, channel {item['channel']})")
    )
    rows = [
        ("received", f"{item['received_at']} ({item['size']:,} bytes, kept as {item['kept_as']})"),
        (
            "state",
            f"{item['state']}"
            + (f", business date {item['business_date']}" if item["business_date"] else ""),
        ),
    ]
    if item["outcome"]:
        rows.append(("outcome", f"{item['outcome']['code']}: {item['outcome']['message']}"))
    if item["remittance_number"] is not None:
        rows.append(("remittance", f"n°{item['remittance_number']}"))
    for issue in item["file_issues"]:
        rows.append(("file issue", f"{issue['code']}: {issue['message']}"))
    for doc in item["documents"]:
        codes = "; ".join(f"{i['code']}: {i['message']}" for i in doc["issues"])
        amount = f" {doc['amount']} {doc['currency']}" if doc["amount"] else ""
        rows.append(("document", f"{doc['location']} {doc['number'] or '-'}{amount}: {doc['verdict']}"
                     + (f" ({codes})" if codes else "")))  # fmt: skip
    for delivery in item["deliveries"]:
        rows.append(
            (
                "delivered",
                f"{delivery['at']} {delivery['channel']}/{delivery['name']} ({delivery['size']:,} bytes)",
            )
        )
    if item["finalized_at"]:
        rows.append(("finalised", item["finalized_at"]))
    for place in item["now_at"] or [{"location": "not in the channel's folders any more"}]:
        rows.append(("now at", place["location"]))
    for event in item["events"]:
        rows.append((event["kind"], f"{event['at']} by {event['actor']}: {event['detail']}"))
    for label, value in rows:
        console.print(Text(f"  {label:11} ") + shown(value), highlight=False)
