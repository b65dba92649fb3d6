"""The documentation says what the gateway does: codes that exist, examples the writers really
produce, commands and options the CLI really has. Each failure names the document and its line."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import pytest

from gateway.cli import main
from gateway.error_codes import find_error_code, load_error_codes
from gateway.factoring.remittance import build_remittance
from gateway.model import Acknowledgement, AcknowledgementLine, AssignedLine, Issue, Severity, Verdict
from gateway.writers import acknowledgement, remittance

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted([REPO / "README.md", *(REPO / "schemas").glob("*.md"), *(REPO / "docs").glob("*.md")])
CODE = re.compile(r"(?<![A-Za-z0-9-])(?:GW|BR)-[A-Z0-9]+(?:-[A-Z0-9]+)*")
FENCE = re.compile(r"^\s*```")


def _where(path: Path, line_no: int) -> str:
    return f"{path.relative_to(REPO).as_posix()}:{line_no}"


# -- (1) every code a document names exists ---------------------------------------------------------


def test_every_code_in_the_documents_exists() -> None:
    known = load_error_codes(REPO / "docs" / "error-codes.md")
    unknown = [
        f"{_where(path, no)}: {code} is not in docs/error-codes.md"
        for path in DOCUMENTS
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for code in CODE.findall(line)
        if find_error_code(code, known) is None  # official rule ids by their family (BR-FR-*)
    ]
    assert unknown == [], "\n".join(unknown)


# -- (2) the examples of schemas/README.md are what the writers write --------------------------------

FORMATS_DOC = REPO / "schemas" / "README.md"


def _line(no: int, kind: str, number: str, issued: str, due: str | None, debtor: tuple[str, str],
          amounts: tuple[str, str, str], preceding: str | None = None) -> AssignedLine:  # fmt: skip
    amount, guaranteed, non_guaranteed = (Decimal(a) for a in amounts)
    return AssignedLine(
        line_no=no, number=number, type_code=kind, issue_date=date.fromisoformat(issued),
        due_date=date.fromisoformat(due) if due else None, debtor_id=debtor[0], debtor_name=debtor[1],
        currency="EUR", amount=amount, guaranteed=guaranteed, non_guaranteed=non_guaranteed,
        preceding_invoice=preceding,
    )  # fmt: skip


#: The remittance the examples show: ACME's file batch-2025-03-10.csv, envelope 7, remittance 42.
EXAMPLE_REMITTANCE = build_remittance(
    "ACME", 42, date(2025, 3, 10), "batch-2025-03-10.csv", 7,
    [
        _line(1, "381", "AV-0007", "2025-03-02", None, ("ALPHA", "ALPHA SA"),
              ("-1200.00", "-1200.00", "0.00"), "F-0950"),
        _line(2, "380", "F-1001", "2025-03-01", "2025-05-04", ("ALPHA", "ALPHA SA"),
              ("12000.00", "11200.00", "800.00")),
        _line(3, "380", "F-1002", "2025-03-03", "2025-04-30", ("BETA", "BETA SAS"),
              ("24000.00", "24000.00", "0.00")),
        _line(4, "380", "F-1003", "2025-03-05", "2025-06-05", ("GAMMA", "GAMMA SARL"),
              ("6000.00", "0.00", "6000.00")),
    ],
)  # fmt: skip

#: The acknowledgement of the same file: a warning about the file, one credit note accepted, an
#: invoice refused twice over, and a line that could not be read.
EXAMPLE_ACKNOWLEDGEMENT = Acknowledgement(
    client_id="ACME", envelope_id=7, source_name="batch-2025-03-10.csv", business_date=date(2025, 3, 10),
    verdict=Verdict.ACCEPTED, remittance_number=42,
    file_issues=(
        Issue("GW-CSV-COLUMN-UNKNOWN", "Column 'colour' is unknown and was ignored.", Severity.WARNING),
    ),
    lines=(
        AcknowledgementLine("line 2", "AV-0007", "381", Verdict.ACCEPTED, Decimal("-1200.00"), "EUR"),
        AcknowledgementLine(
            "line 6", "F-1004", "380", Verdict.REJECTED, Decimal("150.00"), "EUR",
            (
                Issue("GW-DUPLICATE-INVOICE", "F-1004 was already assigned on 2025-03-01."),
                Issue("GW-DUE-DATE-PAST", "The due date is in the past."),
            ),
        ),
        AcknowledgementLine(
            "line 7", None, None, Verdict.REJECTED, None, None,
            (Issue("GW-CSV-VALUE", "The amount 'abc' is not a number."),),
        ),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Example:
    """A fenced block of a document, with the line its first row is on."""

    path: Path
    heading: str
    first_line: int
    lines: list[str]

    def where(self, index: int = 0) -> str:
        return f"{_where(self.path, self.first_line + index)} ({self.heading})"


def _example(path: Path, heading: str) -> Example:
    """The first fenced block under ``heading``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        start = lines.index(heading)
    except ValueError:
        pytest.fail(f"{_where(path, 1)}: the section {heading!r} is gone; the example test must follow it")
    opening = next(i for i in range(start + 1, len(lines)) if FENCE.match(lines[i]))
    closing = next(i for i in range(opening + 1, len(lines)) if FENCE.match(lines[i]))
    return Example(path, heading.lstrip("# "), opening + 2, lines[opening + 1 : closing])


