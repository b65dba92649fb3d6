"""Getting the invoice XML out of Factur-X / ZUGFeRD PDFs, and surviving hostile PDFs.

The corpus PDFs are read from ``shared/corpus/facturx-pdf`` at run time (never
copied here). Without that folder the corpus tests skip, except in CI
(``CI=true``) where they fail: CI must prove them. Hostile PDFs are built here
with pypdf's writer; the 1 GiB Flate bomb is ~1 MB on disk and built in
milliseconds (one compressed MiB of zeros repeated between full flushes).
"""

from __future__ import annotations

import os
import re
import resource
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import pytest
from corpus_support import CORPUS, corpus_bytes
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject

from gateway.errors import InputError, UnsafeInput
from gateway.limits import Limits
from gateway.model import Severity
from gateway.parsers import pdf_attachments
from gateway.parsers.facturx_conventions import (
    conformance_level_matches,
    xmp_mismatch_issue,
    xmp_profile,
)
from gateway.parsers.pdf_attachments import PdfExtraction, extract_invoice_xml
from gateway.parsers.pdf_sandbox import (
    PdfSandbox,
    SandboxLimits,
    decode_reply,
    encode_reply,
    extract_in_sandbox,
)
from gateway.parsers.profiles import profile_of
from gateway.parsers.xml_safety import parse_xml

LIMITS = Limits()
MiB = 1024 * 1024
PDF_DIR = CORPUS / "facturx-pdf"

CII_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
UBL_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CII = f'<?xml version="1.0" encoding="UTF-8"?><rsm:CrossIndustryInvoice xmlns:rsm="{CII_NS}"/>'.encode()
UBL = f'<?xml version="1.0"?><Invoice xmlns="{UBL_NS}"/>'.encode()
ORDER_NS = "urn:un:unece:uncefact:data:standard:SCRDMCCBDACIOMessageStructure:100"
ORDER_X = f'<rsm:SCRDMCCBDACIOMessageStructure xmlns:rsm="{ORDER_NS}"/>'.encode()


def corpus_pdf(name: str) -> bytes:
    """A corpus file's bytes; skip without the corpus, fail in CI."""
    return corpus_bytes(f"facturx-pdf/{name}")


