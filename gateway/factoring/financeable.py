"""Can the factor finance this e-invoice? The gateway's rules on what the document says about payment.

Conformance (is it a valid EN 16931 e-invoice?) is the official rule sets' question
(:mod:`gateway.validation.conformance`); these rules answer the factor's, and each says in
words what is missing:

* ``GW-ALREADY-PAID`` (any document, fatal): the paid amount (BT-113) covers the total with VAT
  (BT-112), so nothing is left to collect and nothing can be financed (the French B2/S2/M2
  "already paid" frameworks, BR-FR-CO-09).
* ``GW-PAYEE-NOT-SELLER`` (e-invoices, warning): a plain invoice or credit note (380, 381) names a
  payee (BG-10) other than the seller. Someone else is to be paid, yet the type code does not say
  the receivable was factored (393 / 396 in the French rules).
* ``GW-PROFILE-NOT-ACCEPTED`` (e-invoices, with a contract, fatal): the profile (BT-24) is not one
  the contract's ``accepted_profiles`` lists. MINIMUM carries no lines and no due date, BASIC WL no
  lines: a factor cannot check what was sold, nor when it is due.
* ``GW-ASSIGNMENT-MENTION-MISSING`` (e-invoices of a notified contract, invoices only; fatal,
  warning or off by the contract's ``assignment_mention``): the invoice must show the debtor it was
  assigned, either by the factor as payee (BG-10) *and* the factor's collection account as the
  payment account (BT-84), or by the subrogation note (BT-21 subject code ``ACC``). Otherwise the
  debtor may pay the client, and that payment discharges the debt.

Factored type codes need nothing here: 393 and 501 are invoices, 396 and 502 credit notes
(:data:`gateway.model.INVOICE_TYPE_CODES`, :data:`~gateway.model.CREDIT_NOTE_TYPE_CODES`).
CSV batches are bordereaux built by the client, not the invoices the debtors received: only
``GW-ALREADY-PAID`` applies to them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from schwifty import IBAN

from gateway.model import EInvoiceFacts, Invoice, Issue, Party, Severity
from gateway.settings import ClientSettings, FactorSettings
from gateway.text import escape_controls

#: Type codes of documents that say nothing of factoring: a payee other than the seller is odd on them.
PLAIN_TYPE_CODES = frozenset({"380", "381"})

#: How people call each profile (the vocabulary of :data:`gateway.settings.PROFILES`).
PROFILE_NAMES = {
    "minimum": "Factur-X MINIMUM",
    "basicwl": "Factur-X BASIC WL",
    "basic": "Factur-X BASIC",
    "en16931": "EN 16931",
    "extended": "Factur-X EXTENDED",
    "extended-ctc-fr": "EXTENDED-CTC-FR",
    "xrechnung": "XRechnung",
    "peppol": "Peppol BIS Billing 3.0",
    "zugferd1": "ZUGFeRD 1.0",
}
#: What a profile lacks that a factor needs, for the profiles that lack something.
_LACKS = {
    "minimum": "carries no invoice lines and no due date (BT-9): the factor can check neither what was sold "
    "nor when it is due",
    "basicwl": "carries no invoice lines: the factor cannot check what was sold",
}
_NON_WORD = re.compile(r"[\W_]+")


def is_already_paid(invoice: Invoice) -> bool:
    """An invoice whose paid amount (BT-113) covers its total with VAT (BT-112): nothing is owed.

    >>> from gateway.model import DocumentTotals, Party
    >>> from decimal import Decimal as D
    >>> from datetime import date
    >>> paid = DocumentTotals(tax_inclusive=D("120.00"), prepaid=D("120.00"), amount_due=D("0.00"))
    >>> is_already_paid(Invoice("F-1", date(2025, 3, 1), "380", "EUR", Party(), Party(), paid))
    True
    """
    if invoice.is_credit_note:
        return False
    total, prepaid = invoice.totals.tax_inclusive, invoice.totals.prepaid
    return total is not None and prepaid is not None and total > 0 and prepaid >= total


def check_financeable(
    invoice: Invoice,
    einvoice: EInvoiceFacts | None,
    client: ClientSettings | None = None,
    factor: FactorSettings | None = None,
) -> list[Issue]:
    """The rules of the module docstring that apply: ``einvoice`` is None for a CSV batch's document;
    without ``client`` (``validate`` without ``--client``) the contract's rules are left out."""
    issues: list[Issue] = []
    if is_already_paid(invoice):
        issues.append(_already_paid(invoice))
    if einvoice is None:
        return issues
    payee = invoice.payee
    if invoice.type_code in PLAIN_TYPE_CODES and payee is not None and not _same_party(payee, invoice.seller):
        issues.append(_payee_not_seller(invoice, payee))
    if client is None:
        return issues
    contract = client.contract
    if einvoice.syntax != "zugferd1" and einvoice.profile not in contract.accepted_profiles:
        issues.append(_profile_not_accepted(invoice, einvoice, client))
    level = contract.assignment_mention
    if contract.notified and level != "off" and factor is not None and not invoice.is_credit_note:
        missing = _assignment_missing(invoice, factor)
        if missing is not None:
            severity = Severity.FATAL if level == "fatal" else Severity.WARNING
            issues.append(Issue("GW-ASSIGNMENT-MENTION-MISSING", missing, severity, invoice.location))
    return issues


