"""Factur-X / ZUGFeRD PDFs through the ``facturx`` parser: sandboxed extraction, then the XML's own parser.

Every corpus PDF (``shared/corpus/facturx-pdf``, read in place) parses without raising and says
what it is; PDFs built here (with the ``factur-x`` library and pypdf) cover what the corpus does
not: UBL inside a PDF, a wrong XMP level, the size cap, the registry.
"""

from __future__ import annotations

from dataclasses import replace
from io import BytesIO
from pathlib import Path

import facturx as facturx_library  # type: ignore[import-untyped, unused-ignore]
import pytest
from corpus_support import corpus_bytes, corpus_files, require_corpus
from pypdf import PdfWriter
from pypdf.generic import NameObject, StreamObject

import gateway.parsers.cii as cii
import gateway.parsers.ubl as ubl
from gateway.limits import Limits
from gateway.model import EInvoiceFacts, Severity
from gateway.parsers import FORMATS, PARSERS, detect, facturx, parse_file, pdf_sandbox, size_limit
from gateway.parsers.base import SNIFF_BYTES

LIMITS = Limits()
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "demo" / "batches"
CII_INVOICE = (SAMPLES / "bravo" / "bravo_B-2001.xml").read_bytes()  # the demo's CII (EN 16931)
UBL_INVOICE = (SAMPLES / "acme" / "acme_F-1010.xml").read_bytes()
EN16931 = "urn:cen.eu:en16931:2017"

