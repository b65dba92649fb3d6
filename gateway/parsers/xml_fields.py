"""Reading EN 16931 business terms out of a parsed UBL or CII tree.

Both XML parsers share one reader so a bad value is reported the same way in
every syntax: a fatal issue that names the business term and the XPath, instead
of an exception (``GW-AMOUNT-INVALID`` for an amount, ``GW-VALUE-INVALID`` for
anything else). Amounts are read by :func:`gateway.money.parse_amount`, exactly
as written: the xsd:decimal lexical form within the gateway's digit caps, so a
30-digit total the XSD lets through is refused here, with its value shown, before
any sum is attempted. Dates become ``date``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from gateway.limits import Limits
from gateway.model import Issue, Note, PartyId, Severity
from gateway.money import AmountError, parse_amount

_ISO_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})?")
_DATE_102 = re.compile(r"(\d{4})(\d{2})(\d{2})")
_NOTE_SUBJECT_PREFIX = re.compile(r"#([A-Za-z]{3})#(.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Field:
    """One business term: its id, its name for people, and where it lives.

    ``xpath`` is evaluated from a context node; ``path`` is the absolute XPath
    shown to people. ``free_text`` terms (notes, payment terms) are exempt
    from the per-value length cap.
    """

    bt: str
    label: str
    xpath: etree.XPath
    path: str
    free_text: bool = False


def field(
    bt: str,
    label: str,
    relative: str,
    namespaces: dict[str, str],
    *,
    base: str,
    free_text: bool = False,
) -> Field:
    """Precompile ``relative`` (evaluated from the node at ``base``) once, at import time."""
    return Field(
        bt=bt,
        label=label,
        xpath=etree.XPath(relative, namespaces=namespaces, smart_strings=False),
        path=f"{base}/{relative}",
        free_text=free_text,
    )


def element_text(element: etree._Element) -> str:
    """The character data of an element, skipping comments a sender left inside it."""
    if len(element) == 0:
        return element.text or ""
    return "".join(element.itertext())


def _value_of(result: etree._Element | str) -> tuple[str, int | None]:
    """The text of an XPath result (an element, or an attribute value) and its source line."""
    if isinstance(result, str):
        return result, None
    return element_text(result), result.sourceline


class FieldReader:
    """Reads values from one document and collects issues instead of raising."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.issues: list[Issue] = []

    # -- reporting ---------------------------------------------------------
    def _invalid(self, fld: Field, line: int | None, why: str, code: str = "GW-VALUE-INVALID") -> None:
        where = f" (line {line})" if line else ""
        self.issues.append(
            Issue(
                code=code,
                message=f"The {fld.label} ({fld.bt}) at {fld.path}{where} cannot be read: {why}.",
                severity=Severity.FATAL,
                location=fld.path,
            )
        )

    def require(self, fld: Field, value: object) -> None:
        """Record ``GW-REQUIRED-MISSING`` when a mandatory term is absent."""
        if value is None:
            self.issues.append(
                Issue(
                    code="GW-REQUIRED-MISSING",
                    message=f"The {fld.label} ({fld.bt}) is missing.",
                    severity=Severity.FATAL,
                    location=fld.path,
                )
            )

    # -- raw text ----------------------------------------------------------
    def _clean(self, fld: Field, raw: str, line: int | None) -> str | None:
        value = raw.strip()
        if not value:
            return None
        if not fld.free_text and len(value) > self.limits.max_field_chars:
            self._invalid(
                fld, line, f"it is {len(value):,} characters long, more than {self.limits.max_field_chars:,}"
            )
            return None
        return value

    def text(self, node: etree._Element | None, fld: Field) -> str | None:
        """The first non-empty value of ``fld`` under ``node``, stripped."""
        if node is None:
            return None
        for result in fld.xpath(node):
            value = self._clean(fld, *_value_of(result))
            if value is not None:
                return value
        return None

    def texts(self, node: etree._Element | None, fld: Field) -> list[str]:
        """Every non-empty value of ``fld`` under ``node``, in document order."""
        if node is None:
            return []
        values = (self._clean(fld, *_value_of(result)) for result in fld.xpath(node))
        return [value for value in values if value is not None]

    def nodes(self, node: etree._Element | None, fld: Field) -> list[etree._Element]:
        return [] if node is None else list(fld.xpath(node))

    def node(self, node: etree._Element | None, fld: Field) -> etree._Element | None:
        found = self.nodes(node, fld)
        return found[0] if found else None

    def identifiers(self, node: etree._Element | None, fld: Field) -> tuple[PartyId, ...]:
        """Every identifier element of ``fld`` with its ``@schemeID``."""
        found: list[PartyId] = []
        for element in self.nodes(node, fld):
            value = self._clean(fld, element_text(element), element.sourceline)
            if value is not None:
                scheme = (element.get("schemeID") or "").strip() or None
                found.append(PartyId(value=value, scheme=scheme))
        return tuple(found)

    # -- typed values ------------------------------------------------------
    def iso_date(self, node: etree._Element | None, fld: Field) -> date | None:
        """An xsd:date (``YYYY-MM-DD``, optional zone, which a calendar date ignores)."""
        element = self.node(node, fld)
        if element is None:
            return None
        raw = element_text(element).strip()
        if not raw:
            return None
        matched = _ISO_DATE.fullmatch(raw)
        try:
            if matched is None:
                raise ValueError
            return date.fromisoformat(matched.group(1))
        except ValueError:
            self._invalid(fld, element.sourceline, f"'{raw}' is not a date in the form YYYY-MM-DD")
            return None

    def date_102(self, node: etree._Element | None, fld: Field) -> date | None:
        """A CII ``udt:DateTimeString``: only format 102 (``YYYYMMDD``) names a day."""
        element = self.node(node, fld)
        if element is None:
            return None
        raw = element_text(element).strip()
        if not raw:
            return None
        date_format = (element.get("format") or "102").strip()
        if date_format != "102":
            self._invalid(
                fld,
                element.sourceline,
                f"the date format is '{date_format}'; only 102 (YYYYMMDD) is accepted",
            )
            return None
        matched = _DATE_102.fullmatch(raw)
        try:
            if matched is None:
                raise ValueError
            return date(int(matched.group(1)), int(matched.group(2)), int(matched.group(3)))
        except ValueError:
            self._invalid(fld, element.sourceline, f"'{raw}' is not a date in the form YYYYMMDD (format 102)")
            return None

    def amount(self, node: etree._Element | None, fld: Field, currency: str | None = None) -> Decimal | None:
        """The first amount of ``fld``; with ``currency``, the one in that currency.

        An element without ``@currencyID`` counts as being in any currency
        (CII writes most amounts bare).
        """
        chosen: etree._Element | None = None
        for element in self.nodes(node, fld):
            element_currency = (element.get("currencyID") or "").strip()
            if currency is None or not element_currency or element_currency == currency:
                chosen = element
                break
        if chosen is None:
            return None
        raw = element_text(chosen).strip()
        if not raw:
            return None
        try:
            return parse_amount(raw)
        except AmountError as error:
            self._invalid(fld, chosen.sourceline, str(error), error.code)
            return None


def split_subject_code(raw: str) -> Note:
    """A UBL ``cbc:Note``: ``#ACC#text`` carries the BT-21 subject code before the text."""
    matched = _NOTE_SUBJECT_PREFIX.fullmatch(raw)
    if matched is None:
        return Note(text=raw)
    return Note(text=matched.group(2).strip(), subject_code=matched.group(1).upper())
