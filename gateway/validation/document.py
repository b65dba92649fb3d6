"""Checks of one canonical document that hold whatever format it came in.

The messages end up in the acknowledgement a client's accountant reads, so
each one names the business term in words and by its EN 16931 number and
shows the figures involved: the reader should be able to fix the invoice in
their ERP without asking what the gateway meant.

Identifier checks go through python-stdnum. A batch repeats the same seller
and a few hundred debtors over thousands of rows, so validity is cached per
distinct value.

Values from the file are shown through :func:`gateway.text.escape_controls`:
a message must never carry a raw control character to the reader's screen.
"""

from __future__ import annotations

import dataclasses
import operator
import re
import types
import typing
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from stdnum.eu import vat as eu_vat
from stdnum.fr import siren as fr_siren
from stdnum.fr import siret as fr_siret

from gateway.model import (
    CREDIT_NOTE_TYPE_CODES,
    INVOICE_TYPE_CODES,
    Invoice,
    Issue,
    Party,
    PartyId,
    Severity,
)
from gateway.money import MAX_DECIMALS, MAX_INTEGER_DIGITS, PRECISION, add, subtract
from gateway.text import describe_control, escape_controls, find_controls

SUPPORTED_TYPE_CODES = INVOICE_TYPE_CODES | CREDIT_NOTE_TYPE_CODES

#: ISO 4217 alphabetic codes in use. XTS (testing) and XXX (no currency) are
#: left out on purpose: neither can be the currency of a receivable.
_ISO_4217_TEXT = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
    CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN
    MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD
    SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX
    USD USN UYI UYU UYW UZS VED VES VND VUV WST XAD XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD
    XPF XPT XSU XUA YER ZAR ZMW ZWG
