"""Find the invoice XML inside a Factur-X / ZUGFeRD PDF: pure, bytes in, a verdict out.

A Factur-X (≡ ZUGFeRD 2.x) invoice is a PDF/A-3 carrying its invoice data as an
embedded XML file. This module does the PDF side: it lists every embedded file
wherever the producer put it — the ``/EmbeddedFiles`` name tree (possibly split
into ``/Kids``), the catalog's ``/AF`` (associated files) and, when those hold
no XML, the pages' ``/AF`` — counting each once; it decodes the XML ones and
lets :mod:`gateway.parsers.facturx_conventions` say which one is the invoice
(root element, then name) and which profile the XMP metadata claims. When
several invoices compete, a warning names the one read and those ignored.

The PDF is hostile until proven otherwise: pypdf's decoders run under tight
caps (:func:`pdf_configuration`) so a decompression bomb stops after a few MB,
and no XML is parsed here except the small XMP packet, through the gateway's
hardened parser. The invoice XML itself is only *sniffed* (root tag); the
caller parses it with :func:`gateway.parsers.xml_safety.parse_xml`, which
refuses a DOCTYPE. This module is meant to run inside the resource-limited
worker of :mod:`gateway.parsers.pdf_sandbox`; it never raises for bad content.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from io import BytesIO
from typing import Any

from pypdf import Configuration, PdfReader, apply_configuration
from pypdf.errors import LimitReachedError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from gateway.errors import LimitExceeded
from gateway.limits import Limits
from gateway.model import Issue, Severity
from gateway.parsers.facturx_conventions import XmlAttachment, rank_invoices, read_xmp, root_kind

log = logging.getLogger(__name__)

NO_XML = "GW-PDF-NO-XML"
ENCRYPTED = "GW-PDF-ENCRYPTED"
MALFORMED = "GW-PDF-MALFORMED"
TOO_COMPLEX = "GW-PDF-TOO-COMPLEX"
XML_CHOSEN = "GW-PDF-XML-CHOSEN"
XML_COMPETING = "GW-PDF-XML-COMPETING"

#: Structural caps. A real invoice PDF has a few thousand objects, one name tree level and 1-5 attachments.
MAX_OBJECTS = 250_000
MAX_TREE_DEPTH = 32
MAX_TREE_NODES = 10_000
MAX_XML_ATTACHMENTS = 32
MAX_PAGES_SCANNED = 10_000
MAX_NAMES_LISTED = 200  # in ``attachment_names``; the rest are counted
#: Every decoder may emit this much even when ``max_xml_bytes`` is set lower: object streams need room.
MIN_DECODE_BYTES = 8 * 1024 * 1024
MAX_XMP_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class PdfExtraction:
    """What a PDF holds: the chosen invoice XML (or None) and why.

    ``attachment_names`` are every embedded file seen, cleaned for display
    (they come from the sender). ``xml_kind`` is ``cii``, ``ubl``,
    ``zugferd1`` or None (a known file name whose root is no invoice syntax:
    the XML parser will say what is wrong with it). ``xmp_level`` and
    ``xmp_file_name`` are the XMP's ``ConformanceLevel`` and
    ``DocumentFileName`` as written, or None.
    """

    xml: bytes | None
    attachment_name: str | None = None
    attachment_names: tuple[str, ...] = ()
    xml_kind: str | None = None
    xmp_level: str | None = None
    xmp_file_name: str | None = None
    issues: tuple[Issue, ...] = ()

    @property
    def is_rejected(self) -> bool:
        return any(issue.is_fatal for issue in self.issues)


def rejected(code: str, message: str) -> PdfExtraction:
    return PdfExtraction(xml=None, issues=(Issue(code, message),))


def too_complex(reason: str) -> PdfExtraction:
    return rejected(
        TOO_COMPLEX,
        f"The PDF {reason}, so the gateway refused to open it to protect the service. Export the invoice "
        "again from your invoicing software as a standard Factur-X PDF, or send the invoice XML on its own.",
    )


def malformed(detail: str) -> PdfExtraction:
    return rejected(
        MALFORMED,
        f"The file is not a readable PDF ({detail}). It may be damaged or truncated: send the invoice "
        "again as your invoicing software produced it.",
    )


def pdf_configuration(limits: Limits) -> Configuration:
    """pypdf caps for untrusted files: every decoder stops a little past ``max_xml_bytes``."""
    out = max(limits.max_xml_bytes, MIN_DECODE_BYTES) + 1024
    decoders = ("zlib", "lzw", "run_length", "brotli", "jbig2")
    return Configuration().with_overwrites(
        **{f"{decoder}_maximum_output_length": out for decoder in decoders},
        array_based_stream_maximum_output_length=out,
        image_maximum_buffer_size=out,
        stream_decoding_work_maximum_length=4 * out,
        stream_filters_maximum_length=4,
        zlib_maximum_recovery_input_length=256 * 1024,  # byte by byte: ~0.35 s of CPU per stream
        xmp_maximum_input_length=MAX_XMP_BYTES,
        page_tree_maximum_entries=MAX_PAGES_SCANNED,
        jbig2dec_binary=None,  # never run an external program on a client's file
    )


def extract_invoice_xml(pdf_bytes: bytes, limits: Limits) -> PdfExtraction:
    """The invoice XML embedded in ``pdf_bytes``, chosen among all XML attachments; never raises.

    >>> extract_invoice_xml(b"%PDF-1.4", Limits()).issues[0].code
    'GW-PDF-MALFORMED'
    """
    if b"%PDF-" not in pdf_bytes[:1024]:
        return malformed("it does not start like a PDF")
    try:
        with apply_configuration(pdf_configuration(limits)):
            return _extract(pdf_bytes, limits)
    except LimitExceeded as error:  # one of ours; its message completes "The PDF …"
        return too_complex(str(error))
    except LimitReachedError:
        unpacked = _size(max(limits.max_xml_bytes, MIN_DECODE_BYTES))
        return too_complex(f"holds compressed data that unpacks to more than {unpacked}")
    except RecursionError:
        return too_complex("is nested too deeply")
    except MemoryError:
        return too_complex("needs too much memory to read")
    except Exception as error:  # pypdf raises many types on broken input; all mean "unreadable"
        log.info("unreadable PDF: %s: %s", type(error).__name__, error)
        return malformed("it could not be read" if len(pdf_bytes) > 1024 else "it is far too short")


def _extract(pdf_bytes: bytes, limits: Limits) -> PdfExtraction:
    reader = PdfReader(BytesIO(pdf_bytes), strict=False, xref_stream_maximum_entries=MAX_OBJECTS)
    if reader.is_encrypted:
        return rejected(
            ENCRYPTED,
            "The PDF is password-protected (encrypted), so the invoice data inside it cannot be read. "
            "Export it again without a password or protection and send it again.",
        )
    if sum(len(table) for table in reader.xref.values()) + len(reader.xref_objStm) > MAX_OBJECTS:
        raise LimitExceeded(f"holds more than {MAX_OBJECTS:,} objects")
    catalog = reader.root_object
    files = _Attachments()
    names = _get(catalog, "/Names")
    if isinstance(names, DictionaryObject):
        files.walk_name_tree(_get(names, "/EmbeddedFiles"), depth=0)
    files.add_array(_get(catalog, "/AF"))
    if not files.xml:
        for page in reader.pages:
            files.add_array(_get(page, "/AF"))
    metadata = _get(catalog, "/Metadata")
    packet = metadata.get_data() if isinstance(metadata, StreamObject) else None  # a bomb here: refused
    level, file_name = read_xmp(packet, replace(limits, max_xml_bytes=MAX_XMP_BYTES))
    found = _choose(files, limits)
    listed = files.names
    if len(listed) > MAX_NAMES_LISTED:
        listed = [*listed[:MAX_NAMES_LISTED], f"(and {len(listed) - MAX_NAMES_LISTED} more)"]
    return replace(found, attachment_names=tuple(listed), xmp_level=level, xmp_file_name=file_name)


def _get(container: Any, key: str) -> Any:
    """``container[key]`` resolved, or None (PDF dictionaries are often not what they claim)."""
    if not isinstance(container, DictionaryObject):
        return None
    value = container.get(key)
    return value.get_object() if isinstance(value, IndirectObject) else value


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):g} MB" if count >= 1024 * 1024 else f"{count // 1024} KB"


def display_name(raw: object) -> str:
    """An attachment name fit for a message: printable, at most 100 characters."""
    if isinstance(raw, bytes):
        raw = raw.decode("latin-1")
    text = "".join(c if c.isprintable() else "?" for c in str(raw)).strip()
    return (text[:97] + "...") if len(text) > 100 else (text or "(no name)")


class _Attachments:
    """The embedded files of one PDF, each counted once wherever it is listed."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.xml: list[tuple[str, StreamObject]] = []
        self._seen: set[object] = set()
        self._nodes = 0

    def walk_name_tree(self, node: Any, depth: int) -> None:
        if not isinstance(node, DictionaryObject):
            return
        self._nodes += 1
        if depth > MAX_TREE_DEPTH:
            raise LimitExceeded("lists its attachments in a tree nested too deeply")
        if self._nodes > MAX_TREE_NODES:
            raise LimitExceeded(f"lists more than {MAX_TREE_NODES:,} attachments")
        entries = _get(node, "/Names")
        if isinstance(entries, ArrayObject):
            for index in range(1, len(entries), 2):
                self.add(entries[index], fallback_name=entries[index - 1])
        kids = _get(node, "/Kids")
        if isinstance(kids, ArrayObject):
            for kid in kids:
                if self._first_visit(kid):
                    self.walk_name_tree(kid.get_object(), depth + 1)

    def add_array(self, array: Any) -> None:
        if isinstance(array, ArrayObject):
            for spec in array[:MAX_TREE_NODES]:
                self.add(spec, fallback_name=None)

    def add(self, spec_ref: Any, fallback_name: Any) -> None:
        """Record one file specification if it embeds a file not seen yet."""
        spec = spec_ref.get_object() if isinstance(spec_ref, IndirectObject) else spec_ref
        embedded = _get(spec, "/EF")
        stream_ref = None
        if isinstance(embedded, DictionaryObject):
            stream_ref = embedded.get("/UF", embedded.get("/F"))
        stream = stream_ref.get_object() if isinstance(stream_ref, IndirectObject) else stream_ref
        if not isinstance(stream, StreamObject) or not self._first_visit(stream_ref, stream):
            return
        raw_name = _get(spec, "/UF") or _get(spec, "/F") or fallback_name or ""
        name = display_name(raw_name.get_object() if isinstance(raw_name, IndirectObject) else raw_name)
        self.names.append(name)
        self._nodes += 1
        if self._nodes > MAX_TREE_NODES:
            raise LimitExceeded(f"lists more than {MAX_TREE_NODES:,} attachments")
        subtype = str(stream.get("/Subtype", ""))
        if name.lower().endswith(".xml") or subtype.lower().endswith("xml"):
            if len(self.xml) >= MAX_XML_ATTACHMENTS:
                raise LimitExceeded(f"carries more than {MAX_XML_ATTACHMENTS} XML attachments")
            self.xml.append((name, stream))

    def _first_visit(self, ref: Any, obj: object = None) -> bool:
        indirect = isinstance(ref, IndirectObject)
        key = (ref.idnum, ref.generation) if indirect else id(ref if obj is None else obj)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True


