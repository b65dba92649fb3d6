"""The steps every one-invoice-per-file XML format shares: safe parse, root check, XSD, extraction.

UBL and CII differ only in which root elements they accept, which schema
applies, and where the business terms sit; everything else — how a refused
file is reported, when extraction is attempted, which issues travel with a
document — is the same and lives here once.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from gateway.errors import InputError
from gateway.limits import Limits
from gateway.model import Invoice, Issue, ParseResult
from gateway.parsers.xml_fields import FieldReader
from gateway.parsers.xml_safety import parse_xml
from gateway.parsers.xsd import DEFAULT_MAX_ISSUES, validate


def parse_invoice_file(
    data: bytes,
    limits: Limits,
    *,
    format_id: str,
    schema_of: Callable[[etree._Element], str | None],
    expected_root: str,
    extract: Callable[[etree._Element, FieldReader], Invoice | None],
) -> ParseResult:
    """One XML file → one :class:`Invoice`, or fatal issues and no document.

    ``schema_of`` names the XSD for a root element (None: not this format);
    ``expected_root`` says in words what the root should have been;
    ``extract`` returns None after recording a fatal issue on the reader.
    """
    try:
        root = parse_xml(data, limits)
    except InputError as error:
        return ParseResult(format_id, issues=(Issue(error.code, str(error), location=error.location),))
    schema = schema_of(root) if isinstance(root.tag, str) else None
    if schema is None:
        issue = Issue(
            "GW-FORMAT-UNKNOWN",
            f"The root element is {etree.QName(root).localname!r}, not {expected_root}; "
            f"the file cannot be read as {format_id.upper()}.",
            location=f"line {root.sourceline}",
        )
        return ParseResult(format_id, issues=(issue,))
    schema_issues = validate(root, schema, max_issues=min(limits.max_issues_per_file, DEFAULT_MAX_ISSUES))
    if schema_issues:
        return ParseResult(format_id, issues=tuple(schema_issues))
    reader = FieldReader(limits)
    invoice = extract(root, reader)
    if invoice is None:  # the reader recorded a fatal issue saying why
        return ParseResult(format_id, issues=tuple(reader.issues))
    return ParseResult(format_id, documents=(invoice,), issues=tuple(reader.issues))
