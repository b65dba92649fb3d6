"""The one place the gateway builds an lxml parser, and the checks before it runs.

Invoice XML comes from outside, so three things are settled here for every
format (UBL, CII, Factur-X attachments, XSD files):

* **No DOCTYPE, ever.** Invoices never need one, and a DOCTYPE is how XXE,
  external parameter entities and entity-expansion bombs get in. The prolog is
  scanned *before* libxml2 sees the bytes, so a hostile DTD is never parsed;
  the parsed tree is checked again afterwards as a second line of defence.
* **A closed list of encodings.** libxml2 (through iconv) accepts UTF-7,
  EBCDIC, UTF-32…; in those a DOCTYPE does not look like ``<!DOCTYPE`` to a
  byte scan. Only UTF-8, UTF-16 and ASCII-compatible single-byte encodings
  are accepted, so the scan above always sees what libxml2 will see.
* **A hardened parser**: no entity resolution, no network, no DTD loading,
  no processing instructions, and libxml2's own depth/size protections
  (``huge_tree=False``). lxml parsers are not meant to be shared between
  threads, so each thread gets its own from the single factory.

Every failure is an :class:`~gateway.errors.InputError` with a stable code and
a message a person can act on; callers turn it into an ``Issue``.
"""

from __future__ import annotations

import codecs
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from gateway.errors import InputError, LimitExceeded, UnsafeInput
from gateway.limits import Limits

DOCTYPE_MESSAGE = (
    "The file declares a DOCTYPE. Invoices never need one and it can be used to read files "
    "or the network; the file was refused."
)

#: Python codec names (``codecs.lookup(x).name``) accepted in an XML declaration.
#: All but UTF-16 are ASCII-compatible, so markup bytes read the same in each.
_ASCII_COMPATIBLE_ENCODINGS = frozenset(
    {"utf-8", "ascii"}
    | {f"iso8859-{n}" for n in (*range(1, 12), *range(13, 17))}
    | {f"cp{n}" for n in range(1250, 1259)}
)
_UTF16_ENCODINGS = frozenset({"utf-16", "utf-16-le", "utf-16-be"})

_XML_DECLARATION = re.compile(r"<\?xml[ \t\r\n]+[^>]*?\?>")
_ENCODING_PSEUDO_ATTRIBUTE = re.compile(r"""encoding[ \t\r\n]*=[ \t\r\n]*(?:"([^"]*)"|'([^']*)')""")
_DOCTYPE_START = re.compile(r"<![ \t\r\n]*doctype", re.IGNORECASE)
#: The end of a DOCTYPE without, then with, an internal subset (good enough for sniffing only).
_DOCTYPE_REST = re.compile(r"[^\[>]*>")
_DOCTYPE_SUBSET_END = re.compile(r"\][ \t\r\n]*>")
_XMLNS_ATTRIBUTE = re.compile(
    r"""xmlns(?::([A-Za-z_][\w.-]*))?[ \t\r\n]*=[ \t\r\n]*(?:"([^"]*)"|'([^']*)')"""
)
_ROOT_START_TAG = re.compile(r"<(?:([A-Za-z_][\w.-]*):)?([A-Za-z_][\w.-]*)([^>]*)>")
_LXML_POSITION_SUFFIX = re.compile(r",\s*line \d+,\s*column \d+\s*$")
_WHITESPACE = " \t\r\n"
#: How much of the file the prolog scan decodes first; it reads on if the prolog is longer.
_PROLOG_WINDOW = 8192

_thread_state = threading.local()


class _NoExternalResources(etree.Resolver):  # type: ignore[misc, unused-ignore]
    """Answers every request for an external DTD or entity with nothing.

    Measured with lxml 6.1.3 / libxml2 2.14: even with ``load_dtd=False`` and
    ``resolve_entities=False`` libxml2 still *opens* an external DTD subset or
    an external parameter entity (it does not expand them). With a resolver
    registered it opens nothing. The DOCTYPE refusal comes first anyway.
    """

    def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:
        return self.resolve_string("", context)


