"""The Factur-X / ZUGFeRD conventions PDF extraction relies on, apart from the PDF mechanics.

Two questions are answered here, with no PDF library involved:

* **Which embedded XML is the invoice?** Its name varies (``factur-x.xml``
  for Factur-X and ZUGFeRD ≥ 2.1, ``zugferd-invoice.xml`` for 2.0,
  ``ZUGFeRD-invoice.xml`` for 1.0, ``xrechnung.xml``, or anything ending in
  ``.xml``) and a PDF may carry several. The root element decides first (an
  invoice syntax we know beats an unknown one), then the name order above,
  then CII before UBL before ZUGFeRD 1.0 (:func:`rank_invoices`).
* **Which profile does the PDF claim?** A hybrid invoice states it twice: in
  the XMP metadata (``fx:ConformanceLevel``, ``zf:…`` for ZUGFeRD 1.0 / 2.0)
  and in the XML's BT-24. When they disagree the producer is broken.
  :func:`read_xmp` reads the first, written as elements or as attributes
  (the ZUGFeRD 1.0 corpus files), with any prefix; both map to one vocabulary
  (``MINIMUM``, ``BASIC WL``, ``BASIC``, ``EN 16931``, ``EXTENDED``,
  ``XRECHNUNG``) and :func:`conformance_level_matches` compares it with the
  profile :func:`gateway.parsers.profiles.profile_of` reads from BT-24.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.errors import InputError
from gateway.limits import Limits
from gateway.model import Issue, Severity
from gateway.parsers.profiles import PROFILE_LABELS, Profile, profile_of, zugferd1_level
from gateway.parsers.xml_safety import parse_xml, sniff_root

XMP_MISMATCH = "GW-PDF-XMP-MISMATCH"

#: Preferred attachment names, best first (exact spelling, then case-insensitive).
KNOWN_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "ZUGFeRD-invoice.xml", "xrechnung.xml")
#: (namespace, root local name) → kind; the kinds in order of preference.
INVOICE_ROOTS = {
    ("urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100", "CrossIndustryInvoice"): "cii",
    ("urn:oasis:names:specification:ubl:schema:xsd:Invoice-2", "Invoice"): "ubl",
    ("urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2", "CreditNote"): "ubl",
    ("urn:ferd:CrossIndustryDocument:invoice:1p0", "CrossIndustryDocument"): "zugferd1",
}
KIND_ORDER = ("cii", "ubl", "zugferd1")
_KIND_WORDS = {
    "cii": "Factur-X / ZUGFeRD 2, CII",
    "ubl": "UBL",
    "zugferd1": "ZUGFeRD 1.0",
    None: "no invoice",
}

#: fx (Factur-X, ZUGFeRD ≥ 2.1), zf (ZUGFeRD 2.0 ``urn:zugferd:…2p0#``, ZUGFeRD 1.0 ``urn:ferd:…1p0#``).
_XMP_NAMESPACE = re.compile(r"^urn:(?:factur-x|zugferd|ferd):pdfa:CrossIndustryDocument:invoice:\dp\d#$")

#: XMP spellings (upper case, blanks, ``-`` and ``_`` removed) → the profile they name.
_XMP_LEVELS = {
    "MINIMUM": "MINIMUM",
    "BASICWL": "BASIC WL",
    "BASIC": "BASIC",
    "EN16931": "EN 16931",
    "COMFORT": "EN 16931",  # ZUGFeRD 1.0 / 2.0 name of the EN 16931 profile
    "EXTENDED": "EXTENDED",
    "XRECHNUNG": "XRECHNUNG",
}

#: The profiles (:func:`gateway.parsers.profiles.profile_of`) each XMP level is consistent with.
#: Factur-X has no XMP level for EXTENDED-CTC-FR: its producers write EXTENDED.
_XMP_MATCHES: dict[str, frozenset[Profile]] = {
    "MINIMUM": frozenset({"minimum"}),
    "BASIC WL": frozenset({"basicwl"}),
    "BASIC": frozenset({"basic"}),
    "EN 16931": frozenset({"en16931"}),
    "EXTENDED": frozenset({"extended", "extended-ctc-fr"}),
    "XRECHNUNG": frozenset({"xrechnung"}),
}
#: A ZUGFeRD 1.0 level (the end of its BT-24) → the XMP level it must be described with.
_ZUGFERD1_XMP = {"basic": "BASIC", "comfort": "EN 16931", "extended": "EXTENDED"}


def root_kind(xml: bytes) -> str | None:
    """``cii``, ``ubl`` or ``zugferd1`` from the root element (sniffed, not parsed), else None."""
    root = sniff_root(xml[:65536])
    return INVOICE_ROOTS.get((root.namespace or "", root.local_name)) if root else None


def _name_rank(name: str) -> int:
    """Position in :data:`KNOWN_NAMES`: exact spelling first, then ignoring case; unknown names last."""
    if name in KNOWN_NAMES:
        return KNOWN_NAMES.index(name)
    lowered = [known.lower() for known in KNOWN_NAMES]
    return lowered.index(name.lower()) if name.lower() in lowered else len(KNOWN_NAMES)


@dataclass(frozen=True, slots=True)
class XmlAttachment:
    """One embedded XML file: its (display) name, bytes, root kind and position in the PDF."""

    name: str
    data: bytes
    kind: str | None
    order: int

    @property
    def is_invoice_candidate(self) -> bool:
        """A known invoice root, or a known invoice name (its parser will say what is wrong)."""
        return self.kind is not None or _name_rank(self.name) < len(KNOWN_NAMES)

    def described(self) -> str:
        return f"'{self.name}' ({_KIND_WORDS[self.kind]})"


def rank_invoices(attachments: list[XmlAttachment]) -> list[XmlAttachment]:
    """The invoice candidates, best first.

    >>> a = XmlAttachment("ZUGFeRD-invoice.xml", b"", "zugferd1", 0)
    >>> [x.name for x in rank_invoices([a, XmlAttachment("factur-x.xml", b"", "cii", 1)])]
    ['factur-x.xml', 'ZUGFeRD-invoice.xml']
    """

    def rank(item: XmlAttachment) -> tuple[bool, int, int, int]:
        kind_rank = KIND_ORDER.index(item.kind) if item.kind else len(KIND_ORDER)
        return (item.kind is None, _name_rank(item.name), kind_rank, item.order)

    return sorted((item for item in attachments if item.is_invoice_candidate), key=rank)


def xmp_profile(xmp_level: str | None) -> str | None:
    """The profile an XMP ``ConformanceLevel`` names, or None if it names none.

    >>> xmp_profile("basic-wl"), xmp_profile("COMFORT"), xmp_profile("no thing")
    ('BASIC WL', 'EN 16931', None)
    """
    if xmp_level is None:
        return None
    return _XMP_LEVELS.get(re.sub(r"[\s_-]+", "", xmp_level).upper())


def conformance_level_matches(xmp_level: str | None, guideline_id: str | None) -> bool:
    """True when the XMP level and BT-24 name the same profile (both must be known).

    >>> conformance_level_matches("EN 16931", "urn:cen.eu:en16931:2017")
    True
    >>> conformance_level_matches("BASIC", "urn:factur-x.eu:1p0:minimum")
    False
    """
    claimed = xmp_profile(xmp_level)
    if claimed is None:
        return False
    profile = profile_of(guideline_id)
    if profile == "zugferd1":
        return _ZUGFERD1_XMP.get(zugferd1_level(guideline_id) or "") == claimed
    return profile is not None and profile in _XMP_MATCHES[claimed]


def xmp_mismatch_issue(
    xmp_level: str | None, guideline_id: str | None, severity: Severity = Severity.WARNING
) -> Issue:
    """The issue the caller emits when :func:`conformance_level_matches` is False."""
    claimed = f"'{xmp_level}'" if xmp_level else "no profile"
    profile = profile_of(guideline_id)
    inside = (PROFILE_LABELS[profile] if profile else None) or guideline_id or "nothing"
    if profile == "zugferd1":
        inside = f"{inside} {(zugferd1_level(guideline_id) or '').upper()}"
    return Issue(
        XMP_MISMATCH,
        f"The PDF's description (XMP metadata) gives {claimed} as the Factur-X profile, but the invoice "
        f"data inside says '{inside}' (BT-24). The invoicing software wrote inconsistent "
        "information: ask its supplier to fix it, and check that the invoice data is the one you meant.",
        severity=severity,
        location="PDF metadata (XMP)",
    )


def read_xmp(packet: bytes | None, limits: Limits) -> tuple[str | None, str | None]:
    """``(ConformanceLevel, DocumentFileName)`` from an XMP packet, or Nones.

    A packet that is missing, too large or not well-formed XML gives
    ``(None, None)``: it does not stop the invoice from being read.
    """
    if packet is None:
        return None, None
    try:
        root = parse_xml(packet, limits)
    except InputError:
        return None, None
    found: dict[str, str] = {}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # comments
        for qualified, value in [(element.tag, element.text or ""), *element.attrib.items()]:
            namespace, _, local = qualified[1:].partition("}") if qualified.startswith("{") else ("", "", "")
            if local in ("ConformanceLevel", "DocumentFileName") and _XMP_NAMESPACE.match(namespace):
                found.setdefault(local, value.strip())
    return found.get("ConformanceLevel") or None, found.get("DocumentFileName") or None
