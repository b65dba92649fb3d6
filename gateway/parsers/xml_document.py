"""The steps every one-invoice-per-file XML format shares: safe parse, root check, XSD, extraction.

UBL, CII and ZUGFeRD 1.0 differ only in which root elements they accept, which
schema applies, and where the business terms sit; everything else — how a refused
file is reported, when extraction is attempted, which issues travel with a
document, what the result says about the e-invoice (:class:`EInvoiceFacts`) —
is the same and lives here once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from gateway.errors import InputError
from gateway.limits import Limits
from gateway.model import EInvoiceFacts, Invoice, Issue, ParseResult
from gateway.parsers.xml_fields import FieldReader
from gateway.parsers.xml_safety import parse_xml
from gateway.parsers.xsd import DEFAULT_MAX_ISSUES, validate


@dataclass(frozen=True, slots=True)
class Identified:
    """What a format made of a parsed file: the invoice element, what it is, and its XSD.

    ``document`` is the root, or the invoice taken out of an envelope (SBDH);
    ``schema`` is a key of :data:`gateway.parsers.xsd.SCHEMAS`.
    """

    document: etree._Element
    facts: EInvoiceFacts
    schema: str


def guideline_id(node: etree._Element, xpath: etree.XPath) -> str | None:
    """BT-24 as written (the first non-blank value), read before the XSD so a refused file still says it."""
    for element in xpath(node):
        value = "".join(element.itertext()).strip()
        if value:
            return value
    return None


def parse_invoice_file(
    data: bytes,
    limits: Limits,
    *,
    format_id: str,
    identify: Callable[[etree._Element], Identified | Issue],
    extract: Callable[[etree._Element, FieldReader], Invoice | None],
    facts_from_head: Callable[[bytes], EInvoiceFacts | None],
) -> ParseResult:
    """One XML file → one :class:`Invoice`, or fatal issues and no document.

    ``identify`` says what the root is, or returns the fatal issue saying why it is
    not this format; ``extract`` returns None after recording a fatal issue on the
    reader; ``facts_from_head`` says what the file looked like when it cannot even
    be parsed. The result carries the e-invoice facts whenever they are known, and
    the parsed invoice element (``xml``) once it has passed its XSD.
    """
    try:
        root = parse_xml(data, limits)
    except InputError as error:
        issue = Issue(error.code, str(error), location=error.location)
        return ParseResult(format_id, issues=(issue,), einvoice=facts_from_head(data))
    found = identify(root)
    if isinstance(found, Issue):
        return ParseResult(format_id, issues=(found,), einvoice=facts_from_head(data))
    facts = found.facts
    schema_issues = validate(
        found.document, found.schema, max_issues=min(limits.max_issues_per_file, DEFAULT_MAX_ISSUES)
    )
    if schema_issues:
        return ParseResult(format_id, issues=tuple(schema_issues), einvoice=facts)
    reader = FieldReader(limits)
    invoice = extract(found.document, reader)
    documents = () if invoice is None else (invoice,)  # None: the reader recorded a fatal issue saying why
    return ParseResult(
        format_id, documents=documents, issues=tuple(reader.issues), einvoice=facts, xml=found.document
    )


def wrong_root(root: etree._Element, expected_root: str, format_name: str) -> Issue:
    """The fatal issue for a root element this format does not read."""
    name = etree.QName(root).localname if isinstance(root.tag, str) else str(root.tag)
    return Issue(
        "GW-FORMAT-UNKNOWN",
        f"The root element is {name!r}, not {expected_root}; the file cannot be read as {format_name}.",
        location=f"line {root.sourceline}",
    )
