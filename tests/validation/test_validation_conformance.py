"""Is it a conformant e-invoice? The scenario: syntax and profile choose the rule sets, every layer
named with its version, an engine failure never read as valid, ZUGFeRD 1.0 never valid."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gateway.limits import Limits
from gateway.model import EInvoiceFacts, Issue, ParseResult, Severity
from gateway.parsers import parse_file
from gateway.validation import conformance, rulesets
from gateway.validation.conformance import (
    NOT_AN_EINVOICE,
    RULES_ERROR,
    ZUGFERD1,
    assess,
    with_xsd_source,
)
from gateway.validation.rulesets import RuleSet

REPO = Path(__file__).resolve().parents[2]
BATCHES = REPO / "samples" / "demo" / "batches"
UBL = BATCHES / "acme" / "acme_F-1010.xml"
CII = BATCHES / "bravo" / "bravo_B-2001.xml"
CSV = BATCHES / "acme" / "acme_bordereau_20250310.csv"
LIMITS = Limits()


def parsed(path: Path, replacements: tuple[tuple[str, str], ...] = ()) -> ParseResult:
    text = path.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return parse_file(text.encode("utf-8"), path.name, LIMITS)


WRONG_TOTAL = (
    ('<cbc:TaxInclusiveAmount currencyID="EUR">6000.00', '<cbc:TaxInclusiveAmount currencyID="EUR">6001.00'),
)
#: BR-CL-14 (ISO 3166 country codes): a rule the gateway's own checks do not have.
BAD_COUNTRY = (
    (
        "<cbc:IdentificationCode>FR</cbc:IdentificationCode>",
        "<cbc:IdentificationCode>XX</cbc:IdentificationCode>",
    ),
)


def test_a_csv_batch_is_no_e_invoice_and_gets_no_verdict() -> None:
    assert assess(parsed(CSV), LIMITS) is NOT_AN_EINVOICE
    assert NOT_AN_EINVOICE.verdict is None and NOT_AN_EINVOICE.rule_sets == ()


@pytest.mark.parametrize(
    ("path", "official"),
    [(UBL, ("EN16931", "CEN EN 16931 UBL")), (CII, ("Factur-X", "Factur-X EN 16931"))],
)
def test_a_valid_e_invoice_names_every_rule_set_with_its_version(
    path: Path, official: tuple[str, str]
) -> None:
    found = assess(parsed(path), LIMITS)
    assert found.verdict == "valid"
    assert found.schematron_checked and found.unavailable == ()
    assert [(r.source, r.name) for r in found.rule_sets] == [
        ("XSD", f"{found.facts.label} XSD" if found.facts else ""),
        official,
    ]
    xsd, rules = found.rule_sets
    assert xsd.version.startswith("factur-x ")
    assert rules.version[0].isdigit() and "(factur-x " in rules.version  # 1.3.16 (factur-x 7.8)
    assert all(i.severity is Severity.WARNING for i in found.issues)


def test_official_findings_become_issues_with_their_rule_id_and_source() -> None:
    found = assess(parsed(UBL, WRONG_TOTAL), LIMITS)
    assert found.verdict == "invalid"
    br_co_15 = next(i for i in found.issues if i.code == "BR-CO-15")
    assert (br_co_15.severity, br_co_15.source) == (Severity.FATAL, "EN16931")
    assert br_co_15.location == "/Invoice[1]"


def test_a_rule_only_the_official_rules_know_decides_the_verdict() -> None:
    found = assess(parsed(UBL, BAD_COUNTRY), LIMITS)
    assert found.verdict == "invalid"
    assert "BR-CL-14" in {i.code for i in found.issues if i.is_fatal}


def test_a_channel_may_switch_the_schematron_off_the_xsd_still_runs() -> None:
    found = assess(parsed(UBL, BAD_COUNTRY), LIMITS, schematron_on=False)
    assert found.verdict == "valid"
    assert [r.source for r in found.rule_sets] == ["XSD"]
    assert not found.schematron_checked and found.issues == ()


def test_br_fr_runs_on_top_when_the_contract_asks() -> None:
    found = assess(parsed(UBL), LIMITS, br_fr=True)
    assert found.verdict == "invalid"  # the demo invoice lacks the notes and e-addresses France requires
    assert [r.source for r in found.rule_sets] == ["XSD", "EN16931", "BR-FR"]
    assert "sha256:" in found.rule_sets[2].version  # the FNFE file states no version: its digest pins it
    french = [i for i in found.issues if i.source == "BR-FR"]
    assert french and all(i.code.startswith("BR-FR-") for i in french)
    assert not [i for i in found.issues if i.source == "EN16931" and i.is_fatal]


def test_a_file_that_fails_its_xsd_is_invalid_and_keeps_the_xsd_issues_as_source_xsd() -> None:
    result = parsed(
        UBL, (("<cbc:IssueDate>2025-03-09</cbc:IssueDate>", "<cbc:IssueDate>soon</cbc:IssueDate>"),)
    )
    found = assess(result, LIMITS)
    assert found.verdict == "invalid" and found.issues == ()
    assert [r.source for r in found.rule_sets] == ["XSD"]
    assert {i.source for i in with_xsd_source(result.issues)} == {"XSD"}
    assert all(i.code == "GW-XSD-INVALID" for i in result.issues)


def test_a_pdf_without_invoice_data_is_invalid_and_names_no_schema() -> None:
    facts = EInvoiceFacts("unknown", "PDF (no invoice data read)", container="pdf")
    result = ParseResult("facturx", issues=(Issue("GW-PDF-NO-XML", "no XML"),), einvoice=facts)
    found = assess(result, LIMITS)
    assert (found.verdict, found.rule_sets) == ("invalid", ())


def test_zugferd_1_is_never_valid() -> None:
    ok = parsed(UBL)
    facts = EInvoiceFacts(
        "zugferd1", "ZUGFeRD 1.0", "urn:ferd:CrossIndustryDocument:invoice:1p0:comfort", "zugferd1"
    )
    result = replace(ok, einvoice=facts)  # even a tree that would pass: no rule set may call it valid
    found = assess(result, LIMITS)
    assert found.verdict == "invalid"
    (issue,) = found.issues
    assert issue.code == ZUGFERD1 and issue.is_fatal
    assert "EN 16931" in issue.message and "Factur-X" in issue.message
    assert [r.name for r in found.rule_sets] == ["ZUGFeRD 1.0 XSD"]


def _only(rule_set: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conformance, "choose_rule_sets", lambda *args, **kwargs: (rule_set,))


def _xslt(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "rules.xslt"
    path.write_text(
        '<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"'
        f' xmlns:svrl="http://purl.oclc.org/dsdl/svrl">{body}</xsl:stylesheet>',
        encoding="utf-8",
    )
    return path


def test_an_engine_that_throws_gives_error_never_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    throws = "<xsl:template match='/'><xsl:sequence select=\"error((), 'boom at file:///srv/x/y.xslt')\"/></xsl:template>"
    path = _xslt(tmp_path, throws)
    _only(
        RuleSet("test-throws", "test throws", frozenset({"ubl-invoice"}), path, source="EN16931"), monkeypatch
    )
    found = assess(parsed(UBL), LIMITS)
    assert found.verdict == "error"
    assert not found.schematron_checked and found.unavailable == ()  # the document's fault, not ours
    (issue,) = found.issues
    assert issue.code == RULES_ERROR and issue.is_fatal
    assert "boom" in issue.message and "/srv/x" not in issue.message  # no server path for the client
    assert issue.location == "/Invoice"


def test_a_missing_rule_set_is_unavailable_the_installations_fault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = RuleSet("test-gone", "test gone", frozenset({"ubl-invoice"}), tmp_path / "gone.xslt")
    _only(missing, monkeypatch)
    found = assess(parsed(UBL), LIMITS)
    assert found.verdict == "error"
    assert found.unavailable and "could not be compiled" in found.unavailable[0]
    assert [i.code for i in found.issues] == [RULES_ERROR]


def test_too_many_findings_are_capped_fatal_ones_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    findings = "".join(
        f"<svrl:failed-assert id='W-{n}' flag='warning'><svrl:text>w{n}</svrl:text></svrl:failed-assert>"
        for n in range(5)
    )
    fatal = "<svrl:failed-assert id='F-1' flag='fatal'><svrl:text>f</svrl:text></svrl:failed-assert>"
    output = f"<svrl:schematron-output>{findings}{fatal}</svrl:schematron-output>"
    path = _xslt(tmp_path, f"<xsl:template match='/'>{output}</xsl:template>")
    _only(RuleSet("test-many", "test many", frozenset({"ubl-invoice"}), path), monkeypatch)
    found = assess(parsed(UBL), Limits(max_issues_per_file=3))
    assert [i.code for i in found.issues] == ["F-1", "W-0", "W-1", "GW-LIMIT-EXCEEDED"]
    assert found.issues[-1].severity is Severity.WARNING and "3 more" in found.issues[-1].message
    assert found.verdict == "invalid"


def test_the_rule_set_registry_gives_each_its_source() -> None:
    sources = {key: rule_set.source for key, rule_set in rulesets.RULE_SETS.items()}
    assert sources["en16931-ubl"] == "EN16931" and sources["extended-ctc-fr-cii"] == "EN16931"
    assert sources["br-fr-ubl"] == sources["br-fr-cii"] == "BR-FR"
    assert {sources[k] for k in sources if k.startswith("facturx-")} == {"Factur-X"}