def _already_paid(invoice: Invoice) -> Issue:
    totals = invoice.totals
    return Issue(
        "GW-ALREADY-PAID",
        f"Invoice {escape_controls(invoice.number)} is already paid: the paid amount (BT-113) "
        f"{totals.prepaid:.2f} covers the total with VAT (BT-112) {totals.tax_inclusive:.2f}, so the debtor "
        "owes nothing on it and the factor cannot finance it.",
        location=invoice.location,
    )


def _payee_not_seller(invoice: Invoice, payee: Party) -> Issue:
    kind = "credit note" if invoice.is_credit_note else "invoice"
    factored = "396" if invoice.is_credit_note else "393"
    name = f" {escape_controls(payee.name)}" if payee.name else ""
    return Issue(
        "GW-PAYEE-NOT-SELLER",
        f"This {kind} has the plain type code {escape_controls(invoice.type_code)} (BT-3) but names a payee "
        f"(BG-10){name} other than the seller: someone else is to be paid, yet the type code does not say "
        f"the receivable was factored. A factored {kind} has type code {factored} in the French rules; "
        "check the type code, and who the debtor is asked to pay.",
        Severity.WARNING,
        invoice.location,
    )


def _profile_not_accepted(invoice: Invoice, einvoice: EInvoiceFacts, client: ClientSettings) -> Issue:
    profile = einvoice.profile
    if profile is None:
        written = escape_controls(einvoice.guideline_id) if einvoice.guideline_id else None
        what = (
            f"Its specification identifier (BT-24) '{written}' names no profile the gateway knows"
            if written
            else "It has no specification identifier (BT-24), so its profile is unknown"
        )
    elif profile in _LACKS:
        what = f"It is a {PROFILE_NAMES[profile]} invoice, which {_LACKS[profile]}"
    else:
        what = f"It is a {PROFILE_NAMES.get(profile, profile)} invoice"
    accepted = [PROFILE_NAMES.get(p, p) for p in client.contract.accepted_profiles]
    listed = " or ".join(", ".join(accepted).rsplit(", ", 1))
    return Issue(
        "GW-PROFILE-NOT-ACCEPTED",
        f"{what}. The factoring contract of {client.name} accepts {listed}: send the invoice again in one "
        "of those (EN 16931 is the usual one).",
        location=invoice.location,
    )


def _assignment_missing(invoice: Invoice, factor: FactorSettings) -> str | None:
    """What the invoice lacks to show the debtor it must pay the factor; None when it shows it."""
    if any((note.subject_code or "").strip().upper() == "ACC" for note in invoice.notes):
        return None
    payee = invoice.payee
    payee_is_factor = payee is not None and _is_factor(payee, factor)
    collection = _compact_iban(factor.collection_iban)
    accounts = [pi.account_id for pi in invoice.payment_instructions if pi.account_id]
    account_is_factor = any(_compact_iban(account) == collection for account in accounts)
    if payee_is_factor and account_is_factor:
        return None
    lacks = ["it has no subrogation note (BT-21 subject code ACC)"]
    if payee is None:
        lacks.append("it names no payee (BG-10)")
    elif not payee_is_factor:
        named = f"is {escape_controls(payee.name)}" if payee.name else "has no name"
        lacks.append(f"its payee (BG-10) {named}, not the factor {factor.name} (SIREN {factor.siren})")
    if not accounts:
        lacks.append("it gives no payment account (BT-84)")
    elif not account_is_factor:
        shown = ", ".join(escape_controls(account) for account in accounts)
        lacks.append(
            f"its payment account (BT-84) {shown} is not the factor's collection account {collection}"
        )
    listed = "; ".join(lacks)
    return (
        f"The contract is notified, so this invoice must tell the debtor to pay {factor.name}, yet {listed}. "
        f"Add the subrogation mention as a note with subject code ACC, or name {factor.name} as payee with "
        f"its account {collection} as the payment account; otherwise the debtor may pay the client."
    )


def _is_factor(payee: Party, factor: FactorSettings) -> bool:
    """By SIREN when the payee gives one (or a SIRET), else by name."""
    sirens = payee.siren_candidates()
    if sirens:
        return factor.siren in sirens
    return payee.name is not None and _plain(payee.name) == _plain(factor.name)


def _same_party(payee: Party, seller: Party) -> bool:
    """The payee is the seller: they share an identifier, or, when either gives none, a name."""
    payee_ids, seller_ids = _identity(payee), _identity(seller)
    if payee_ids and seller_ids:
        return bool(payee_ids & seller_ids)
    names = {_plain(n) for n in (seller.name, seller.trading_name) if n}
    return payee.name is not None and _plain(payee.name) in names


def _identity(party: Party) -> frozenset[str]:
    found = {f"SIREN:{siren}" for siren in party.siren_candidates()}
    ids = ((party.legal_id,) if party.legal_id else ()) + party.identifiers
    found |= {f"{pid.scheme or ''}:{_NON_WORD.sub('', pid.value).upper()}" for pid in ids}
    if party.vat_id:
        found.add(f"VAT:{_NON_WORD.sub('', party.vat_id).upper()}")
    return frozenset(found)


def _plain(name: str) -> str:
    """A name compared without case, accents, blanks or punctuation: ``Démo S.A.`` is ``DEMOSA``."""
    decomposed = unicodedata.normalize("NFKD", name)
    return _NON_WORD.sub("", "".join(c for c in decomposed if not unicodedata.combining(c))).upper()


@lru_cache(maxsize=1024)
def _compact_iban(value: str) -> str:
    """The IBAN without blanks, upper case (schwifty's form); other account ids compacted alike."""
    try:
        return str(IBAN(value).compact)
    except ValueError:
        return _NON_WORD.sub("", value).upper()
