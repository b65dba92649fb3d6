"""How reports look on a terminal: cycle tables, validation verdicts, status sections, progress."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from gateway.cli.common import console, err_console, shown
from gateway.pipeline import CycleReport, ProgressCallback

if TYPE_CHECKING:
    from gateway.file_validation import FileVerdict


def progress_printer(quiet: bool) -> ProgressCallback | None:
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


def emit_cycle(report: CycleReport, as_json: bool, quiet_when_idle: bool = False) -> None:
    if quiet_when_idle and report.files == 0 and not report.outcomes:
        return
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        render_cycle(report)


def render_cycle(report: CycleReport) -> None:
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
    if report.outcomes:
        files = Table(title="Files")
        for column in ("file", "envelope", "outcome", "accepted", "rejected", "codes"):
            files.add_column(column)
        for outcome in report.outcomes:
            files.add_row(
                shown(outcome.name),
                str(outcome.envelope_id or ""),
                outcome.outcome,
                str(outcome.accepted),
                str(outcome.rejected),
                shown(", ".join(outcome.codes)),
            )
        console.print(files)
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


_VERDICT_STYLES = {"valid": "green", "invalid": "red", "error": "yellow"}


def render_validation(results: Sequence[FileVerdict]) -> None:
    """One line per file (its two answers), its issues under it, then the rule sets that judged."""
    used: dict[tuple[str, str], None] = {}
    for result in results:
        line = shown(result.path) + Text(": ")
        if result.verdict is not None:
            line += Text(result.verdict, style=_VERDICT_STYLES[result.verdict]) + Text(", ")
        line += (
            Text("financeable", style="green") if result.financeable else Text("not financeable", style="red")
        )
        console.print(line + shown(f" ({_described(result)})"), highlight=False)
        for issue in result.issues:
            where = f" [{issue.location}]" if issue.location else ""
            console.print(
                shown(f"  {issue.severity.value:7} {issue.code} ({issue.source}){where}: {issue.message}"),
                highlight=False,
            )
        used.update(dict.fromkeys((r.name, r.version) for r in result.rule_sets))
    if used:
        console.print(
            shown("Rule sets: " + "; ".join(f"{name} {version}" for name, version in used)), highlight=False
        )


def _described(result: FileVerdict) -> str:
    facts = result.conformance.facts
    parts = [facts.label if facts is not None else result.format]
    if facts is not None and facts.profile is not None:
        parts.append(f"profile {facts.profile}")
    if facts is not None and facts.attachment is not None:
        parts.append(f"in {facts.attachment}")
    parts.append(f"{result.documents} document(s)")
    return ", ".join(parts)


def render_status(data: dict[str, Any]) -> None:
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
