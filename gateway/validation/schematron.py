"""Is this XML a conformant e-invoice? The official Schematron rule sets, run with Saxon.

The rule sets (:mod:`gateway.validation.rulesets`) are Schematron compiled to
XSLT 2.0, which lxml cannot run; ``saxonche`` (SaxonC-HE, no JVM) can. Compiling one
takes 0.1–1 s and validating an invoice a few milliseconds, so:

* **Compile once per process.** Each XSLT is compiled lazily, on first use, under a
  lock, and kept for the life of the process; a compilation failure is kept too, so
  a broken artefact costs one attempt, not one per document.
* **One executable per thread.** SaxonC executables are not thread-safe: each thread
  gets its own ``clone()`` of the compiled one (cheap: no recompilation).
* **Parse once, check many.** The document is parsed by the gateway's hardened lxml
  parser (never by Saxon: untrusted bytes do not reach a second XML parser), then
  serialised as ASCII with character references and handed to Saxon once; the same
  Saxon node goes through every rule set. SVRL comes back as text and is read with
  lxml, keeping only failed asserts and successful reports.

**Verdicts.** ``invalid`` when a rule set reports a fatal finding; ``error`` ("could
not validate") when no fatal finding was reported but a rule set could not run (the
official CII XSLTs raise ``XPTY0004`` on some repeated elements, a missing or broken
artefact fails to compile); ``valid`` only when every rule set ran and none reported
a fatal finding. An engine failure is never read as ``valid``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from lxml import etree  # type: ignore[import-untyped, unused-ignore]
from saxonche import PySaxonProcessor

from gateway.limits import Limits
from gateway.model import Issue, Severity
from gateway.parsers.xml_safety import new_hardened_parser, parse_xml
from gateway.validation.rulesets import RuleSet, load_stylesheet, syntax_of

Verdict = Literal["valid", "invalid", "error"]

_SVRL = "{http://purl.oclc.org/dsdl/svrl}"
_FINDING_TAGS = (f"{_SVRL}failed-assert", f"{_SVRL}successful-report")
_WARNING_FLAGS = frozenset({"warning", "warn", "information", "info"})
#: A rule id written at the head of the message, e.g. ``[BR-CO-15]-…`` or ``[BR-FR-01/BT-1] : …``.
_RULE_IN_TEXT = re.compile(r"^\s*\[([A-Z][A-Za-z0-9_./-]*)\]")
#: Factur-X numbers its asserts (``FX-SCH-A-000123``) and writes the business rule in the text.
_OPAQUE_ID = re.compile(r"^FX-SCH-[A-Z]-\d+$")
#: ``*:Name[namespace-uri()='…'][1]`` steps, as the Schematron skeleton writes locations.
_LOCATION_STEP = re.compile(r"\*:([\w.-]+)\[namespace-uri\(\)='([^']*)'\]")
_PREFIXES = {
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2": "",
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2": "",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2": "cac",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2": "cbc",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2": "ext",
    "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100": "rsm",
    "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100": "ram",
    "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100": "udt",
    "urn:un:unece:uncefact:data:standard:QualifiedDataType:100": "qdt",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One fired assertion (or report): ``rule_id`` is the business rule people know."""

    rule_id: str
    severity: Severity
    message: str
    location: str | None
    rule_set: str  # RuleSet.key
    assert_id: str | None = None  # the SVRL @id, when it differs from rule_id
    source: str = "EN16931"  # RuleSet.source: the Issue.source of this finding

    def to_issue(self) -> Issue:
        return Issue(self.rule_id, self.message, self.severity, self.location, self.source)


@dataclass(frozen=True, slots=True)
class SchematronReport:
    """The outcome of :func:`validate`; ``rule_sets`` names what was applied, with versions."""

    verdict: Verdict
    findings: tuple[Finding, ...]
    rule_sets: tuple[str, ...]
    errors: tuple[str, ...] = ()  # every reason a rule set did not check the document
    seconds: float = 0.0
    #: The part of ``errors`` that is no fault of the document: a rule set missing, broken or not
    #: made for its syntax (an installation or configuration fault, the same for every document).
    unavailable: tuple[str, ...] = ()

    @property
    def fatal(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.FATAL)

    @property
    def fired(self) -> frozenset[str]:
        """Every rule id that fired, whatever its severity."""
        return frozenset(f.rule_id for f in self.findings)

    def issues(self) -> list[Issue]:
        return [f.to_issue() for f in self.findings]