"""
ISO_4217_CODES = frozenset(_ISO_4217_TEXT.split())

#: (role in messages, legal id BT, identifier BT, VAT BT) per party of the document.
_SELLER = ("seller's", "BT-30", "BT-29", "BT-31")
_BUYER = ("buyer's", "BT-47", "BT-46", "BT-48")
_PAYEE = ("payee's", "BT-61", "BT-60", None)

_VAT_NOISE = re.compile(r"[\s.\-]")
_EU_VAT_PREFIXES = frozenset(code.upper() for code in eu_vat.MEMBER_STATES) | {"EL"}


@lru_cache(maxsize=4096)
def siren_is_valid(value: str) -> bool:
    return bool(fr_siren.is_valid(value))


@lru_cache(maxsize=4096)
def siret_is_valid(value: str) -> bool:
    return bool(fr_siret.is_valid(value))


@lru_cache(maxsize=4096)
def vat_is_valid(value: str) -> bool:
    """EU VAT numbers are checked with python-stdnum; other countries only need
    their ISO 3166 prefix, as python-stdnum has no common rule for them."""
    compact = _VAT_NOISE.sub("", value).upper()
    if len(compact) < 4 or not compact[:2].isalpha() or not compact[:2].isascii():
        return False
    if compact[:2] in _EU_VAT_PREFIXES:
        return bool(eu_vat.is_valid(compact))
    return compact[2:].isalnum() and compact[2:].isascii()


def amount_text(amount: Decimal) -> str:
    """An amount as people write it in accounting (two decimals unless it has more).

    Formatting only pads or shows digits, never rounds, so any Decimal can be shown; one
    longer than the money context's digits (never read from a file) keeps its exponent.
    """
    if amount.adjusted() >= PRECISION:
        return str(amount)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -2:
        return f"{amount:.2f}"
    return f"{amount:f}"


#: No receivable comes near this; beyond it the amount is a typing error or an attack on the ledger's columns.
MAX_AMOUNT = Decimal("1000000000000000")  # 10^15
#: What :func:`gateway.money.parse_amount` can produce; sums of such amounts are exact in the money context.
_COMPUTABLE_BELOW = Decimal(10) ** MAX_INTEGER_DIGITS
_TOTAL_TERMS = (  # attribute, words, the EN 16931 rule limiting its decimals
    ("line_net", "sum of line net amounts (BT-106)", "BR-DEC-09"),
    ("allowances", "sum of allowances (BT-107)", "BR-DEC-10"),
    ("charges", "sum of charges (BT-108)", "BR-DEC-11"),
    ("tax_exclusive", "total without VAT (BT-109)", "BR-DEC-12"),
    ("tax", "total VAT (BT-110)", "BR-DEC-13"),
    ("tax_inclusive", "total with VAT (BT-112)", "BR-DEC-14"),
    ("prepaid", "paid amount (BT-113)", "BR-DEC-16"),
    ("rounding", "rounding amount (BT-114)", "BR-DEC-17"),
    ("amount_due", "amount due (BT-115)", "BR-DEC-18"),
)


def _check_amount_sizes(invoice: Invoice, issues: list[Issue], location: str | None) -> bool:
    """Document totals carry at most two decimals (EN 16931 BR-DEC rules) and stay below
    :data:`MAX_AMOUNT`; the gateway never rounds an amount it was given.

    True when every total is a number the money context adds up exactly: parsers only
    produce those, but a document built otherwise must not crash the sums.
    """
    computable = True
    for attribute, term, decimals_rule in _TOTAL_TERMS:
        amount = getattr(invoice.totals, attribute)
        if amount is None:
            continue
        exponent = amount.as_tuple().exponent
        if not isinstance(exponent, int):  # NaN, sNaN, Infinity
            computable = False
            issues.append(
                Issue(
                    "GW-AMOUNT-INVALID",
                    f"The {term} '{amount}' is not a number, so it cannot be an amount.",
                    location=location,
                )
            )
            continue
        if exponent < -2:
            issues.append(
                Issue(
                    decimals_rule,
                    f"The {term} {amount} has more than two decimals; amounts of an invoice are written "
                    "to the cent and the gateway never rounds them.",
                    location=location,
                )
            )
        magnitude = amount.copy_abs()
        if magnitude >= MAX_AMOUNT:
            issues.append(
                Issue(
                    "GW-AMOUNT-TOO-LARGE",
                    f"The {term} {amount_text(amount)} is larger than any invoice the gateway accepts "
                    f"({MAX_AMOUNT:,} or more); check the amount.",
                    location=location,
                )
            )
        if magnitude >= _COMPUTABLE_BELOW or exponent < -MAX_DECIMALS:
            computable = False
    return computable


def check_document(invoice: Invoice, *, buyer_matched_by: IdKind | None = None) -> list[Issue]:
    """Every problem found in ``invoice``; empty when it is fine. Pure, never raises.

    An identifier whose checksum fails is fatal only when it is the one the gateway recognises
    its party by (:func:`key_identifier`): the seller's, to tell it is the client; the buyer's,
    to find the debtor. Elsewhere (another identifier of the same party, the payee's) it is a
    warning: the receivable is still told apart, and the client should still correct it.
    ``buyer_matched_by`` names the buyer's identifier that found its debtor, when one was found
    (:meth:`gateway.factoring.eligibility.Eligibility.debtor_match`).
    """
    issues: list[Issue] = []
    location = invoice.location
    _check_controls(invoice, issues, location)
    _check_required(invoice, issues, location)
    size_issues: list[Issue] = []
    if _check_amount_sizes(invoice, size_issues, location):
        _check_totals(invoice, issues, location)
    issues.extend(size_issues)
    _check_party(invoice.seller, _SELLER, issues, location)
    _check_party(invoice.buyer, _BUYER, issues, location, buyer_matched_by)
    if invoice.payee is not None:
        _check_party(invoice.payee, _PAYEE, issues, location)
    if invoice.type_code not in SUPPORTED_TYPE_CODES:
        issues.append(
            Issue(
                "GW-TYPE-CODE-UNSUPPORTED",
                f"The document type code (BT-3) '{escape_controls(invoice.type_code)}' is not one the "
                "gateway accepts: use an "
                f"invoice code ({', '.join(sorted(INVOICE_TYPE_CODES, key=int))}) or a credit note code "
                f"({', '.join(sorted(CREDIT_NOTE_TYPE_CODES, key=int))}).",
                location=location,
            )
        )
    currencies = ((invoice.currency, "currency (BT-5)"), (invoice.tax_currency, "VAT currency (BT-6)"))
    for currency, term in currencies:
        if currency is not None and currency not in ISO_4217_CODES:
            issues.append(
                Issue(
                    "GW-CURRENCY-INVALID",
                    f"The {term} '{escape_controls(currency)}' is not an ISO 4217 currency code such as EUR.",
                    location=location,
                )
            )
    if invoice.is_credit_note and not any(ref.strip() for ref in invoice.preceding_invoices):
        issues.append(
            Issue(
                "GW-CREDIT-NOTE-NO-REFERENCE",
                f"Credit note {escape_controls(invoice.number)} does not say which invoice it reduces "
                "(preceding invoice, BT-25); the factor may ask for it.",
                severity=Severity.WARNING,
                location=location,
            )
        )
    return issues


def _missing(what: str, location: str | None) -> Issue:
    return Issue("GW-REQUIRED-MISSING", what, location=location)


def _check_required(invoice: Invoice, issues: list[Issue], location: str | None) -> None:
    if not invoice.number.strip():
        issues.append(_missing("The invoice number (BT-1) is missing.", location))
    if not (invoice.seller.name or "").strip():
        issues.append(_missing("The seller's name (BT-27) is missing.", location))
    if not (invoice.buyer.name or "").strip():
        issues.append(_missing("The buyer's name (BT-44) is missing.", location))
    totals = invoice.totals
    if totals.tax_exclusive is None:
        issues.append(_missing("The total without VAT (BT-109) is missing.", location))
    if totals.tax is None:
        issues.append(_missing("The total VAT (BT-110) is missing.", location))
    if totals.tax_inclusive is None:
        if totals.amount_due is None:
            issues.append(
                _missing(
                    "The total with VAT (BT-112) and the amount due (BT-115) are both missing: nothing "
                    "says what the debtor owes.",
                    location,
                )
            )
        else:
            issues.append(_missing("The total with VAT (BT-112) is missing.", location))


def _check_totals(invoice: Invoice, issues: list[Issue], location: str | None) -> None:
    """BR-CO-15 and BR-CO-16, exact: amounts are in cents, so no tolerance is needed.

    The sums go through :func:`gateway.money.add` and :func:`~gateway.money.subtract`, exact
    for any amount a parser reads (the caller has checked they are such), whatever context
    the caller runs in, and cheaper per document than entering the money context.
    """
    totals = invoice.totals
    net, tax, gross = totals.tax_exclusive, totals.tax, totals.tax_inclusive
    if net is not None and tax is not None and gross is not None and gross != (net_plus_tax := add(net, tax)):
        issues.append(
            Issue(
                "BR-CO-15",
                f"Total with VAT (BT-112) is {amount_text(gross)} but total without VAT (BT-109) "
                f"{amount_text(net)} plus VAT (BT-110) {amount_text(tax)} makes {amount_text(net_plus_tax)}.",
                location=location,
            )
        )
    due = totals.amount_due
    if due is None or gross is None:
        return
    prepaid, rounding = totals.prepaid, totals.rounding
    expected = gross
    if prepaid is not None:
        expected = subtract(expected, prepaid)
    if rounding is not None:
        expected = add(expected, rounding)
    if due != expected:
        terms = f"total with VAT (BT-112) {amount_text(gross)}"
        if prepaid is not None:
            terms += f" minus prepaid (BT-113) {amount_text(prepaid)}"
        if rounding is not None:
            terms += f" plus rounding (BT-114) {amount_text(rounding)}"
        issues.append(
            Issue(
                "BR-CO-16",
                f"Amount due (BT-115) is {amount_text(due)} but {terms} makes {amount_text(expected)}.",
                location=location,
            )
        )


#: Where an identifier sits in a party: its legal registration identifier (BT-30, BT-47, BT-61), one
#: of its identifiers (BT-29, BT-46, BT-60) or its VAT number (BT-31, BT-48).
IdKind = Literal["legal", "identifier", "vat"]


def _french_shaped(pid: PartyId) -> bool:
    """A SIREN or SIRET by its scheme, or by its 9 or 14 digits when it has none
    (as :meth:`~gateway.model.Party.siren_candidates` reads identifiers)."""
    if pid.scheme in ("0002", "0009"):
        return True
    return pid.scheme is None and len(re.sub(r"\D", "", pid.value)) in (9, 14)


def key_identifier(party: Party) -> IdKind | None:
    """The identifier the gateway recognises ``party`` by, as eligibility and the business key read it.

    Its SIREN or SIRET first (the legal identifier, then the other identifiers), else its VAT number,
    else its legal identifier in another scheme; ``None`` when it has no identifier at all.

    >>> key_identifier(Party(legal_id=PartyId("732829320", "0002"), vat_id="FR44732829320"))
    'legal'
    >>> key_identifier(Party(identifiers=(PartyId("C-42"),), vat_id="DE136695976"))
    'vat'
    """
    if party.legal_id is not None and _french_shaped(party.legal_id):
        return "legal"
    if any(_french_shaped(pid) for pid in party.identifiers):
        return "identifier"
    if party.vat_id is not None:
        return "vat"
    return "legal" if party.legal_id is not None else None


#: A problem of one identifier: (code, message, which identifier).
_Problem = tuple[str, str, IdKind]
_party_findings: dict[tuple[int, str], tuple[Party, tuple[_Problem, ...], IdKind | None]] = {}
_MAX_PARTY_FINDINGS = 65536


def _check_party(
    party: Party,
    terms: tuple[str, str, str, str | None],
    issues: list[Issue],
    location: str | None,
    matched_by: IdKind | None = None,
) -> None:
    """Identifier problems of one party, remembered per party object and role.

    Parsers share one Party object between all rows of the same seller or
    debtor, so this runs the stdnum checks once per party, not once per row.
    Fatal for the party's key identifier (``matched_by`` when given, else :func:`key_identifier`),
    never for the payee's; a warning for any other.
    """
    key = (id(party), terms[0])
    hit = _party_findings.get(key)
    if hit is None or hit[0] is not party:
        if len(_party_findings) >= _MAX_PARTY_FINDINGS:
            _party_findings.clear()
        hit = _party_findings[key] = (party, _party_problems(party, terms), key_identifier(party))
    if not hit[1]:
        return
    role = terms[0]
    recognised_by = None if role == _PAYEE[0] else (matched_by or hit[2])
    for code, message, kind in hit[1]:
        if kind == recognised_by:
            issues.append(Issue(code, message, location=location))
        else:
            issues.append(Issue(code, message + _not_refused(role), Severity.WARNING, location))


def _not_refused(role: str) -> str:
    if role == _PAYEE[0]:
        return (
            " The payee's identifiers do not decide whose receivable this is, so the document is not "
            "refused for it; correct it in the ERP."
        )
    who = role.removesuffix("'s")
    return (
        f" The gateway recognises the {who} by another of its identifiers, so the document is not "
        "refused for it; correct it in the ERP."
    )


def _party_problems(party: Party, terms: tuple[str, str, str, str | None]) -> tuple[_Problem, ...]:
    role, legal_term, id_term, vat_term = terms
    ids: list[tuple[PartyId, str, IdKind]] = [(pid, id_term, "identifier") for pid in party.identifiers]
    if party.legal_id is not None:
        ids.insert(0, (party.legal_id, legal_term, "legal"))
    found: list[_Problem] = []
    for pid, term, kind in ids:
        if pid.scheme == "0002" and not siren_is_valid(pid.value):
            found.append(
                (
                    "GW-SIREN-INVALID",
                    f"The {role} SIREN ({term}) '{escape_controls(pid.value)}' is not a valid SIREN: it must "
                    "have 9 digits, the last one a check digit.",
                    kind,
                )
            )
        elif pid.scheme == "0009" and not siret_is_valid(pid.value):
            found.append(
                (
                    "GW-SIRET-INVALID",
                    f"The {role} SIRET ({term}) '{escape_controls(pid.value)}' is not a valid SIRET: it must "
                    "have 14 digits (the SIREN and the establishment number), the last one a check digit.",
                    kind,
                )
            )
    if party.vat_id is not None and not vat_is_valid(party.vat_id):
        where = f" ({vat_term})" if vat_term else ""
        found.append(
            (
                "GW-VAT-INVALID",
                f"The {role} VAT number{where} '{escape_controls(party.vat_id)}' is not valid: it must start "
                "with the country code (FR for France) and pass that country's check.",
                "vat",
            )
        )
    return tuple(found)


# -- control characters ------------------------------------------------------------------

#: Where a text value sits, by attribute names from the invoice down (indexes left out):
#: (the words people read, the business term). Party fields are in :data:`_PARTY_TERMS`.
_TEXT_TERMS: dict[tuple[str, ...], tuple[str, str | None]] = {
    ("number",): ("invoice number", "BT-1"),
    ("type_code",): ("document type code", "BT-3"),
    ("currency",): ("currency", "BT-5"),
    ("tax_currency",): ("VAT currency", "BT-6"),
    ("buyer_reference",): ("buyer reference", "BT-10"),
    ("purchase_order_reference",): ("purchase order reference", "BT-13"),
    ("payment_terms",): ("payment terms", "BT-20"),
    ("notes", "subject_code"): ("note subject code", "BT-21"),
    ("notes", "text"): ("note", "BT-22"),
    ("specification_id",): ("specification identifier", "BT-24"),
    ("preceding_invoices",): ("preceding invoice reference", "BT-25"),
    ("payment_instructions", "means_code"): ("payment means code", "BT-81"),
    ("payment_instructions", "means_text"): ("payment means text", "BT-82"),
    ("payment_instructions", "remittance_information"): ("remittance information", "BT-83"),
    ("payment_instructions", "account_id"): ("payment account identifier", "BT-84"),
    ("payment_instructions", "account_name"): ("payment account name", "BT-85"),
    ("payment_instructions", "bic"): ("payment service provider identifier", "BT-86"),
}
_ROLES = {"seller": ("seller's", 0), "buyer": ("buyer's", 1), "payee": ("payee's", 2)}
#: Party fields: words, then the business term for the seller, the buyer and the payee.
_PARTY_TERMS: dict[tuple[str, ...], tuple[str, tuple[str | None, str | None, str | None]]] = {
    ("name",): ("name", ("BT-27", "BT-44", "BT-59")),
    ("trading_name",): ("trading name", ("BT-28", "BT-45", None)),
    ("identifiers", "value"): ("identifier", ("BT-29", "BT-46", "BT-60")),
    ("identifiers", "scheme"): ("identifier scheme", ("BT-29-1", "BT-46-1", "BT-60-1")),
    ("legal_id", "value"): ("legal registration identifier", ("BT-30", "BT-47", "BT-61")),
    ("legal_id", "scheme"): ("legal registration identifier scheme", ("BT-30-1", "BT-47-1", "BT-61-1")),
    ("vat_id",): ("VAT number", ("BT-31", "BT-48", None)),
    ("country",): ("country code", ("BT-40", "BT-55", None)),
}
#: Free text, where a writer may break lines or use tabs; everything else is one line. Party
#: names are here too: XML writers wrap long names over indented lines, which is layout, not data.
_FREE_TEXT = frozenset(
    {
        ("payment_terms",),
        ("notes", "text"),
        ("payment_instructions", "remittance_information"),
        *((party, field) for party in ("seller", "buyer", "payee") for field in ("name", "trading_name")),
    }
)
#: Attributes that are not the document's text but the parser's (where the document sits in its file).
_NOT_DOCUMENT_TEXT = frozenset({"location"})
_SHOWN_LENGTH = 60

FieldPath = tuple[str | int, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class _TextPlan:
    """Which attributes of one model class hold text, worked out once from its type hints.

    Reading the hints (not a hand-kept list) is what makes a field added to the
    model checked without touching this module.
    """

    texts: tuple[str, ...]  # str or str | None
    text_tuples: tuple[str, ...]  # tuple[str, ...]
    children: tuple[str, ...]  # a model object or None
    child_tuples: tuple[str, ...]  # tuple[model object, ...]
    get_texts: Callable[[object], tuple[str | None, ...]]


_plans: dict[type, _TextPlan] = {}


def _text_plan(cls: type) -> _TextPlan:
    plan = _plans.get(cls)
    if plan is None:
        plan = _plans[cls] = _new_text_plan(cls)
    return plan


def _new_text_plan(cls: type) -> _TextPlan:
    texts: list[str] = []
    text_tuples: list[str] = []
    children: list[str] = []
    child_tuples: list[str] = []
    hints = typing.get_type_hints(cls)
    for fld in dataclasses.fields(cls):
        if fld.name in _NOT_DOCUMENT_TEXT:
            continue
        hint = hints[fld.name]
        args = [a for a in typing.get_args(hint) if a is not type(None) and a is not Ellipsis]
        origin = typing.get_origin(hint)
        inner = args[0] if len(args) == 1 else None
        if hint is str or (origin in (typing.Union, types.UnionType) and inner is str):
            texts.append(fld.name)
        elif origin is tuple and inner is str:
            text_tuples.append(fld.name)
        elif origin is tuple and _holds_text(inner):
            child_tuples.append(fld.name)
        elif _holds_text(hint) or (origin in (typing.Union, types.UnionType) and _holds_text(inner)):
            children.append(fld.name)
        elif _mentions_str(hint):
            raise TypeError(f"{cls.__name__}.{fld.name}: teach _text_plan how to find text in {hint}")
    return _TextPlan(
        tuple(texts), tuple(text_tuples), tuple(children), tuple(child_tuples), _getter(tuple(texts))
    )


def _getter(names: tuple[str, ...]) -> Callable[[object], tuple[str | None, ...]]:
    """The values of ``names`` as one tuple, fetched in C when there are several."""
    if len(names) > 1:
        return typing.cast(Callable[[object], tuple[str | None, ...]], operator.attrgetter(*names))
    return lambda obj: tuple(getattr(obj, name) for name in names)


def _mentions_str(hint: object) -> bool:
    return hint is str or any(_mentions_str(arg) for arg in typing.get_args(hint))


def _holds_text(hint: object) -> bool:
    """A model class with text somewhere inside (``DocumentTotals`` has none: skipped)."""
    if not (isinstance(hint, type) and dataclasses.is_dataclass(hint)):
        return False
    plan = _text_plan(hint)
    return bool(plan.texts or plan.text_tuples or plan.children or plan.child_tuples)


_screened: dict[int, tuple[object, bool]] = {}
_MAX_SCREENED = 65536


def _may_hold_controls(obj: object) -> bool:
    """A fast, generous screen: False means no text under ``obj`` holds a control character.

    ``str.isprintable`` over all the texts joined is one pass in C; it is also
    false for a tab or a no-break space, which the exact walk then clears.
    Single nested objects are parties, which parsers share between rows, so
    their verdict is remembered by identity (the entry holds the object, so its
    id cannot be reused while the entry lives).
    """
    plan = _plans.get(type(obj)) or _text_plan(type(obj))
    if not "".join(filter(None, plan.get_texts(obj))).isprintable():
        return True
    for name in plan.text_tuples:
        values = getattr(obj, name)
        if values and not "".join(values).isprintable():
            return True
    for name in plan.children:
        child = getattr(obj, name)
        if child is not None:
            hit = _screened.get(id(child))
            if hit is None or hit[0] is not child:
                if len(_screened) >= _MAX_SCREENED:
                    _screened.clear()
                hit = _screened[id(child)] = (child, _may_hold_controls(child))
            if hit[1]:
                return True
    for name in plan.child_tuples:
        items = getattr(obj, name)
        if items and any(_may_hold_controls(item) for item in items):
            return True
    return False


def _text_values(obj: object, path: FieldPath = ()) -> Iterator[tuple[FieldPath, str, int]]:
    """(path, text, number of siblings) of every text value under ``obj``; indexes mark tuple items."""
    plan = _text_plan(type(obj))
    for name in plan.texts:
        value = getattr(obj, name)
        if value is not None:
            yield (*path, name), value, 1
    for name in plan.text_tuples:
        values = getattr(obj, name)
        for index, value in enumerate(values):
            yield (*path, name, index), value, len(values)
    for name in plan.children:
        child = getattr(obj, name)
        if child is not None:
            yield from _text_values(child, (*path, name))
    for name in plan.child_tuples:
        items = getattr(obj, name)
        for index, item in enumerate(items):
            for sub_path, value, siblings in _text_values(item, (*path, name, index)):
                yield sub_path, value, max(siblings, len(items))


def _field_words(path: FieldPath, siblings: int) -> str:
    """``the seller's name (BT-27)``, ``the note no. 2 (BT-22)``: the field as people call it."""
    names = tuple(part for part in path if isinstance(part, str))
    indexes = [part for part in path if isinstance(part, int)]
    ordinal = f" no. {indexes[-1] + 1}" if indexes and siblings > 1 else ""
    role = _ROLES.get(names[0])
    if role is not None:
        whose, column = role
        words, terms = _PARTY_TERMS.get(names[1:], (" ".join(names[1:]).replace("_", " "), (None,) * 3))
        text, term = f"the {whose} {words}{ordinal}", terms[column]
    else:
        words, known = _TEXT_TERMS.get(names, (" ".join(names).replace("_", " "), None))
        text, term = f"the {words}{ordinal}", known
    return f"{text} ({term})" if term else text


def _shown(value: str, position: int) -> str:
    """The value escaped, cut around ``position`` when long (a note may run to pages)."""
    if len(value) <= _SHOWN_LENGTH:
        return escape_controls(value)
    start = max(0, min(position - _SHOWN_LENGTH // 3, len(value) - _SHOWN_LENGTH))
    end = start + _SHOWN_LENGTH
    excerpt = escape_controls(value[start:end])
    return f"{'…' if start else ''}{excerpt}{'…' if end < len(value) else ''}"


def _check_controls(invoice: Invoice, issues: list[Issue], location: str | None) -> None:
    """Refuse control characters and invisible direction marks in any text of the document.

    An ESC sequence repaints the terminal of whoever reads the value, a NUL cuts
    it short in C-based tools, a bidi override makes an invoice number display
    as another one: a factor cannot buy a receivable whose reference does not
    read the same everywhere. One issue per field, so the client fixes them all
    at once; only free text may hold tabs and line breaks.
    """
    if not _may_hold_controls(invoice):
        return
    for path, value, siblings in _text_values(invoice):
        names = tuple(part for part in path if isinstance(part, str))
        found = find_controls(value, multiline=names in _FREE_TEXT)
        if found:
            issues.append(
                Issue(
                    "GW-TEXT-CONTROL-CHAR", _control_message(path, siblings, value, found), location=location
                )
            )


def _control_message(path: FieldPath, siblings: int, value: str, found: list[tuple[int, str]]) -> str:
    first: dict[str, int] = {}
    for position, char in found:
        first.setdefault(char, position)
    listed = [f"{describe_control(char)} at character {position + 1}" for char, position in first.items()]
    if len(listed) > 3:
        listed = [*listed[:3], f"{len(listed) - 3} more"]
    kind = "control character" if len(first) == 1 else "control characters"
    words = _field_words(path, siblings)
    return (
        f"{words[:1].upper()}{words[1:]} '{_shown(value, found[0][0])}' contains the {kind} "
        f"{', '.join(listed)}. Such invisible characters can hide or change what people and programs "
        "read, so the document is refused; remove them in the ERP and send it again."
    )