def _choose(files: _Attachments, limits: Limits) -> PdfExtraction:
    """Decode every XML attachment (capped), keep the invoice ones, pick the best."""
    candidates: list[XmlAttachment] = []
    budget = 2 * limits.max_xml_bytes
    for order, (name, stream) in enumerate(files.xml):
        data = stream.get_data()
        budget -= len(data)
        if len(data) > limits.max_xml_bytes or budget < 0:
            raise LimitExceeded(f"carries XML data larger than {_size(limits.max_xml_bytes)} (in '{name}')")
        candidates.append(XmlAttachment(name, data, root_kind(data), order))
    eligible = rank_invoices(candidates)
    if not eligible:
        return rejected(NO_XML, _no_xml_message(files.names, [c.name for c in candidates]))
    chosen = eligible[0]
    rivals = [c for c in eligible[1:] if c.kind == chosen.kind and c.data != chosen.data]
    if rivals:  # two different invoices of one syntax: nothing says which one is the legal invoice
        named = ", ".join(c.described() for c in [chosen, *rivals])
        return rejected(
            XML_COMPETING,
            f"The PDF carries {len(rivals) + 1} different invoices of the same kind ({named}); the gateway "
            "cannot tell which one is the invoice. Send a PDF with only one invoice attached.",
        )
    ignored = ", ".join(c.described() for c in eligible[1:])
    warning = Issue(
        XML_CHOSEN,
        f"The PDF carries {len(eligible)} invoice files: {chosen.described()} was read and {ignored} "
        "ignored. If that is not the invoice you meant, send a PDF with only one invoice attached.",
        severity=Severity.WARNING,
        location=f"attachment {chosen.name}",
    )
    issues = (warning,) if ignored else ()
    return PdfExtraction(xml=chosen.data, attachment_name=chosen.name, xml_kind=chosen.kind, issues=issues)


def _no_xml_message(names: list[str], xml_names: list[str]) -> str:
    advice = (
        "Send the Factur-X / ZUGFeRD version from your invoicing software, or the invoice as UBL or CII XML."
    )
    if not names:
        return f"The PDF has no invoice data attached: it is a plain PDF, not an electronic invoice. {advice}"
    if not xml_names:
        return f"The PDF has attachments ({', '.join(names[:5])}) but no invoice XML among them. {advice}"
    return f"The PDF's XML attachments ({', '.join(xml_names[:5])}) are not invoices. {advice}"