#: file → (syntax, profile, attachment read, documents, issue codes in order).
CORPUS_EXPECTED: dict[str, tuple[str, str | None, str | None, int, list[str]]] = {
    "akretion__invoice_EN16931.pdf": ("cii", "en16931", "factur-x.xml", 1, []),
    "mustang__ZTESTZUGFERD_1_INVDSS_012015738820PDF-1.pdf": ("cii", "extended", "zugferd-invoice.xml", 1, []),
    "mustang__corrupt-factur-x-waytoosmall.pdf": ("unknown", None, None, 0, ["GW-PDF-MALFORMED"]),
    # two invoice XMLs (the ZUGFeRD 1.0 one is left aside) and an XMP level of "no thing"
    "mustang__invalidXMP.pdf": (
        "cii", "en16931", "factur-x.xml", 1, ["GW-PDF-XML-CHOSEN", "GW-PDF-XMP-MISMATCH"]
    ),
    "zfc__Avoir_FR_type380_BASIC.pdf": ("cii", "basic", "factur-x.xml", 1, []),
    "zfc__Avoir_FR_type381_BASIC.pdf": ("cii", "basic", "factur-x.xml", 1, []),
    # fail/: a preceding-invoice reference, which MINIMUM does not carry
    "zfc__Avoir_FR_type381_MINIMUM.pdf": ("cii", "minimum", "factur-x.xml", 0, ["GW-XSD-INVALID"]),
    "zfc__EN16931_Einfach_negativePaymentDue.pdf": ("cii", "en16931", "factur-x.xml", 1, []),
    "zfc__EN16931_Reisekostenabrechnung.pdf": ("cii", "en16931", "factur-x.xml", 1, []),
    "zfc__Facture_DOM_BASICWL.pdf": ("cii", "basicwl", "factur-x.xml", 1, []),
    "zfc__Facture_FR_BASICWL.pdf": ("cii", "basicwl", "factur-x.xml", 1, []),
    "zfc__Facture_FR_EN16931.pdf": ("cii", "en16931", "factur-x.xml", 1, []),
    "zfc__Facture_FR_MINIMUM.pdf": ("cii", "minimum", "factur-x.xml", 1, []),
    "zfc__Facture_UE_BASICWL.pdf": ("cii", "basicwl", "factur-x.xml", 1, []),
    # correct/ in its repository, but a German bank code (ram:GermanBankleitzahlID) the Factur-X
    # EN 16931 XSD does not have; its BT-24 is plain EN 16931, not a ZUGFeRD 2.0 id, so that XSD judges
    "zfc__MustangGnuaccountingBeispielRE-20190610_507.pdf": (
        "cii", "en16931", "zugferd-invoice.xml", 0, ["GW-XSD-INVALID"]
    ),
    "zfc__MustangGnuaccountingBeispielRE-20201121_508_withBOM.pdf": ("cii", "en16931", "factur-x.xml", 1, []),
    "zfc__MustangRE-20171118_506_ZUGFeRD1and2.pdf": (
        "cii", "extended", "factur-x.xml", 0, ["GW-PDF-XML-CHOSEN", "GW-XSD-INVALID"]
    ),
    "zfc__RE-E-974-Hetzner_2016-01-19_R0005532486.pdf": ("unknown", None, None, 0, ["GW-PDF-NO-XML"]),
    "zfc__XRECHNUNG_Einfach.pdf": ("cii", "xrechnung", "xrechnung.xml", 1, []),
    "zfc__ZUGFeRD_1p0_COMFORT_Einfach.pdf": (
        "zugferd1", "zugferd1", "ZUGFeRD-invoice.xml", 1, ["GW-ZUGFERD1"]
    ),
    # encoding="UTF-8_W/O_BOM": refused by the XML parser, so its BT-24 is never known
    "zfc__factur-x-invalid-xml-encoding-attribute.pdf": ("cii", None, "factur-x.xml", 0, ["GW-XML-ENCODING"]),
    "zfc__fail1.pdf": (
        "zugferd1", "zugferd1", "ZUGFeRD-invoice.xml", 0,
        ["GW-PDF-XMP-MISMATCH", "GW-ZUGFERD1", "GW-XSD-INVALID"],
    ),
    # fail/: ram:Description where BASIC has none (4 places)
    "zfc__python-factur-x.pdf": ("cii", "basic", "factur-x.xml", 0, ["GW-XSD-INVALID"] * 4),
    "zfc__zugferd_2p0_BASIC_Rechnungskorrektur.pdf": ("cii", "basic", "zugferd-invoice.xml", 1, []),
    "zfc__zugferd_2p0_EN16931_AbweichenderZahlungsempf.pdf": ("cii", "en16931", "zugferd-invoice.xml", 1, []),
    "zfc__zugferd_2p0_EN16931_Gutschrift.pdf": ("cii", "en16931", "zugferd-invoice.xml", 1, []),
    "zfc__zugferd_2p0_EXTENDED_Fremdwaehrung.pdf": ("cii", "extended", "zugferd-invoice.xml", 1, []),
    # correct/ ZUGFeRD 2.0 with addresses the Factur-X 1.09 MINIMUM no longer carries (D22B has them)
    "zfc__zugferd_2p0_MINIMUM.pdf": ("cii", "minimum", "zugferd-invoice.xml", 1, []),
    "zfc__zugferd_2p1_BASIC-WL_Einfach.pdf": ("cii", "basicwl", "factur-x.xml", 1, []),
    "zfc__zugferd_2p1_EN16931_Rabatte.pdf": ("cii", "en16931", "factur-x.xml", 1, []),
}  # fmt: skip
CORPUS_PDFS = corpus_files("facturx-pdf")


def test_every_corpus_pdf_is_listed() -> None:
    """Also the test that fails in CI when the corpus is missing (the parametrised ones then have no case)."""
    require_corpus()
    assert [p.name for p in CORPUS_PDFS] == sorted(CORPUS_EXPECTED)


