"""Factur-X / ZUGFeRD hybrid PDFs → the one invoice their embedded XML carries.

A Factur-X (≡ ZUGFeRD 2.x) invoice is a PDF/A-3 for people with the invoice data for
machines attached as an XML file; ZUGFeRD 1.0 is its predecessor. Three steps:

1. **Extraction, in the sandbox** (:mod:`gateway.parsers.pdf_sandbox`): the PDF is
   opened by a resource-limited worker process that lists every embedded file, picks
   the invoice XML (root element first, then name; a warning names any invoice left
   aside, ``GW-PDF-XML-CHOSEN``) and reads the XMP metadata. An encrypted, broken,
   oversized or XML-less PDF is refused here (``GW-PDF-*``).
2. **The XML, by its own parser**: CII (Factur-X, ZUGFeRD 2.x, XRechnung CII) with
   :mod:`gateway.parsers.cii`, UBL with :mod:`gateway.parsers.ubl`, ZUGFeRD 1.0 with
   :mod:`gateway.parsers.zugferd1` (read with a warning, never EN 16931-valid). The
   same gates as a bare XML file: hardened parse, XSD, extraction; issues say which
   attachment they are about.
3. **The PDF's claim against the data**: the XMP ``ConformanceLevel`` must name the
   profile BT-24 names, else the ``GW-PDF-XMP-MISMATCH`` warning (the producer is
   broken; the invoice data, not the XMP, is what the gateway reads).

``einvoice`` says ``container="pdf"`` and the attachment's name; ``xml`` is the parsed
attachment once it passed its XSD. The PDF itself is archived as received by the
pipeline, like any file. PDF/A conformance is not checked (no veraPDF): a factor needs
the invoice data, not the archival qualities of the picture.
"""

from __future__ import annotations

from dataclasses import replace

from gateway.limits import Limits
from gateway.model import EInvoiceFacts, Issue, ParseResult
from gateway.parsers import cii, ubl, zugferd1
from gateway.parsers.base import NO_OPTIONS, ParserOptions
from gateway.parsers.facturx_conventions import conformance_level_matches, root_kind, xmp_mismatch_issue
from gateway.parsers.pdf_sandbox import extract_in_sandbox
from gateway.parsers.xml_safety import sniff_root

FORMAT = "facturx"
#: Per-channel options this format understands (``parser_options`` of a channel): none yet.
OPTIONS: frozenset[str] = frozenset()
CONTAINER = "pdf"

#: The sniffed root kind of the attachment → the module that reads it; an XML whose root is no
#: invoice syntax (a known name, the wrong content) goes to the CII parser, which says what it is.
_READERS = {"cii": cii, "ubl": ubl, "zugferd1": zugferd1}
#: What the facts of a PDF say when no invoice XML could be read from it.
UNKNOWN_SYNTAX, UNREAD_LABEL = "unknown", "PDF (no invoice data read)"


def sniff(head: bytes, name: str) -> bool:
    """``%PDF-`` in the first 1,024 bytes (where PDF readers look for it), and not an XML document."""
    return b"%PDF-" in head[:1024] and sniff_root(head) is None


def _unread(attachment: str | None = None) -> EInvoiceFacts:
    return EInvoiceFacts(UNKNOWN_SYNTAX, UNREAD_LABEL, container=CONTAINER, attachment=attachment)


def _located(issue: Issue, attachment: str) -> Issue:
    """An issue of the embedded XML, located in the attachment."""
    where = f"{attachment}: {issue.location}" if issue.location else attachment
    return replace(issue, location=f"attachment {where}")


def parse(data: bytes, limits: Limits, options: ParserOptions = NO_OPTIONS) -> ParseResult:
    """One Factur-X / ZUGFeRD PDF → the invoice of its embedded XML, or fatal issues; never raises
    for bad content (a worker that cannot even start raises ``OSError``: the environment's fault)."""
    if len(data) > limits.max_pdf_bytes:
        issue = Issue(
            "GW-FILE-TOO-LARGE",
            f"The PDF is {len(data):,} bytes; the gateway accepts at most {limits.max_pdf_bytes:,} bytes "
            "per Factur-X PDF. Send it without scanned annexes, or the invoice XML on its own.",
        )
        return ParseResult(FORMAT, issues=(issue,), einvoice=_unread())
    extraction = extract_in_sandbox(data, limits)
    name = extraction.attachment_name
    if extraction.xml is None or extraction.is_rejected or name is None:
        return ParseResult(FORMAT, issues=extraction.issues, einvoice=_unread(name))
    kind = root_kind(extraction.xml)  # sniffed again here: the worker's word is not trusted
    reader = _READERS.get(kind or "", cii)
    inner = reader.parse(extraction.xml, limits)
    facts = replace(inner.einvoice, container=CONTAINER, attachment=name) if inner.einvoice else _unread(name)
    issues = list(extraction.issues)
    # Compared once the XML was read far enough to know its BT-24 (an unparseable one says nothing).
    read = inner.xml is not None or facts.guideline_id is not None
    if read and not conformance_level_matches(extraction.xmp_level, facts.guideline_id):
        issues.append(xmp_mismatch_issue(extraction.xmp_level, facts.guideline_id))
    issues += (_located(issue, name) for issue in inner.issues)
    return ParseResult(
        FORMAT,
        documents=inner.documents,
        rejected=inner.rejected,
        issues=tuple(issues),
        einvoice=facts,
        xml=inner.xml,
    )