def new_hardened_parser(*, local_files: bool = False) -> etree.XMLParser:
    """The parser factory: the only ``etree.XMLParser(...)`` call in the gateway.

    ``local_files=True`` is for schema files shipped with an installed package,
    whose relative ``xs:import`` locations must load from disk.
    """
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
        remove_comments=False,
        collect_ids=False,
    )
    if not local_files:
        parser.resolvers.add(_NoExternalResources())
    return parser


def _thread_parser() -> etree.XMLParser:
    parser = getattr(_thread_state, "parser", None)
    if parser is None:
        parser = new_hardened_parser()
        _thread_state.parser = parser
    return parser


@dataclass(frozen=True, slots=True)
class _Prolog:
    """How the first bytes of a file read: its encoding and the text to scan."""

    codec: str  # a Python codec name used to read the prolog
    bom_length: int
    declared_encoding: str | None


def _detect_encoding(data: bytes) -> tuple[str, int]:
    """The codec and BOM length from the first bytes (XML 1.0, appendix F)."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or data[:4] in (
        b"\x00\x00\x00<",
        b"<\x00\x00\x00",
    ):
        raise InputError(
            "The file is encoded in UTF-32, which the gateway does not accept. Send it in UTF-8.",
            code="GW-XML-ENCODING",
            location="line 1",
        )
    if data.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if data.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    if len(data) >= 2 and data[0] != 0 and data[1] == 0:
        return "utf-16-le", 0
    if len(data) >= 2 and data[0] == 0 and data[1] != 0:
        return "utf-16-be", 0
    if data[:4] == b"\x4c\x6f\xa7\x94":  # '<?xm' in EBCDIC
        raise InputError(
            "The file is encoded in EBCDIC, which the gateway does not accept. Send it in UTF-8.",
            code="GW-XML-ENCODING",
            location="line 1",
        )
    return "utf-8", 0


def _decode_prolog(data: bytes, codec: str, bom_length: int, length: int | None) -> str:
    chunk = data[bom_length:] if length is None else data[bom_length : bom_length + length]
    if codec in _UTF16_ENCODINGS:
        chunk = chunk[: len(chunk) // 2 * 2]
        return chunk.decode(codec, errors="replace")
    # ASCII-compatible: markup characters are the same bytes whatever the real encoding.
    return chunk.decode("latin-1")


def _read_declaration(text: str, codec: str, bom_length: int) -> str | None:
    """The encoding named in the XML declaration, refused unless on the closed list."""
    declaration = _XML_DECLARATION.match(text)
    if declaration is None:
        if codec in _UTF16_ENCODINGS and bom_length == 0:
            raise InputError(
                "The file looks like UTF-16 but has neither a byte-order mark nor an XML declaration "
                "naming its encoding. Send it in UTF-8, or in UTF-16 with a byte-order mark.",
                code="GW-XML-ENCODING",
                location="line 1",
            )
        return None
    found = _ENCODING_PSEUDO_ATTRIBUTE.search(declaration.group(0))
    if found is None:
        return None
    declared = found.group(1) if found.group(1) is not None else found.group(2)
    try:
        canonical = codecs.lookup(declared).name
    except LookupError:
        canonical = None
    if canonical is None or canonical not in _ASCII_COMPATIBLE_ENCODINGS | _UTF16_ENCODINGS:
        raise InputError(
            f"The file declares the character encoding '{declared}', which the gateway does not "
            "accept. Use UTF-8 (recommended), UTF-16 or ISO-8859-1 and declare it correctly.",
            code="GW-XML-ENCODING",
            location="line 1",
        )
    if canonical in _UTF16_ENCODINGS and codec not in _UTF16_ENCODINGS:
        raise InputError(
            f"The file declares the character encoding '{declared}' but its bytes are not UTF-16. "
            "Declare the encoding the file really uses (UTF-8 is recommended).",
            code="GW-XML-ENCODING",
            location="line 1",
        )
    return declared


def _root_position(text: str, position: int = 0) -> int | None:
    """Index of the first markup after the prolog, or None if ``text`` ends inside it."""
    declaration = _XML_DECLARATION.match(text) if position == 0 else None
    if declaration is not None:
        position = declaration.end()
    length = len(text)
    while True:
        while position < length and text[position] in _WHITESPACE:
            position += 1
        if position >= length:
            return None
        if text.startswith("<!--", position):
            end = text.find("-->", position + 4)
            if end < 0:
                return None
            position = end + 3
        elif text.startswith("<?", position):
            end = text.find("?>", position + 2)
            if end < 0:
                return None
            position = end + 2
        else:
            return position


def _scan_prolog(data: bytes) -> _Prolog:
    """Refuse a DOCTYPE or an encoding we do not accept, before libxml2 sees the bytes."""
    codec, bom_length = _detect_encoding(data)
    text = _decode_prolog(data, codec, bom_length, _PROLOG_WINDOW)
    declared = _read_declaration(text, codec, bom_length)
    position = _root_position(text)
    if position is None and len(data) - bom_length > _PROLOG_WINDOW:
        text = _decode_prolog(data, codec, bom_length, None)
        position = _root_position(text)
    if position is not None and _DOCTYPE_START.match(text, position):
        line = text.count("\n", 0, position) + 1
        raise UnsafeInput(DOCTYPE_MESSAGE, code="GW-XML-DOCTYPE", location=f"line {line}")
    return _Prolog(codec=codec, bom_length=bom_length, declared_encoding=declared)


def _is_blank(data: bytes, prolog: _Prolog) -> bool:
    if prolog.codec in _UTF16_ENCODINGS:
        return _decode_prolog(data, prolog.codec, prolog.bom_length, None).strip(_WHITESPACE) == ""
    return re.fullmatch(rb"[ \t\r\n]*", data[prolog.bom_length :]) is not None


_ENCODING_ERROR_CODES = frozenset(
    {
        etree.ErrorTypes.ERR_UNSUPPORTED_ENCODING,
        etree.ErrorTypes.ERR_INVALID_ENCODING,
        etree.ErrorTypes.ERR_UNKNOWN_ENCODING,
        etree.ErrorTypes.ERR_ENCODING_NAME,
        etree.ErrorTypes.ERR_MISSING_ENCODING,
    }
)


def _syntax_error(error: etree.XMLSyntaxError, prolog: _Prolog) -> InputError:
    line, column = error.position if error.position else (error.lineno or 1, 0)
    location = f"line {line}, column {column}"
    detail = _LXML_POSITION_SUFFIX.sub("", str(error.msg or error)).strip().rstrip(".")
    if error.code in _ENCODING_ERROR_CODES:
        encoding = prolog.declared_encoding or prolog.codec.upper()
        return InputError(
            f"The file's bytes do not match its character encoding ({encoding}): {detail}. "
            'Save it again in UTF-8 and declare encoding="UTF-8".',
            code="GW-XML-ENCODING",
            location=location,
        )
    return InputError(
        f"The file is not well-formed XML ({detail}). It may be truncated or hand-edited; "
        "send it again as your software produced it.",
        code="GW-XML-MALFORMED",
        location=location,
    )


def parse_xml(data: bytes, limits: Limits) -> etree._Element:
    """Parse untrusted XML bytes into an element tree, or raise an :class:`InputError`.

    Codes: ``GW-FILE-TOO-LARGE``, ``GW-FILE-EMPTY``, ``GW-XML-DOCTYPE``,
    ``GW-XML-ENCODING``, ``GW-XML-MALFORMED``.
    """
    if len(data) > limits.max_xml_bytes:
        raise LimitExceeded(
            f"The XML file is {len(data):,} bytes; the gateway accepts at most "
            f"{limits.max_xml_bytes:,} bytes per XML invoice. Split it or send the invoices one by one.",
            code="GW-FILE-TOO-LARGE",
        )
    if not data:
        raise InputError("The file is empty.", code="GW-FILE-EMPTY")
    prolog = _scan_prolog(data)
    if _is_blank(data, prolog):
        raise InputError("The file is empty (it holds only blank characters).", code="GW-FILE-EMPTY")
    try:
        root = etree.fromstring(data, _thread_parser())
    except etree.XMLSyntaxError as error:
        raise _syntax_error(error, prolog) from None
    except etree.LxmlError as error:  # parser-level failures that are not syntax errors
        raise InputError(f"The file could not be read as XML ({error}).", code="GW-XML-MALFORMED") from None
    if root is None:
        raise InputError("The file holds no XML element.", code="GW-FILE-EMPTY")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise UnsafeInput(DOCTYPE_MESSAGE, code="GW-XML-DOCTYPE", location="line 1")
    return root


def parse_trusted_file(path: Path) -> etree._ElementTree:
    """Parse a file shipped with an installed package (an XSD), with the same parser.

    The path is kept as the document URL so relative ``xs:import`` locations
    resolve next to it, on disk.
    """
    return etree.parse(str(path), new_hardened_parser(local_files=True))


@dataclass(frozen=True, slots=True)
class RootElement:
    """Namespace and local name of a document's root element, read from its first bytes."""

    namespace: str | None
    local_name: str