@pytest.mark.parametrize("path", CORPUS_PDFS, ids=[p.name for p in CORPUS_PDFS])
def test_corpus_pdf(path: Path) -> None:
    data = path.read_bytes()
    assert facturx.sniff(data[:SNIFF_BYTES], path.name) and detect(data, path.name) is facturx
    result = facturx.parse(data, LIMITS)
    syntax, profile, attachment, documents, codes = CORPUS_EXPECTED[path.name]
    assert result.format == "facturx"
    assert result.einvoice is not None
    assert (result.einvoice.syntax, result.einvoice.profile, result.einvoice.attachment) == (
        syntax,
        profile,
        attachment,
    )
    assert result.einvoice.container == "pdf"
    assert (len(result.documents), [i.code for i in result.issues]) == (documents, codes)
    xml_issues = [i for i in result.issues if not i.code.startswith("GW-PDF-")]  # the XML's, not the PDF's
    assert all((i.location or "").startswith(f"attachment {attachment}") for i in xml_issues)
    # In this corpus the XSD passed exactly when a document came out.
    assert (result.xml is not None) == (documents == 1)
    if syntax == "cii" and result.xml is not None:
        zugferd_2p0 = "zugferd.de:2p0" in (result.einvoice.guideline_id or "").lower()
        # no corpus PDF claims EXTENDED-CTC-FR; ZUGFeRD 2.0 ones are read against D22B
        assert result.einvoice.label == ("CII (ZUGFeRD 2.0)" if zugferd_2p0 else "CII D16B")


@pytest.mark.parametrize(
    ("pdf", "xml"),
    [
        ("zfc__EN16931_Einfach_negativePaymentDue.pdf", "zfc__EN16931_Einfach_negativePaymentDue.cii.xml"),
        ("zfc__zugferd_2p1_EN16931_Rabatte.pdf", "zfc__EN16931_Rabatte.cii.xml"),
    ],
)
def test_a_pdf_gives_the_invoice_of_its_xml_twin(pdf: str, xml: str) -> None:
    from_pdf = facturx.parse(corpus_bytes(f"facturx-pdf/{pdf}"), LIMITS)
    from_xml = cii.parse(corpus_bytes(f"cii-xml/{xml}"), LIMITS)
    assert from_pdf.documents == from_xml.documents and len(from_pdf.documents) == 1
    assert from_xml.einvoice is not None
    assert from_pdf.einvoice == replace(from_xml.einvoice, container="pdf", attachment="factur-x.xml")


def test_the_factoring_pdf_and_its_xml_twin_agree_on_every_term_the_factor_uses() -> None:
    """The ZUGFeRD 2.0 PDF and the later CII file of the same case (a different payee) differ only in
    the seller's and buyer's extra identifiers."""
    [pdf] = facturx.parse(
        corpus_bytes("facturx-pdf/zfc__zugferd_2p0_EN16931_AbweichenderZahlungsempf.pdf"), LIMITS
    ).documents
    [xml] = cii.parse(corpus_bytes("cii-xml/zfc__EN16931_AbweichenderZahlungsempf.cii.xml"), LIMITS).documents
    assert replace(pdf, seller=xml.seller, buyer=xml.buyer) == xml
    assert (pdf.seller.name, pdf.seller.vat_id, pdf.buyer.name) == (
        xml.seller.name,
        xml.seller.vat_id,
        xml.buyer.name,
    )
    assert pdf.payee is not None and pdf.payee.name == "Factoring GmbH"
    assert pdf.payment_instructions[0].account_id == "DE12123456781234567890"


@pytest.mark.parametrize("name", ["mustang__invalidXMP.pdf", "zfc__MustangRE-20171118_506_ZUGFeRD1and2.pdf"])
def test_a_pdf_with_two_invoice_xmls_says_which_one_was_read(name: str) -> None:
    result = facturx.parse(corpus_bytes(f"facturx-pdf/{name}"), LIMITS)
    chosen = result.issues[0]
    assert (chosen.code, chosen.severity) == ("GW-PDF-XML-CHOSEN", Severity.WARNING)
    assert "'factur-x.xml' (Factur-X / ZUGFeRD 2, CII) was read" in chosen.message
    assert "'ZUGFeRD-invoice.xml' (ZUGFeRD 1.0) ignored" in chosen.message
    assert result.einvoice is not None and result.einvoice.syntax == "cii"