#: file → (attachment read, kind) or the fatal code. Warnings are checked separately.
CORPUS_EXPECTED: dict[str, tuple[str, str] | str] = {
    "akretion__invoice_EN16931.pdf": ("factur-x.xml", "cii"),
    "mustang__ZTESTZUGFERD_1_INVDSS_012015738820PDF-1.pdf": ("zugferd-invoice.xml", "cii"),
    "mustang__corrupt-factur-x-waytoosmall.pdf": "GW-PDF-MALFORMED",
    "mustang__invalidXMP.pdf": ("factur-x.xml", "cii"),
    "zfc__Avoir_FR_type380_BASIC.pdf": ("factur-x.xml", "cii"),
    "zfc__Avoir_FR_type381_BASIC.pdf": ("factur-x.xml", "cii"),
    "zfc__Avoir_FR_type381_MINIMUM.pdf": ("factur-x.xml", "cii"),
    "zfc__EN16931_Einfach_negativePaymentDue.pdf": ("factur-x.xml", "cii"),
    "zfc__EN16931_Reisekostenabrechnung.pdf": ("factur-x.xml", "cii"),
    "zfc__Facture_DOM_BASICWL.pdf": ("factur-x.xml", "cii"),
    "zfc__Facture_FR_BASICWL.pdf": ("factur-x.xml", "cii"),
    "zfc__Facture_FR_EN16931.pdf": ("factur-x.xml", "cii"),
    "zfc__Facture_FR_MINIMUM.pdf": ("factur-x.xml", "cii"),
    "zfc__Facture_UE_BASICWL.pdf": ("factur-x.xml", "cii"),
    "zfc__MustangGnuaccountingBeispielRE-20190610_507.pdf": ("zugferd-invoice.xml", "cii"),
    "zfc__MustangGnuaccountingBeispielRE-20201121_508_withBOM.pdf": ("factur-x.xml", "cii"),
    "zfc__MustangRE-20171118_506_ZUGFeRD1and2.pdf": ("factur-x.xml", "cii"),
    "zfc__RE-E-974-Hetzner_2016-01-19_R0005532486.pdf": "GW-PDF-NO-XML",
    "zfc__XRECHNUNG_Einfach.pdf": ("xrechnung.xml", "cii"),
    "zfc__ZUGFeRD_1p0_COMFORT_Einfach.pdf": ("ZUGFeRD-invoice.xml", "zugferd1"),
    "zfc__factur-x-invalid-xml-encoding-attribute.pdf": ("factur-x.xml", "cii"),
    "zfc__fail1.pdf": ("ZUGFeRD-invoice.xml", "zugferd1"),
    "zfc__python-factur-x.pdf": ("factur-x.xml", "cii"),
    "zfc__zugferd_2p0_BASIC_Rechnungskorrektur.pdf": ("zugferd-invoice.xml", "cii"),
    "zfc__zugferd_2p0_EN16931_AbweichenderZahlungsempf.pdf": ("zugferd-invoice.xml", "cii"),
    "zfc__zugferd_2p0_EN16931_Gutschrift.pdf": ("zugferd-invoice.xml", "cii"),
    "zfc__zugferd_2p0_EXTENDED_Fremdwaehrung.pdf": ("zugferd-invoice.xml", "cii"),
    "zfc__zugferd_2p0_MINIMUM.pdf": ("zugferd-invoice.xml", "cii"),
    "zfc__zugferd_2p1_BASIC-WL_Einfach.pdf": ("factur-x.xml", "cii"),
    "zfc__zugferd_2p1_EN16931_Rabatte.pdf": ("factur-x.xml", "cii"),
}
#: Two invoice XMLs: the ZUGFeRD 1.0 one loses to factur-x.xml, with a warning.
COMPETING = {"mustang__invalidXMP.pdf", "zfc__MustangRE-20171118_506_ZUGFeRD1and2.pdf"}
#: XMP level and BT-24 disagree: "no thing" (the Mustang XMP test) and "komfort" (a fail/ file).
XMP_DISAGREES = {"mustang__invalidXMP.pdf", "zfc__fail1.pdf"}
#: The hardened XML parser refuses these extracted XMLs (the lead's parser will report them).
XML_REFUSED = {"zfc__factur-x-invalid-xml-encoding-attribute.pdf": "GW-XML-ENCODING"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[PdfSandbox]:
    with PdfSandbox() as box:
        yield box


def test_every_corpus_pdf_is_listed() -> None:
    corpus_pdf("zfc__fail1.pdf")  # skip / fail without the corpus
    assert sorted(p.name for p in PDF_DIR.glob("*.pdf")) == sorted(CORPUS_EXPECTED)


@pytest.mark.parametrize("name", sorted(CORPUS_EXPECTED))
def test_corpus_pdf(name: str) -> None:
    result = extract_invoice_xml(corpus_pdf(name), LIMITS)
    expected = CORPUS_EXPECTED[name]
    if isinstance(expected, str):
        assert result.xml is None and [i.code for i in result.issues] == [expected]
        assert result.is_rejected
        return
    assert (result.attachment_name, result.xml_kind) == expected
    assert result.xml and not result.is_rejected
    assert result.attachment_name in result.attachment_names
    warnings = [i for i in result.issues if i.severity is Severity.WARNING]
    if name in COMPETING:
        assert [w.code for w in warnings] == ["GW-PDF-XML-CHOSEN"]
        assert "'factur-x.xml'" in warnings[0].message and "'ZUGFeRD-invoice.xml'" in warnings[0].message
        assert warnings[0].message.index("factur-x.xml") < warnings[0].message.index("ignored")
    else:
        assert result.issues == ()
    assert result.xmp_file_name == expected[0]  # every corpus XMP names the attachment it describes


@pytest.mark.parametrize("name", sorted(n for n, e in CORPUS_EXPECTED.items() if not isinstance(e, str)))
def test_corpus_xml_then_goes_through_the_hardened_parser(name: str) -> None:
    result = extract_invoice_xml(corpus_pdf(name), LIMITS)
    assert result.xml is not None
    if name in XML_REFUSED:
        with pytest.raises(InputError) as refused:
            parse_xml(result.xml, LIMITS)
        assert refused.value.code == XML_REFUSED[name]
        return
    root = parse_xml(result.xml, LIMITS)
    guideline = root.xpath("string(//*[local-name()='GuidelineSpecifiedDocumentContextParameter']/*)")
    assert conformance_level_matches(result.xmp_level, guideline) is (name not in XMP_DISAGREES), guideline


def test_corpus_special_cases() -> None:
    bom = extract_invoice_xml(
        corpus_pdf("zfc__MustangGnuaccountingBeispielRE-20201121_508_withBOM.pdf"), LIMITS
    )
    assert bom.xml is not None and bom.xml.startswith(b"\xef\xbb\xbf")
    xrechnung = extract_invoice_xml(corpus_pdf("zfc__XRECHNUNG_Einfach.pdf"), LIMITS)
    assert (xrechnung.attachment_name, xrechnung.xmp_level) == ("xrechnung.xml", "XRECHNUNG")
    assert extract_invoice_xml(corpus_pdf("mustang__invalidXMP.pdf"), LIMITS).xmp_level == "no thing"
    zugferd1 = extract_invoice_xml(corpus_pdf("zfc__ZUGFeRD_1p0_COMFORT_Einfach.pdf"), LIMITS)
    assert zugferd1.xmp_level == "COMFORT"  # written as an XMP attribute, not an element
    extra = extract_invoice_xml(corpus_pdf("akretion__invoice_EN16931.pdf"), LIMITS)
    assert extra.attachment_names == ("Bon_de_livraison.pdf", "factur-x.xml")
    hetzner = extract_invoice_xml(corpus_pdf("zfc__RE-E-974-Hetzner_2016-01-19_R0005532486.pdf"), LIMITS)
    assert "plain PDF" in hetzner.issues[0].message


def test_the_sandbox_gives_the_same_results_as_in_process(sandbox: PdfSandbox) -> None:
    for name in sorted(CORPUS_EXPECTED):
        data = corpus_pdf(name)
        assert sandbox.extract(data, LIMITS) == extract_invoice_xml(data, LIMITS), name


# --- hostile and odd PDFs, built here --------------------------------------------------------


def pdf(*attachments: tuple[str, bytes], password: str | None = None) -> bytes:
    """A one-page PDF with ``attachments`` in the /EmbeddedFiles name tree, encrypted if ``password``."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    for name, content in attachments:
        writer.add_attachment(name, content)
    if password is not None:
        writer.encrypt(user_password=password, owner_password="owner", algorithm="AES-256")
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def flate_bomb(mib: int) -> bytes:
    """A valid zlib stream of ``mib`` MiB of zeros, ~1 KB per MiB, built without compressing it all."""
    zeros = bytes(MiB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    first = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeat = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH) == repeat  # periodic
    adler = ((mib * MiB) % 65521) << 16 | 1  # adler32 of n zero bytes
    return first + repeat * (mib - 1) + compressor.flush(zlib.Z_FINISH)[:-4] + adler.to_bytes(4, "big")


def pdf_with_raw_streams(streams: list[tuple[str, bytes, list[str]]]) -> bytes:
    """Attachments whose stream bytes are written as given, under the given filters."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    for name, raw, filters in streams:
        spec: Any = writer.add_attachment(name, b"placeholder").pdf_object
        stream = spec["/EF"]["/F"].get_object()
        stream.set_data(raw)
        stream[NameObject("/Filter")] = ArrayObject(NameObject(f) for f in filters)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def relocated(where: str, *attachments: tuple[str, bytes]) -> bytes:
    """Attachments listed only in the catalog's /AF, the first page's /AF, or a /Kids name tree."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    specs = [writer.add_attachment(name, content).pdf_object for name, content in attachments]
    names: Any = writer.root_object["/Names"].get_object()
    if where == "kids":
        flat: Any = names["/EmbeddedFiles"].get_object()
        kid = DictionaryObject({NameObject("/Names"): flat["/Names"]})
        names[NameObject("/EmbeddedFiles")] = DictionaryObject({NameObject("/Kids"): ArrayObject([kid])})
    else:
        del writer.root_object["/Names"]
        target = writer.root_object if where == "catalog" else writer.pages[0]
        target[NameObject("/AF")] = ArrayObject(s.indirect_reference or s for s in specs)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("password", ["secret", ""])
def test_encrypted_pdf_is_refused(sandbox: PdfSandbox, password: str) -> None:
    result = sandbox.extract(pdf(("factur-x.xml", CII), password=password), LIMITS)
    assert [i.code for i in result.issues] == ["GW-PDF-ENCRYPTED"] and result.xml is None
    assert "password" in result.issues[0].message


def test_flate_bomb_is_refused_quickly_without_blowing_memory(sandbox: PdfSandbox) -> None:
    bomb = pdf_with_raw_streams([("factur-x.xml", flate_bomb(1024), ["/FlateDecode"])])
    assert len(bomb) < 2 * MiB
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    result = sandbox.extract(bomb, LIMITS)
    assert time.monotonic() - started < 5
    assert [i.code for i in result.issues] == ["GW-PDF-TOO-COMPLEX"] and result.xml is None
    assert "20 MB" in result.issues[0].message
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KiB on Linux
    tracemalloc.start()  # in-process too: pypdf's caps alone stop it a little past max_xml_bytes
    try:
        assert extract_invoice_xml(bomb, LIMITS).issues[0].code == "GW-PDF-TOO-COMPLEX"
        assert tracemalloc.get_traced_memory()[1] < 4 * LIMITS.max_xml_bytes
    finally:
        tracemalloc.stop()


def test_nested_flate_bomb_is_refused(sandbox: PdfSandbox) -> None:
    nested = zlib.compress(flate_bomb(1024), 9)  # 1 GiB in ~2 KB
    result = sandbox.extract(
        pdf_with_raw_streams([("x.xml", nested, ["/FlateDecode", "/FlateDecode"])]), LIMITS
    )
    assert [i.code for i in result.issues] == ["GW-PDF-TOO-COMPLEX"]


def test_xml_over_max_xml_bytes_is_refused(sandbox: PdfSandbox) -> None:
    small = Limits(max_xml_bytes=64 * 1024)
    result = sandbox.extract(pdf(("factur-x.xml", CII + b" " * 100_000)), small)
    assert [i.code for i in result.issues] == ["GW-PDF-TOO-COMPLEX"]
    assert sandbox.extract(pdf(("factur-x.xml", CII)), small).xml == CII


def test_doctype_is_returned_as_is_and_refused_by_the_xml_parser(sandbox: PdfSandbox) -> None:
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE rsm:CrossIndustryInvoice [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        + CII.split(b"?>", 1)[1].replace(b"/>", b">&x;</rsm:CrossIndustryInvoice>")
    )
    result = sandbox.extract(pdf(("factur-x.xml", hostile)), LIMITS)
    assert result.xml == hostile and result.xml_kind == "cii" and result.issues == ()
    with pytest.raises(UnsafeInput) as refused:
        parse_xml(result.xml, LIMITS)
    assert refused.value.code == "GW-XML-DOCTYPE"


def test_pdf_without_attachment(sandbox: PdfSandbox) -> None:
    result = sandbox.extract(pdf(), LIMITS)
    assert [i.code for i in result.issues] == ["GW-PDF-NO-XML"] and result.attachment_names == ()


@pytest.mark.parametrize("data", [b"", b"invoice_number;amount\n1;2\n", b"%PDF-1.7\n" + b"\0" * 5000])
def test_not_a_pdf_is_malformed(sandbox: PdfSandbox, data: bytes) -> None:
    assert [i.code for i in sandbox.extract(data, LIMITS).issues] == ["GW-PDF-MALFORMED"]


VALID = pdf(("factur-x.xml", CII), ("notes.pdf", b"%PDF-1.4"))


@settings(max_examples=60, deadline=None)
@given(
    cut=st.integers(0, len(VALID)),
    flips=st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.binary(min_size=1, max_size=4))),
)
def test_damaged_pdfs_never_raise(cut: int, flips: list[tuple[int, bytes]]) -> None:
    data = bytearray(VALID)
    for position, replacement in flips:
        data[position : position + len(replacement)] = replacement
    result = extract_invoice_xml(bytes(data[: max(cut, 1)]), LIMITS)
    assert (result.xml is not None) != result.is_rejected
    assert all(issue.code.startswith("GW-PDF-") and issue.message for issue in result.issues)


def test_non_invoice_attachments_give_no_xml() -> None:
    result = extract_invoice_xml(pdf(("order-x.xml", ORDER_X), ("notes.txt", b"hello")), LIMITS)
    assert [i.code for i in result.issues] == ["GW-PDF-NO-XML"]
    assert "order-x.xml" in result.issues[0].message
    assert result.attachment_names == ("notes.txt", "order-x.xml")


def test_any_xml_name_is_found_and_a_known_root_beats_a_known_name() -> None:
    assert extract_invoice_xml(pdf(("INV-2026-001.xml", UBL)), LIMITS).attachment_name == "INV-2026-001.xml"
    result = extract_invoice_xml(pdf(("factur-x.xml", ORDER_X), ("invoice.xml", UBL)), LIMITS)
    assert (result.attachment_name, result.xml_kind) == ("invoice.xml", "ubl")
    assert [i.code for i in result.issues] == ["GW-PDF-XML-CHOSEN"] and not result.is_rejected


def test_names_rank_factur_x_first_then_case_insensitive() -> None:
    both = pdf(("xrechnung.xml", CII), ("ZUGFERD-INVOICE.XML", CII), ("factur-x.xml", CII))
    assert extract_invoice_xml(both, LIMITS).attachment_name == "factur-x.xml"
    assert extract_invoice_xml(
        pdf(("xrechnung.xml", CII), ("ZUGFERD-INVOICE.XML", CII)), LIMITS
    ).attachment_name == ("ZUGFERD-INVOICE.XML")


@pytest.mark.parametrize("where", ["catalog", "page", "kids"])
def test_attachments_outside_the_flat_name_tree_are_found(where: str) -> None:
    result = extract_invoice_xml(relocated(where, ("factur-x.xml", CII)), LIMITS)
    assert (result.attachment_name, result.xml, result.issues) == ("factur-x.xml", CII, ())


def test_a_file_listed_twice_counts_once() -> None:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    spec = writer.add_attachment("factur-x.xml", CII).pdf_object
    writer.root_object[NameObject("/AF")] = ArrayObject([spec.indirect_reference or spec])
    out = BytesIO()
    writer.write(out)
    result = extract_invoice_xml(out.getvalue(), LIMITS)
    assert result.attachment_names == ("factur-x.xml",) and result.issues == ()


def test_a_name_tree_nested_too_deeply_is_too_complex() -> None:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    node = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("a.xml"), NumberObject(0)])})
    for _ in range(40):
        node = DictionaryObject({NameObject("/Kids"): ArrayObject([node])})
    writer.root_object[NameObject("/Names")] = DictionaryObject({NameObject("/EmbeddedFiles"): node})
    out = BytesIO()
    writer.write(out)
    assert extract_invoice_xml(out.getvalue(), LIMITS).issues[0].code == "GW-PDF-TOO-COMPLEX"


def test_too_many_objects_or_xml_attachments_is_too_complex(monkeypatch: pytest.MonkeyPatch) -> None:
    many = pdf(*((f"part{n}.xml", CII) for n in range(33)))
    assert "more than 32 XML attachments" in extract_invoice_xml(many, LIMITS).issues[0].message
    monkeypatch.setattr(pdf_attachments, "MAX_OBJECTS", 5)
    result = extract_invoice_xml(pdf(("factur-x.xml", CII)), LIMITS)
    assert result.issues[0].code == "GW-PDF-TOO-COMPLEX" and "more than 5 objects" in result.issues[0].message


def test_attachment_names_are_cleaned_for_display() -> None:
    result = extract_invoice_xml(pdf(("../evil\x1b[31m\n.xml", UBL)), LIMITS)
    assert result.attachment_name == "../evil?[31m?.xml" and result.xml == UBL


def slow_pdf() -> bytes:
    """~8 s of CPU: 30 corrupt Flate streams, each sent through pypdf's byte-by-byte recovery."""
    return pdf_with_raw_streams(
        [(f"a{n}.xml", b"x\x9c" + os.urandom(200 * 1024), ["/FlateDecode"]) for n in range(30)]
    )


def test_cpu_limit_kills_the_worker_and_the_next_file_goes_on() -> None:
    with PdfSandbox(SandboxLimits(cpu_seconds=1, timeout_seconds=60)) as box:
        started = time.monotonic()
        result = box.extract(slow_pdf(), LIMITS)
        assert time.monotonic() - started < 10
        assert [i.code for i in result.issues] == ["GW-PDF-TOO-COMPLEX"]
        assert "computing time" in result.issues[0].message
        assert box.extract(pdf(("factur-x.xml", CII)), LIMITS).xml == CII


def test_wall_clock_timeout_kills_the_worker_and_the_next_file_goes_on() -> None:
    with PdfSandbox(SandboxLimits(cpu_seconds=60, timeout_seconds=0.5)) as box:
        result = box.extract(slow_pdf(), LIMITS)
        assert [i.code for i in result.issues] == ["GW-PDF-TOO-COMPLEX"]
        assert "longer than 0.5 seconds" in result.issues[0].message
        assert box.extract(pdf(("factur-x.xml", CII)), LIMITS).xml == CII


def test_memory_limit_refuses_the_file_and_the_next_file_goes_on() -> None:
    with PdfSandbox(SandboxLimits(memory_bytes=8 * MiB)) as box:
        bomb = pdf_with_raw_streams([("factur-x.xml", flate_bomb(64), ["/FlateDecode"])])
        result = box.extract(bomb, LIMITS)
        assert [i.code for i in result.issues] == ["GW-PDF-TOO-COMPLEX"]
        assert "memory" in result.issues[0].message
        assert box.extract(pdf(("factur-x.xml", CII)), LIMITS).xml == CII


def test_the_worker_runs_under_its_limits(sandbox: PdfSandbox) -> None:
    sandbox.extract(pdf(), LIMITS)
    seen = sandbox.worker_limits()
    assert 0 < seen["RLIMIT_AS"] < 2 * 1024 * MiB
    assert 0 < seen["RLIMIT_CPU"] <= 60  # re-armed per file: CPU used so far + cpu_seconds


def test_the_worker_is_reused_across_files(sandbox: PdfSandbox) -> None:
    started = time.monotonic()
    for _ in range(50):
        sandbox.extract(pdf(("factur-x.xml", CII)), LIMITS)
    assert time.monotonic() - started < 5  # a process per file would take ~100 ms each


def test_reply_round_trip_and_tampering() -> None:
    result = extract_invoice_xml(pdf(("factur-x.xml", CII), ("invoice.xml", UBL)), LIMITS)
    assert decode_reply(encode_reply(result)) == result
    assert decode_reply(encode_reply(PdfExtraction(xml=None))) == PdfExtraction(xml=None)
    with pytest.raises(ValueError):
        decode_reply(encode_reply(result) + b"more")


def test_default_sandbox() -> None:
    assert extract_in_sandbox(pdf(("factur-x.xml", CII)), LIMITS).xml == CII


# --- the XMP level against BT-24 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("xmp", "guideline"),
    [
        ("MINIMUM", "urn:factur-x.eu:1p0:minimum"),
        ("MINIMUM", "urn:zugferd.de:2p0:minimum"),
        ("BASIC WL", "urn:factur-x.eu:1p0:basicwl"),
        ("BASIC-WL", "urn:factur-x.eu:1p0:basicwl"),
        ("BASIC", "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic"),
        ("BASIC", "urn:cen.eu:en16931:2017:compliant:factur-x.eu:1p0:basic"),
        ("BASIC", "urn:cen.eu:en16931:2017#compliant#urn:zugferd.de:2p0:basic"),
        ("EN 16931", "urn:cen.eu:en16931:2017"),
        ("EN16931", " urn:cen.eu:en16931:2017 "),
        ("COMFORT", "urn:ferd:CrossIndustryDocument:invoice:1p0:comfort"),
        ("BASIC", "urn:ferd:CrossIndustryDocument:invoice:1p0:basic"),
        ("EXTENDED", "urn:ferd:CrossIndustryDocument:invoice:1p0:extended"),
        ("EXTENDED", "urn:cen.eu:en16931:2017:compliant:factur-x.eu:1p0:extended"),
        ("EN 16931", "urn:cen.eu:en16931:2017:compliant:factur-x.eu:1p0:en16931"),
        ("EXTENDED", "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended"),
        ("EXTENDED", "urn:cen.eu:en16931:2017#conformant#urn:zugferd.de:2p0:extended"),
        ("EXTENDED", "urn:cen.eu:en16931:2017#conformant#urn.cpro.gouv.fr:1p0:extended-ctc-fr"),
        ("XRECHNUNG", "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"),
        ("XRECHNUNG", "urn:cen.eu:en16931:2017#compliant#urn:xoev-de:kosit:standard:xrechnung_2.1"),
    ],
)
def test_levels_that_match(xmp: str, guideline: str) -> None:
    assert conformance_level_matches(xmp, guideline)


