"""BT-24 → profile: the one reading (gateway.parsers.profiles), over every value the corpus holds.

The doctests of the module cover one real value per spelling; here every corpus file's BT-24
goes through it, so a new spelling in the corpus that nobody mapped shows up.
"""

from __future__ import annotations

import pytest
from corpus_support import corpus_files, require_corpus
from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from gateway.limits import Limits
from gateway.parsers.pdf_attachments import extract_invoice_xml
from gateway.parsers.profiles import PROFILE_LABELS, PROFILES, profile_of, zugferd1_level
from gateway.parsers.xml_safety import parse_xml

LIMITS = Limits()
_BT24 = "string(/*/*[contains(local-name(), 'DocumentContext')]/*[local-name()='GuidelineSpecifiedDocumentContextParameter']/*[local-name()='ID'] | /*/*[local-name()='CustomizationID'])"  # noqa: E501

#: Every distinct BT-24 of the corpus (XML files, and the XML inside the PDFs) → its profile.
CORPUS_VALUES: dict[str, str | None] = {
    "": None,  # mustang__UBL-CreditNote-2.1-Example.ubl.xml has none
    "urn:factur-x.eu:1p0:minimum": "minimum",
    "urn:zugferd.de:2p0:minimum": "minimum",
    "urn:factur-x.eu:1p0:basicwl": "basicwl",
    "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic": "basic",
    "urn:cen.eu:en16931:2017:compliant:factur-x.eu:1p0:basic": "basic",
    "urn:cen.eu:en16931:2017#compliant#urn:zugferd.de:2p0:basic": "basic",
    "urn:cen.eu:en16931:2017": "en16931",
    "urn:cen.eu:en16931:2017:compliant:factur-x.eu:1p0:en16931": "en16931",
    "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended": "extended",
    "urn:cen.eu:en16931:2017:compliant:factur-x.eu:1p0:extended": "extended",
    "urn:cen.eu:en16931:2017#conformant#urn:zugferd.de:2p0:extended": "extended",
    "urn:cen.eu:en16931:2017#conformant#urn.cpro.gouv.fr:1p0:extended-ctc-fr": "extended-ctc-fr",
    "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0": "xrechnung",
    "urn:cen.eu:en16931:2017#compliant#urn:xoev-de:kosit:standard:xrechnung_2.1": "xrechnung",
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0": "peppol",
    "urn:ferd:CrossIndustryDocument:invoice:1p0:comfort": "zugferd1",
    "urn:ferd:CrossIndustryDocument:invoice:1p0:komfort": None,  # zfc__fail1.pdf: a typo, not guessed
}


def corpus_guideline_ids() -> set[str]:
    found: set[str] = set()
    for folder in ("cii-xml", "ubl-xml"):
        for path in corpus_files(folder):
            found.add(parse_xml(path.read_bytes(), LIMITS).xpath(_BT24).strip())
    for path in corpus_files("facturx-pdf"):
        xml = extract_invoice_xml(path.read_bytes(), LIMITS).xml
        if xml is not None:
            try:
                root = parse_xml(xml, LIMITS)
            except Exception:  # the one PDF whose XML declares an encoding that does not exist
                continue
            found.add(root.xpath(_BT24).strip())
    return found


def test_every_bt24_of_the_corpus_is_listed_and_read_as_expected() -> None:
    require_corpus()
    found = corpus_guideline_ids()
    assert found == set(CORPUS_VALUES)
    assert {value: profile_of(value or None) for value in found} == CORPUS_VALUES


@pytest.mark.parametrize(
    ("value", "profile"),
    [
        ("  URN:CEN.EU:EN16931:2017  ", "en16931"),  # case and blanks do not matter
        ("urn:zugferd.de:2p0:basicwl", "basicwl"),
        ("urn:zugferd.de:2p0:basic", "basic"),
        ("urn:zugferd.de:2p0:extended", "extended"),
        ("urn:cen.eu:en16931:2017:conformant:factur-x.eu:1p0:extended", "extended"),
        ("urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0.1", "xrechnung"),
        ("urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_2.3", "xrechnung"),
        (
            "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
            "#conformant#urn:xeinkauf.de:kosit:extension:xrechnung_3.0",
            "xrechnung",
        ),
        ("urn:ferd:CrossIndustryDocument:invoice:1p0:basic", "zugferd1"),
        ("urn:ferd:CrossIndustryDocument:invoice:1p0:extended", "zugferd1"),
        # not recognised: never guessed
        ("urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0:extra", None),
        ("urn:fdc:peppol.eu:2017:poacc:billing:01:1.0", None),
        ("urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung", None),
        ("urn:factur-x.eu:1p0:comfort", None),
        ("urn:order-x.eu:1p0:basic", None),
        ("", None),
        (None, None),
    ],
)
def test_other_values(value: str | None, profile: str | None) -> None:
    assert profile_of(value) == profile


def test_every_profile_has_a_label_and_zugferd1_levels() -> None:
    assert set(PROFILE_LABELS) == set(PROFILES)
    assert zugferd1_level("urn:ferd:CrossIndustryDocument:invoice:1p0:EXTENDED") == "extended"
    assert zugferd1_level("urn:cen.eu:en16931:2017") is None
    assert zugferd1_level(None) is None


def test_the_xpath_reads_both_syntaxes() -> None:
    cii = b'<r:X xmlns:r="urn:r"><r:ExchangedDocumentContext><GuidelineSpecifiedDocumentContextParameter><ID> a </ID></GuidelineSpecifiedDocumentContextParameter></r:ExchangedDocumentContext></r:X>'  # noqa: E501
    ubl = b'<Invoice xmlns:c="urn:c"><c:CustomizationID>b</c:CustomizationID></Invoice>'
    assert [etree.fromstring(x).xpath(_BT24).strip() for x in (cii, ubl)] == ["a", "b"]