def test_the_xmp_level_is_compared_with_bt24() -> None:
    result = facturx.parse(corpus_bytes("facturx-pdf/mustang__invalidXMP.pdf"), LIMITS)
    [mismatch] = [i for i in result.issues if i.code == "GW-PDF-XMP-MISMATCH"]
    assert mismatch.severity is Severity.WARNING and mismatch.location == "PDF metadata (XMP)"
    assert "gives 'no thing'" in mismatch.message and "says 'EN 16931'" in mismatch.message
    assert len(result.documents) == 1  # a warning: the invoice data is read all the same


def test_an_xml_error_is_located_in_the_attachment() -> None:
    result = facturx.parse(
        corpus_bytes("facturx-pdf/zfc__MustangGnuaccountingBeispielRE-20190610_507.pdf"), LIMITS
    )
    [error] = result.issues
    assert error.location == "attachment zugferd-invoice.xml: line 175" and error.source == "XSD"
    assert "GermanBankleitzahlID" in error.message and "Factur-X EN 16931 (CII D16B)" in error.message


# --- PDFs built here ---------------------------------------------------------------------------------


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def generated(xml: bytes) -> bytes:
    """A Factur-X PDF as the factur-x library writes it (attachment, /AF, XMP with the level)."""
    return bytes(facturx_library.generate_from_binary(blank_pdf(), xml, check_xsd=False))


XMP = """<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:fx="urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#">
<fx:DocumentType>INVOICE</fx:DocumentType><fx:DocumentFileName>{name}</fx:DocumentFileName>
<fx:Version>1.0</fx:Version><fx:ConformanceLevel>{level}</fx:ConformanceLevel>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"""