def _compare_csv(example: Example, written: bytes) -> list[str]:
    produced = written.decode("utf-8-sig").split("\r\n")
    assert produced[-1] == "", "a CSV ends with CRLF"
    produced = produced[:-1]
    drift = [
        f"{example.where(i)}: documented\n    {shown}\n  the writer gives\n    {real}"
        for i, (shown, real) in enumerate(zip(example.lines, produced, strict=False))
        if shown != real
    ]
    if len(example.lines) != len(produced):
        drift.append(
            f"{example.where()}: {len(example.lines)} rows documented, the writer gives {len(produced)}"
        )
    return drift


def _compare_json(example: Example, shown: Any, real: Any, path: str = "$") -> list[str]:
    """``shown`` as documented: ``"…"`` in a list stands for items left out; keys keep their order."""
    if isinstance(shown, dict) and isinstance(real, dict):
        if list(shown) != list(real):
            return [f"{_locate(example, path)}: {path} has the keys {list(shown)}, the writer {list(real)}"]
        return [p for key in shown for p in _compare_json(example, shown[key], real[key], f"{path}.{key}")]
    if isinstance(shown, list) and isinstance(real, list):
        items = [item for item in shown if item != "…"]
        if len(items) == len(shown) and len(items) != len(real):
            return [f"{_locate(example, path)}: {path} shows {len(items)} item(s), the writer {len(real)}"]
        problems: list[str] = []
        position = 0
        for item in items:  # each shown item is one of the real ones, in order
            found = next(
                (j for j in range(position, len(real)) if not _compare_json(example, item, real[j])), None
            )
            if found is None:  # say how it differs from the real item it is closest to
                rest = range(position, len(real))
                closest = min(rest, key=lambda j: len(_compare_json(example, item, real[j])), default=None)
                if closest is None:
                    problems.append(
                        f"{_locate(example, path)}: {path} shows more items than the writer writes"
                    )
                else:
                    problems += _compare_json(example, item, real[closest], f"{path}[{closest}]")
                break
            position = found + 1
        return problems
    if shown != real:
        return [f"{_locate(example, path, shown)}: {path} is documented {shown!r}, the writer gives {real!r}"]
    return []


def _locate(example: Example, path: str, value: Any = None) -> str:
    """The line of the block that shows ``path`` (its last key, and the value when given)."""
    key = f'"{path.rsplit(".", 1)[-1].split("[")[0]}"'
    text = None if value is None else json.dumps(value, ensure_ascii=False)
    for index, line in enumerate(example.lines):
        if key in line and (text is None or text in line):
            return example.where(index)
    return example.where()


def _documented_json(example: Example) -> Any:
    try:
        return json.loads("\n".join(example.lines))
    except ValueError as err:
        pytest.fail(f"{example.where()}: the example is not JSON ({err})")


def _written(heading: str) -> bytes:
    """What the writer makes of the example a section shows (``## Remittance CSV``…)."""
    fmt = heading.rsplit(" ", 1)[1].lower()
    if heading.startswith("## Remittance"):
        return remittance.write(EXAMPLE_REMITTANCE, fmt)
    return acknowledgement.write(EXAMPLE_ACKNOWLEDGEMENT, fmt)