class _CompileFailure:
    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Compiled:
    executable: Any  # saxonche.PyXsltExecutable, never run directly: each thread runs a clone
    parameters: tuple[tuple[str, Any], ...]  # (name, parsed code list) given to every clone

    def clone(self) -> Any:
        executable = self.executable.clone()
        for name, value in self.parameters:
            executable.set_parameter(name, value)
        return executable


@dataclass
class _Engine:
    """The process's Saxon processor and compiled rule sets (see the module docstring)."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    processor: Any = None
    compiled: dict[RuleSet, _Compiled | _CompileFailure] = field(default_factory=dict)
    compilations: int = 0
    local: threading.local = field(default_factory=threading.local)

    def saxon(self) -> Any:
        with self.lock:
            if self.processor is None:
                self.processor = PySaxonProcessor(license=False)
            return self.processor

    def _compile(self, rule_set: RuleSet) -> _Compiled | _CompileFailure:
        with self.lock:
            if rule_set not in self.compiled:
                self.compilations += 1
                self.compiled[rule_set] = self._compile_now(rule_set)
            return self.compiled[rule_set]

    def _compile_now(self, rule_set: RuleSet) -> _Compiled | _CompileFailure:
        sheet = load_stylesheet(rule_set)
        try:
            saxon = self.saxon()
            xslt = saxon.new_xslt30_processor()
            if sheet.text is None:
                return _Compiled(xslt.compile_stylesheet(stylesheet_file=str(sheet.path)), ())
            xslt.set_cwd(str(sheet.path.parent))
            executable = xslt.compile_stylesheet(stylesheet_text=sheet.text, encoding="UTF-8")
            parameters = tuple(
                (name, saxon.parse_xml(xml_file_name=str(path))) for name, path in sheet.documents
            )
            return _Compiled(executable, parameters)
        except Exception as error:  # a missing, malformed or unsupported artefact
            return _CompileFailure(f"{rule_set.label} could not be compiled: {_one_line(error)}")

    def executable(self, rule_set: RuleSet) -> Any:
        """This thread's clone of the compiled rule set, or the compile failure."""
        compiled = self.compiled.get(rule_set)
        if compiled is None:
            compiled = self._compile(rule_set)
        if isinstance(compiled, _CompileFailure):
            return compiled
        clones: dict[RuleSet, tuple[_Compiled, Any]] = self.local.__dict__.setdefault("clones", {})
        mine = clones.get(rule_set)
        if mine is None or mine[0] is not compiled:  # first use in this thread, or recompiled since
            mine = clones[rule_set] = (compiled, compiled.clone())
        return mine[1]


_ENGINE = _Engine()


def compile_count() -> int:
    """How many compilations this process has run (for tests and benchmarks)."""
    return _ENGINE.compilations


def warm_up(rule_sets: Iterable[RuleSet]) -> None:
    """Compile now rather than on the first document (e.g. at worker start)."""
    for rule_set in rule_sets:
        _ENGINE.executable(rule_set)


def clear_cache(rule_set: RuleSet | None = None) -> None:
    """Forget one compiled rule set, or all (tests only: the next use compiles again)."""
    with _ENGINE.lock:
        if rule_set is None:
            _ENGINE.compiled.clear()
        else:
            _ENGINE.compiled.pop(rule_set, None)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:500] or type(error).__name__


def _root(document: bytes | etree._Element | etree._ElementTree, limits: Limits) -> etree._Element:
    if isinstance(document, bytes):
        return parse_xml(document, limits)
    return document.getroot() if isinstance(document, etree._ElementTree) else document