def hand_made(*attachments: tuple[str, bytes], level: str | None = None) -> bytes:
    """A PDF with ``attachments`` and, when ``level`` is given, a Factur-X XMP packet claiming it."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    for name, content in attachments:
        writer.add_attachment(name, content)
    if level is not None:
        stream = StreamObject()
        stream.set_data(XMP.format(name=attachments[0][0], level=level).encode())
        stream[NameObject("/Type")] = NameObject("/Metadata")
        stream[NameObject("/Subtype")] = NameObject("/XML")
        writer.root_object[NameObject("/Metadata")] = writer._add_object(stream)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_generated_factur_x_pdf_reads_like_its_xml() -> None:
    data = generated(CII_INVOICE)
    assert detect(data, "B-2001.pdf") is facturx
    result = parse_file(data, "B-2001.pdf", LIMITS)
    bare = cii.parse(CII_INVOICE, LIMITS)
    assert result.format == "facturx" and result.issues == ()
    assert result.documents == bare.documents and len(result.documents) == 1
    assert result.einvoice == EInvoiceFacts(
        "cii", "CII D16B", EN16931, "en16931", container="pdf", attachment="factur-x.xml"
    )
    assert result.xml is not None and result.xml.tag.endswith("}CrossIndustryInvoice")


def test_a_wrong_xmp_level_is_a_warning() -> None:
    result = facturx.parse(hand_made(("factur-x.xml", CII_INVOICE), level="BASIC WL"), LIMITS)
    assert [i.code for i in result.issues] == ["GW-PDF-XMP-MISMATCH"] and len(result.documents) == 1
    assert "gives 'BASIC WL'" in result.issues[0].message
    assert [
        i.code
        for i in facturx.parse(hand_made(("factur-x.xml", CII_INVOICE), level="EN 16931"), LIMITS).issues
    ] == []
    no_xmp = facturx.parse(hand_made(("factur-x.xml", CII_INVOICE)), LIMITS)
    assert [i.code for i in no_xmp.issues] == ["GW-PDF-XMP-MISMATCH"] and "gives no profile" in no_xmp.issues[
        0
    ].message


def test_ubl_inside_a_pdf_is_read_as_ubl() -> None:
    result = facturx.parse(hand_made(("invoice.xml", UBL_INVOICE), level="EN 16931"), LIMITS)
    assert result.issues == () and result.documents == ubl.parse(UBL_INVOICE, LIMITS).documents
    assert result.einvoice == EInvoiceFacts(
        "ubl-invoice", "UBL 2.1 Invoice", EN16931, "en16931", container="pdf", attachment="invoice.xml"
    )


def test_an_attachment_named_like_an_invoice_that_is_not_one() -> None:
    result = facturx.parse(hand_made(("factur-x.xml", b"<order/>"), level="EN 16931"), LIMITS)
    assert [i.code for i in result.issues] == ["GW-FORMAT-UNKNOWN"]
    assert result.issues[0].location == "attachment factur-x.xml: line 1"
    assert result.einvoice == EInvoiceFacts(
        "unknown", facturx.UNREAD_LABEL, container="pdf", attachment="factur-x.xml"
    )


def test_a_pdf_without_invoice_data_is_refused_with_facts_saying_so() -> None:
    result = parse_file(blank_pdf(), "scan.pdf", LIMITS)
    assert result.format == "facturx" and [i.code for i in result.issues] == ["GW-PDF-NO-XML"]
    assert result.file_rejected and result.xml is None
    assert result.einvoice == EInvoiceFacts("unknown", facturx.UNREAD_LABEL, container="pdf")


def test_the_pdf_size_cap() -> None:
    data = generated(CII_INVOICE)
    assert size_limit(data, "x.pdf", LIMITS) == LIMITS.max_pdf_bytes == 50 * 1024 * 1024
    assert size_limit(data, "x.pdf", LIMITS, "facturx") == LIMITS.max_pdf_bytes
    assert size_limit(CII_INVOICE, "x.xml", LIMITS) == LIMITS.max_xml_bytes
    result = facturx.parse(data, replace(LIMITS, max_pdf_bytes=len(data) - 1))
    assert [i.code for i in result.issues] == ["GW-FILE-TOO-LARGE"]


def test_sniffing() -> None:
    assert facturx.sniff(b"\n\n%PDF-1.7\n", "x.bin")
    assert facturx.sniff(b"x" * 1000 + b"%PDF-1.4", "x.pdf")  # leading junk that PDF readers tolerate
    assert not facturx.sniff(b"x" * 1020 + b"%PDF-1.4", "x.pdf")
    assert not facturx.sniff(b'<?xml version="1.0"?><!-- %PDF-1.4 --><Invoice/>', "x.pdf")  # XML stays XML
    assert not facturx.sniff(b"invoice_number;amount\n1;2\n", "x.pdf")
    assert not any(
        p.sniff(generated(CII_INVOICE)[:SNIFF_BYTES], "x.pdf") for p in PARSERS if p is not facturx
    )


def test_the_registry() -> None:
    assert "facturx" in FORMATS and facturx in PARSERS
    assert frozenset() == facturx.OPTIONS


def test_the_worker_limits_come_from_the_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """One sandbox per set of worker limits; an old one is closed when too many were asked for."""
    seen: list[pdf_sandbox.SandboxLimits] = []
    original = pdf_sandbox.default_sandbox

    def spy(limits: pdf_sandbox.SandboxLimits | None = None) -> pdf_sandbox.PdfSandbox:
        seen.append(limits or pdf_sandbox.SandboxLimits())
        return original(limits)

    monkeypatch.setattr(pdf_sandbox, "default_sandbox", spy)
    custom = replace(LIMITS, pdf_worker_cpu_seconds=5, pdf_timeout_seconds=12.5)
    assert len(facturx.parse(generated(CII_INVOICE), custom).documents) == 1
    assert seen == [pdf_sandbox.SandboxLimits(cpu_seconds=5, timeout_seconds=12.5)]
    boxes = [
        original(pdf_sandbox.SandboxLimits(cpu_seconds=100 + n)) for n in range(pdf_sandbox.MAX_SANDBOXES + 1)
    ]
    assert boxes[0]._closed and not boxes[-1]._closed  # started lazily: no worker was spawned for these
    assert original(pdf_sandbox.SandboxLimits(cpu_seconds=100 + pdf_sandbox.MAX_SANDBOXES)) is boxes[-1]