@pytest.mark.parametrize("heading", ["## Remittance CSV", "## Acknowledgement CSV"])
def test_the_csv_examples_are_what_the_writers_write(heading: str) -> None:
    drift = _compare_csv(_example(FORMATS_DOC, heading), _written(heading))
    assert drift == [], "\n".join(drift)


@pytest.mark.parametrize("heading", ["## Remittance JSON", "## Acknowledgement JSON"])
def test_the_json_examples_are_what_the_writers_write(heading: str) -> None:
    example = _example(FORMATS_DOC, heading)
    drift = _compare_json(example, _documented_json(example), json.loads(_written(heading)))
    assert drift == [], "\n".join(drift)


def test_the_example_file_names_are_the_writers() -> None:
    text = FORMATS_DOC.read_text(encoding="utf-8")
    for name in (
        remittance.file_name(EXAMPLE_REMITTANCE, "csv"),
        acknowledgement.file_name(EXAMPLE_ACKNOWLEDGEMENT, "csv"),
    ):
        assert f"`{name}`" in text, f"{_where(FORMATS_DOC, 1)}: the file name example {name} is not shown"


# -- (3) the commands the documents show exist --------------------------------------------------------

INVOKED = re.compile(r"^(?:\S*/)?gateway$")
INLINE = re.compile(r"`((?:\S*/)?gateway [^`]+)`")


def _invocations(path: Path) -> list[tuple[int, list[str]]]:
    """``gateway …`` commands of ``path``, in fenced blocks and in inline code: (line, arguments)."""
    found: list[tuple[int, list[str]]] = []
    fenced = False
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        segments = re.split(r"&&|\|\||;|\|", line.split(" #", 1)[0]) if fenced else INLINE.findall(line)
        for segment in segments:
            try:
                words = shlex.split(segment)
            except ValueError:
                continue
            if words[:2] in (["python", "-m"], ["python3", "-m"]):
                words = words[2:]
            if words and INVOKED.match(words[0]):
                found.append((no, [w.strip("[]") for w in words[1:]]))
    return found


def _option(command: click.Command, name: str) -> click.Parameter | None:
    for param in command.params:
        if isinstance(param, click.Option) and name in (*param.opts, *param.secondary_opts):
            return param
    return None


def _cli_problems(words: list[str]) -> list[str]:
    """What in ``gateway WORDS`` the command tree does not have (no ``--help`` run: introspection)."""
    command: click.Command = main
    name = "gateway"
    problems: list[str] = []
    takes_value = False
    for word in words:
        if takes_value:
            takes_value = False
            continue
        if word in ("…", "...", ""):
            continue
        if word.startswith("-") and len(word) > 1:
            option = word.split("=", 1)[0]
            param = _option(command, option)
            if param is None and option not in ("-h", "--help"):
                problems.append(f"`{name}` has no option {option}")
            elif isinstance(param, click.Option) and not (param.is_flag or param.count) and "=" not in word:
                takes_value = True
            continue
        if isinstance(command, click.Group):
            sub = command.commands.get(word)
            if sub is None:
                problems.append(f"`{name}` has no command {word!r}")
                break
            command, name = sub, f"{name} {word}"
            continue
        if not any(isinstance(p, click.Argument) for p in command.params):
            problems.append(f"`{name}` takes no argument, yet {word!r} is given")
    return problems


def test_the_commands_in_the_documents_exist() -> None:
    drift = [
        f"{_where(path, no)}: gateway {' '.join(words)}: {problem}"
        for path in DOCUMENTS
        for no, words in _invocations(path)
        for problem in _cli_problems(words)
    ]
    assert drift == [], "\n".join(drift)
    readme = [words for _no, words in _invocations(REPO / "README.md")]
    assert len(readme) >= 10, f"the README's command lines were not found: {readme}"


def test_the_cli_check_catches_drift() -> None:
    assert _cli_problems(["validate", "--jsn"]) == ["`gateway validate` has no option --jsn"]
    assert _cli_problems(["ledger", "adopt-it"]) == ["`gateway ledger` has no command 'adopt-it'"]
    assert _cli_problems(["--as-of", "2025-03-10", "…"]) == []
    assert _cli_problems(["status", "FILE"]) == ["`gateway status` takes no argument, yet 'FILE' is given"]
