"""Checks of one canonical document that hold whatever format it came in.

The messages end up in the acknowledgement a client's accountant reads, so
each one names the business term in words and by its EN 16931 number and
shows the figures involved: the reader should be able to fix the invoice in
their ERP without asking what the gateway meant.

Identifier checks go through python-stdnum. A batch repeats the same seller
and a few hundred debtors over thousands of rows, so validity is cached per
distinct value.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from stdnum.eu import vat as eu_vat
from stdnum.fr import siren as fr_siren
from stdnum.fr import siret as fr_siret

from gateway.model import (
    CENT,
    CREDIT_NOTE_TYPE_CODES,
    INVOICE_TYPE_CODES,
    Invoice,
    Issue,
    Party,
    PartyId,
    Severity,
)

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
    """An amount as people write it in accounting (two decimals unless it has more)."""
    if amount == amount.quantize(CENT):
        return f"{amount:.2f}"
    return f"{amount:f}"


#: No receivable comes near this; beyond it the amount is a typing error or an attack on the ledger's columns.
MAX_AMOUNT = Decimal("1000000000000000")  # 10^15
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


def _check_amount_sizes(invoice: Invoice, issues: list[Issue], location: str | None) -> None:
    """Document totals carry at most two decimals (EN 16931 BR-DEC rules) and stay below
    :data:`MAX_AMOUNT`; the gateway never rounds an amount it was given."""
    for attribute, term, decimals_rule in _TOTAL_TERMS:
        amount = getattr(invoice.totals, attribute)
        if amount is None:
            continue
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            issues.append(
                Issue(
                    decimals_rule,
                    f"The {term} {amount} has more than two decimals; amounts of an invoice are written "
                    "to the cent and the gateway never rounds them.",
                    location=location,
                )
            )
        if abs(amount) >= MAX_AMOUNT:
            issues.append(
                Issue(
                    "GW-AMOUNT-TOO-LARGE",
                    f"The {term} {amount} is larger than any invoice the gateway accepts "
                    f"({MAX_AMOUNT:,} or more); check the amount.",
                    location=location,
                )
            )


def check_document(invoice: Invoice) -> list[Issue]:
    """Every problem found in ``invoice``; empty when it is fine. Pure, never raises."""
    issues: list[Issue] = []
    location = invoice.location
    _check_required(invoice, issues, location)
    _check_totals(invoice, issues, location)
    _check_amount_sizes(invoice, issues, location)
    _check_party(invoice.seller, _SELLER, issues, location)
    _check_party(invoice.buyer, _BUYER, issues, location)
    if invoice.payee is not None:
        _check_party(invoice.payee, _PAYEE, issues, location)
    if invoice.type_code not in SUPPORTED_TYPE_CODES:
        issues.append(
            Issue(
                "GW-TYPE-CODE-UNSUPPORTED",
                f"The document type code (BT-3) '{invoice.type_code}' is not one the gateway accepts: use an "
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
                    f"The {term} '{currency}' is not an ISO 4217 currency code such as EUR.",
                    location=location,
                )
            )
    if invoice.is_credit_note and not any(ref.strip() for ref in invoice.preceding_invoices):
        issues.append(
            Issue(
                "GW-CREDIT-NOTE-NO-REFERENCE",
                f"Credit note {invoice.number} does not say which invoice it reduces (preceding invoice, "
                "BT-25); the factor may ask for it.",
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
    """BR-CO-15 and BR-CO-16, exact: amounts are in cents, so no tolerance is needed."""
    totals = invoice.totals
    net, tax, gross = totals.tax_exclusive, totals.tax, totals.tax_inclusive
    if net is not None and tax is not None and gross is not None and gross != net + tax:
        issues.append(
            Issue(
                "BR-CO-15",
                f"Total with VAT (BT-112) is {amount_text(gross)} but total without VAT (BT-109) "
                f"{amount_text(net)} plus VAT (BT-110) {amount_text(tax)} makes {amount_text(net + tax)}.",
                location=location,
            )
        )
    due = totals.amount_due
    if due is None or gross is None:
        return
    prepaid, rounding = totals.prepaid, totals.rounding
    expected = gross - (prepaid or 0) + (rounding or 0)
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


_party_findings: dict[tuple[int, str], tuple[Party, tuple[tuple[str, str], ...]]] = {}
_MAX_PARTY_FINDINGS = 65536


def _check_party(
    party: Party, terms: tuple[str, str, str, str | None], issues: list[Issue], location: str | None
) -> None:
    """Identifier problems of one party, remembered per party object and role.

    Parsers share one Party object between all rows of the same seller or
    debtor, so this runs the stdnum checks once per party, not once per row.
    """
    key = (id(party), terms[0])
    hit = _party_findings.get(key)
    if hit is None or hit[0] is not party:
        if len(_party_findings) >= _MAX_PARTY_FINDINGS:
            _party_findings.clear()
        hit = _party_findings[key] = (party, _party_problems(party, terms))
    for code, message in hit[1]:
        issues.append(Issue(code, message, location=location))


def _party_problems(party: Party, terms: tuple[str, str, str, str | None]) -> tuple[tuple[str, str], ...]:
    role, legal_term, id_term, vat_term = terms
    ids: list[tuple[PartyId, str]] = [(pid, id_term) for pid in party.identifiers]
    if party.legal_id is not None:
        ids.insert(0, (party.legal_id, legal_term))
    found: list[tuple[str, str]] = []
    for pid, term in ids:
        if pid.scheme == "0002" and not siren_is_valid(pid.value):
            found.append(
                (
                    "GW-SIREN-INVALID",
                    f"The {role} SIREN ({term}) '{pid.value}' is not a valid SIREN: it must have 9 digits, "
                    "the last one a check digit.",
                )
            )
        elif pid.scheme == "0009" and not siret_is_valid(pid.value):
            found.append(
                (
                    "GW-SIRET-INVALID",
                    f"The {role} SIRET ({term}) '{pid.value}' is not a valid SIRET: it must have 14 digits "
                    "(the SIREN and the establishment number), the last one a check digit.",
                )
            )
    if party.vat_id is not None and not vat_is_valid(party.vat_id):
        where = f" ({vat_term})" if vat_term else ""
        found.append(
            (
                "GW-VAT-INVALID",
                f"The {role} VAT number{where} '{party.vat_id}' is not valid: it must start with the "
                "country code (FR for France) and pass that country's check.",
            )
        )
    return tuple(found)