@pytest.mark.parametrize(
    ("xmp", "guideline"),
    [
        ("BASIC", "urn:cen.eu:en16931:2017"),
        ("EN 16931", "urn:factur-x.eu:1p0:basicwl"),
        ("BASIC WL", "urn:factur-x.eu:1p0:basic"),  # not a real URN: BASIC has the en16931 prefix
        ("COMFORT", "urn:ferd:CrossIndustryDocument:invoice:1p0:komfort"),
        ("BASIC", "urn:ferd:CrossIndustryDocument:invoice:1p0:comfort"),
        ("EN 16931", "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"),
        ("no thing", "urn:cen.eu:en16931:2017"),
        (None, "urn:cen.eu:en16931:2017"),
        ("EXTENDED", None),
        ("XRECHNUNG", "urn:cen.eu:en16931:2017"),
    ],
)
def test_levels_that_do_not_match(xmp: str | None, guideline: str | None) -> None:
    assert not conformance_level_matches(xmp, guideline)


def test_profile_vocabulary_and_mismatch_issue() -> None:
    assert xmp_profile("  basic   wl ") == "BASIC WL" and profile_of("urn:x") is None
    issue = xmp_mismatch_issue("BASIC", "urn:cen.eu:en16931:2017")
    assert issue.code == "GW-PDF-XMP-MISMATCH" and issue.severity is Severity.WARNING
    assert re.search(r"gives 'BASIC' .* says 'EN 16931'", issue.message)
    assert "says 'urn:x'" in xmp_mismatch_issue(None, "urn:x").message
    komfort = xmp_mismatch_issue("COMFORT", "urn:ferd:CrossIndustryDocument:invoice:1p0:komfort")
    assert "says 'urn:ferd:CrossIndustryDocument:invoice:1p0:komfort'" in komfort.message
    extended = xmp_mismatch_issue("BASIC", "urn:ferd:CrossIndustryDocument:invoice:1p0:extended")
    assert "says 'ZUGFeRD 1.0 EXTENDED'" in extended.message


def test_sandbox_limits_come_from_the_gateway_limits() -> None:
    assert SandboxLimits.from_limits(Limits()) == SandboxLimits()
    custom = SandboxLimits.from_limits(
        Limits(pdf_worker_memory_bytes=MiB, pdf_worker_cpu_seconds=2, pdf_timeout_seconds=3.5)
    )
    assert (custom.memory_bytes, custom.cpu_seconds, custom.timeout_seconds) == (MiB, 2, 3.5)