def _saxon_text(root: etree._Element) -> str:
    """The document as ASCII XML text (non-ASCII as character references): safe in any encoding."""
    return str(etree.tostring(root, encoding="ascii").decode("ascii"))


def _svrl_parser() -> etree.XMLParser:
    parser = getattr(_ENGINE.local, "svrl_parser", None)
    if parser is None:
        parser = _ENGINE.local.svrl_parser = new_hardened_parser()
    return parser


def _location(raw: str | None) -> str | None:
    if not raw:
        return None
    return _LOCATION_STEP.sub(_prefixed_step, raw)


def _prefixed_step(match: re.Match[str]) -> str:
    prefix = _PREFIXES.get(match.group(2), "*")
    return f"{prefix}:{match.group(1)}" if prefix else match.group(1)


def _anonymous(rule_set: RuleSet, element: etree._Element) -> str:
    """An id for an assert or report the artefact left unnamed (Factur-X "not used" reports)."""
    kind = "report" if element.tag == _FINDING_TAGS[1] else "assert"
    return f"{rule_set.key}:{kind}"


def _findings(svrl: str, rule_set: RuleSet) -> list[Finding]:
    root = etree.fromstring(svrl.encode("utf-8"), _svrl_parser())
    found = []
    for element in root.iter(*_FINDING_TAGS):
        message = " ".join("".join(element.itertext()).split())
        svrl_id = element.get("id")
        in_text = _RULE_IN_TEXT.match(message)
        rule_id = svrl_id
        if in_text and (not svrl_id or _OPAQUE_ID.match(svrl_id)):
            rule_id = in_text.group(1)
        flag = (element.get("flag") or element.get("role") or "").strip().lower()
        found.append(
            Finding(
                rule_id=rule_id or _anonymous(rule_set, element),
                severity=Severity.WARNING if flag in _WARNING_FLAGS else Severity.FATAL,
                message=message,
                location=_location(element.get("location")),
                rule_set=rule_set.key,
                assert_id=svrl_id if svrl_id != rule_id else None,
                source=rule_set.source,
            )
        )
    return found


def validate(
    document: bytes | etree._Element | etree._ElementTree,
    rule_sets: Sequence[RuleSet],
    *,
    limits: Limits | None = None,
) -> SchematronReport:
    """Run ``rule_sets`` over one document and say whether it conforms.

    ``document`` is the parsed tree (the fast path: the parser already built it) or
    raw bytes, which go through the gateway's hardened parser first; unreadable bytes
    raise that parser's :class:`~gateway.errors.InputError`, as everywhere else.
    """
    started = time.perf_counter()
    root = _root(document, limits or Limits())
    tag = str(root.tag)
    syntax = syntax_of(tag)
    text = _saxon_text(root)
    findings: list[Finding] = []
    unavailable: list[str] = [] if rule_sets else ["no rule set was given, so nothing was checked"]
    errors: list[str] = list(unavailable)
    node = None
    for rule_set in rule_sets:
        if syntax not in rule_set.syntaxes:  # its rules would match nothing and report nothing
            unavailable.append(f"{rule_set.label} does not apply to a {syntax or tag} document")
            errors.append(unavailable[-1])
            continue
        executable = _ENGINE.executable(rule_set)
        if isinstance(executable, _CompileFailure):
            unavailable.append(executable.reason)
            errors.append(executable.reason)
            continue
        try:
            if node is None:
                node = _ENGINE.saxon().parse_xml(xml_text=text)
            findings.extend(_findings(executable.transform_to_string(xdm_node=node), rule_set))
        except Exception as error:  # whatever the engine raised, the document was not checked
            errors.append(f"{rule_set.label} could not validate the document: {_one_line(error)}")
    verdict: Verdict = "valid"
    if any(f.severity is Severity.FATAL for f in findings):
        verdict = "invalid"
    elif errors:
        verdict = "error"
    labels = tuple(rule_set.label for rule_set in rule_sets)
    seconds = time.perf_counter() - started
    return SchematronReport(verdict, tuple(findings), labels, tuple(errors), seconds, tuple(unavailable))
