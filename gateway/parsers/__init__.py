"""The parser registry: an explicit tuple, no plug-in discovery.

``detect`` asks every parser's cheap ``sniff``; exactly one must claim the
file. Two parsers claiming the same file is a bug in a sniff rule and is
reported, never settled by a coin toss (beangulp's rule).
"""

from __future__ import annotations

from types import ModuleType

from gateway.errors import UnknownFormat
from gateway.limits import Limits
from gateway.model import Issue, ParseResult
from gateway.parsers import cii as cii
from gateway.parsers import csv_batch as csv_batch
from gateway.parsers import facturx as facturx
from gateway.parsers import ubl as ubl
from gateway.parsers.base import NO_OPTIONS, SNIFF_BYTES, Parser, ParserOptions

PARSERS: tuple[ModuleType, ...] = (ubl, cii, facturx, csv_batch)

FORMATS: tuple[str, ...] = tuple(p.FORMAT for p in PARSERS)


def get(format_id: str) -> Parser:
    """The parser whose ``FORMAT`` is ``format_id``."""
    for parser in PARSERS:
        if format_id == parser.FORMAT:
            return parser
    raise UnknownFormat(
        f"There is no parser for the format '{format_id}'. Known formats: {', '.join(FORMATS)}.",
        code="GW-FORMAT-UNKNOWN",
    )


def detect(head: bytes, name: str) -> Parser:
    """The one parser that claims a file, from its first bytes and its name."""
    claimants = [p for p in PARSERS if p.sniff(head[:SNIFF_BYTES], name)]
    if not claimants:
        raise UnknownFormat(
            "The gateway does not recognise this file: it is not a UBL or CII invoice, nor a Factur-X / "
            "ZUGFeRD PDF, nor a CSV batch whose first line is the documented header "
            "(see docs/csv-batch-layout.md).",
            code="GW-FORMAT-UNKNOWN",
        )
    if len(claimants) > 1:
        raise UnknownFormat(
            f"The file looks like several formats at once ({', '.join(p.FORMAT for p in claimants)}); "
            "it was not processed so that it is not read the wrong way.",
            code="GW-FORMAT-AMBIGUOUS",
        )
    return claimants[0]


def parse_file(
    data: bytes, name: str, limits: Limits, format_id: str = "auto", options: ParserOptions = NO_OPTIONS
) -> ParseResult:
    """Detect (unless ``format_id`` is fixed) and parse with the channel's ``options``; never
    raises for bad content."""
    if not data.strip():
        return ParseResult(
            format="unknown",
            issues=(Issue("GW-FILE-EMPTY", "The file is empty: there is nothing to assign."),),
        )
    try:
        parser = detect(data, name) if format_id == "auto" else get(format_id)
    except UnknownFormat as err:
        return ParseResult(format="unknown", issues=(Issue(err.code, str(err), location=err.location),))
    return parser.parse(data, limits, options)


#: Formats that hold one invoice as an XML tree: capped by ``Limits.max_xml_bytes``.
XML_FORMATS = frozenset({ubl.FORMAT, cii.FORMAT})
#: Formats that are PDFs (one invoice XML inside): capped by ``Limits.max_pdf_bytes``.
PDF_FORMATS = frozenset({facturx.FORMAT})


def size_limit(head: bytes, name: str, limits: Limits, format_id: str = "auto") -> int:
    """The largest file of this format the gateway reads, told from its first bytes.

    An XML invoice is parsed as a whole tree that costs several times its size in
    memory, so it is refused by size before it is even read; a Factur-X PDF is one
    invoice with its picture (``max_pdf_bytes``); a CSV batch may be far larger.
    """
    try:
        parser = detect(head, name) if format_id == "auto" else get(format_id)
    except UnknownFormat:
        return limits.max_file_bytes  # parse_file says why, on whatever it reads
    if parser.FORMAT in XML_FORMATS:
        return limits.max_xml_bytes
    return limits.max_pdf_bytes if parser.FORMAT in PDF_FORMATS else limits.max_file_bytes