def _sniff_text(head: bytes) -> str | None:
    try:
        codec, bom_length = _detect_encoding(head)
    except InputError:
        return None
    return _decode_prolog(head, codec, bom_length, None)


def _root_start_tag(text: str) -> re.Match[str] | None:
    """The root's start tag, past the prolog and any DOCTYPE (so that parse() is the one to refuse it)."""
    position = _root_position(text)
    doctype = _DOCTYPE_START.match(text, position) if position is not None else None
    if doctype is not None:
        end = _DOCTYPE_REST.match(text, doctype.end()) or _DOCTYPE_SUBSET_END.search(text, doctype.end())
        position = _root_position(text, end.end()) if end is not None else None
    return _ROOT_START_TAG.match(text, position) if position is not None else None


def _namespace(prefix: str | None, *attribute_lists: str) -> str | None:
    """The namespace ``prefix`` is bound to by the ``xmlns`` declarations, the last list winning."""
    namespace: str | None = None
    for attributes in attribute_lists:
        for declaration in _XMLNS_ATTRIBUTE.finditer(attributes):
            if declaration.group(1) == prefix:
                namespace = declaration.group(2) if declaration.group(2) is not None else declaration.group(3)
    return namespace


def sniff_root(head: bytes) -> RootElement | None:
    """Read the root start tag from the first bytes of a file, without parsing it.

    Cheap and forgiving (used by ``sniff``): returns None when the head does
    not look like XML or the start tag is not complete in it. It never judges
    safety; :func:`parse_xml` does.
    """
    text = _sniff_text(head)
    tag = _root_start_tag(text) if text is not None else None
    if tag is None:
        return None
    return RootElement(namespace=_namespace(tag.group(1), tag.group(3)), local_name=tag.group(2))


def sniff_element_after(head: bytes, end_tag_local_name: str) -> RootElement | None:
    """The first element that starts after the end tag ``</…end_tag_local_name>`` in the first bytes.

    Cheap and forgiving like :func:`sniff_root` (an envelope's payload, e.g. the
    invoice after an SBDH header): the element's prefix is resolved from its own
    start tag, then from the root's. None when the head ends before it.
    """
    text = _sniff_text(head)
    root = _root_start_tag(text) if text is not None else None
    if text is None or root is None:
        return None
    end_tag = re.compile(rf"</(?:[A-Za-z_][\w.-]*:)?{re.escape(end_tag_local_name)}[ \t\r\n]*>")
    end = end_tag.search(text, root.end())
    position = _root_position(text, end.end()) if end is not None else None
    tag = _ROOT_START_TAG.match(text, position) if position is not None else None
    if tag is None:
        return None
    return RootElement(
        namespace=_namespace(tag.group(1), root.group(3), tag.group(3)), local_name=tag.group(2)
    )
