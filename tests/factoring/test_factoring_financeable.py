"""Can the factor finance this e-invoice? Already paid, payee other than the seller, profiles per
contract, the assignment mention of notified contracts; each message says what is missing."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest
from builders import SELLER, acme_client, sample_invoice

from gateway.factoring import eligibility
from gateway.factoring.eligibility import Eligibility, check_eligibility
from gateway.factoring.financeable import check_financeable, is_already_paid
from gateway.model import (
    CREDIT_NOTE_TYPE_CODES,
    INVOICE_TYPE_CODES,
    DocumentKind,
    DocumentTotals,
    EInvoiceFacts,
    Invoice,
    Note,
    Party,
    PartyId,
    PaymentInstructions,
    Severity,
)
from gateway.settings import (
    DEFAULT_ACCEPTED_PROFILES,
    PROFILES,
    FactorSettings,
    LocalFolderSettings,
    OutboundChannel,
)

D = Decimal
FACTOR = FactorSettings(
    "Affacturage Démo SA",
    "802954784",
    "FR7630006000011234567890189",
    OutboundChannel("factor:remittances", LocalFolderSettings(Path("/tmp/rem"))),
)
FACTOR_PAYEE = Party(name="Affacturage Démo SA", legal_id=PartyId("802954784", "0002"))
FACTOR_ACCOUNT = (PaymentInstructions(means_code="58", account_id="FR76 3000 6000 0112 3456 7890 189"),)
EN16931 = EInvoiceFacts("ubl-invoice", "UBL 2.1 Invoice", "urn:cen.eu:en16931:2017", "en16931")
ACC = (Note("Créance cédée à Affacturage Démo SA (subrogation).", "ACC"),)


def facts(profile: str | None, guideline: str | None = "urn:example") -> EInvoiceFacts:
    return dataclasses.replace(EN16931, profile=profile, guideline_id=guideline)


def codes(invoice: Invoice, einvoice: EInvoiceFacts | None = EN16931, **contract: object) -> list[str]:
    return [i.code for i in check_financeable(invoice, einvoice, acme_client(**contract), FACTOR)]


def assigned(**changes: object) -> Invoice:
    """A notified e-invoice that says it all: 393, the factor as payee with its account, the ACC note."""
    base = {"type_code": "393", "payee": FACTOR_PAYEE, "payment_instructions": FACTOR_ACCOUNT, "notes": ACC}
    return sample_invoice(**{**base, **changes})


def test_a_factored_invoice_that_says_so_is_financeable() -> None:
    assert codes(assigned()) == []


# --- factored type codes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind"),
    [("393", DocumentKind.INVOICE), ("501", DocumentKind.INVOICE), ("396", DocumentKind.CREDIT_NOTE),
     ("502", DocumentKind.CREDIT_NOTE)],
)  # fmt: skip
def test_factored_type_codes_are_accepted_and_mapped(code: str, kind: DocumentKind) -> None:
    assert code in INVOICE_TYPE_CODES | CREDIT_NOTE_TYPE_CODES
    document = assigned(type_code=code, preceding_invoices=("F-0950",))
    assert document.kind is kind
    assert document.signed_amount == (D("-1200.00") if kind is DocumentKind.CREDIT_NOTE else D("1200.00"))
    assert "GW-TYPE-CODE-UNSUPPORTED" not in [
        i.code for i in check_eligibility(document, acme_client(), document.issue_date)
    ]
    assert codes(document) == []


# --- already paid ----------------------------------------------------------------------------

PAID = DocumentTotals(
    tax_exclusive=D("1000.00"),
    tax=D("200.00"),
    tax_inclusive=D("1200.00"),
    prepaid=D("1200.00"),
    amount_due=D("0.00"),
)


def test_an_invoice_already_paid_is_not_financeable_whatever_its_format() -> None:
    paid = assigned(totals=PAID)
    assert is_already_paid(paid)
    (issue,) = check_financeable(paid, None)  # a CSV batch's document: no e-invoice facts
    assert (issue.code, issue.severity) == ("GW-ALREADY-PAID", Severity.FATAL)
    assert (
        "paid amount (BT-113) 1200.00" in issue.message and "total with VAT (BT-112) 1200.00" in issue.message
    )
    # It is said once: the eligibility rule on the amount (0.00 to assign) stays silent.
    assert "GW-AMOUNT-NOT-POSITIVE" not in [
        i.code for i in check_eligibility(paid, acme_client(), paid.issue_date)
    ]


def test_a_partly_paid_invoice_and_a_credit_note_are_not_already_paid() -> None:
    partly = dataclasses.replace(PAID, prepaid=D("200.00"), amount_due=D("1000.00"))
    assert not is_already_paid(assigned(totals=partly))
    assert not is_already_paid(assigned(type_code="381", totals=PAID))


# --- payee other than the seller ---------------------------------------------------------------


def test_a_plain_invoice_with_another_payee_is_flagged() -> None:
    plain = assigned(type_code="380")
    (issue,) = check_financeable(plain, EN16931)
    assert (issue.code, issue.severity) == ("GW-PAYEE-NOT-SELLER", Severity.WARNING)
    assert "380" in issue.message and "393" in issue.message and "Affacturage Démo SA" in issue.message
    credit = assigned(type_code="381", preceding_invoices=("F-0950",))
    assert "396" in check_financeable(credit, EN16931)[0].message


@pytest.mark.parametrize(
    "payee",
    [
        Party(name="ACME SARL"),  # the seller by name
        Party(name="Acme S.A.R.L.", legal_id=PartyId("732829320", "0002")),  # by SIREN
        Party(identifiers=(PartyId("73282932000009", "0009"),)),  # by its SIRET
    ],
)
def test_a_payee_that_is_the_seller_is_no_concern(payee: Party) -> None:
    assert check_financeable(assigned(type_code="380", payee=payee), EN16931) == []


def test_the_payee_rule_is_for_e_invoices_only() -> None:
    assert check_financeable(assigned(type_code="380"), None) == []


# --- profiles ------------------------------------------------------------------------------------


def test_the_default_profiles_leave_out_those_without_lines() -> None:
    assert DEFAULT_ACCEPTED_PROFILES == (
        "basic",
        "en16931",
        "extended",
        "extended-ctc-fr",
        "xrechnung",
        "peppol",
    )
    assert set(PROFILES) - set(DEFAULT_ACCEPTED_PROFILES) == {"minimum", "basicwl", "zugferd1"}


@pytest.mark.parametrize(
    ("profile", "words"),
    [
        ("minimum", "carries no invoice lines and no due date (BT-9)"),
        ("basicwl", "carries no invoice lines: the factor cannot check what was sold"),
    ],
)
def test_a_profile_that_lacks_what_a_factor_needs_is_refused_saying_what(profile: str, words: str) -> None:
    (issue,) = check_financeable(assigned(), facts(profile), acme_client(), FACTOR)
    assert (issue.code, issue.severity) == ("GW-PROFILE-NOT-ACCEPTED", Severity.FATAL)
    assert words in issue.message
    assert (
        "ACME SARL accepts Factur-X BASIC, EN 16931, Factur-X EXTENDED, EXTENDED-CTC-FR, XRechnung or "
        in issue.message
    )


def test_the_contract_decides_which_profiles() -> None:
    assert codes(assigned(), facts("minimum"), accepted_profiles=("minimum", "en16931")) == []
    (issue,) = check_financeable(
        assigned(), facts("extended"), acme_client(accepted_profiles=("en16931",)), FACTOR
    )
    assert issue.code == "GW-PROFILE-NOT-ACCEPTED"
    assert (
        "It is a Factur-X EXTENDED invoice. The factoring contract of ACME SARL accepts EN 16931"
        in issue.message
    )


def test_an_unrecognised_profile_is_named_with_its_bt_24() -> None:
    (issue,) = check_financeable(assigned(), facts(None, "urn:example:cius"), acme_client(), FACTOR)
    assert (
        "specification identifier (BT-24) 'urn:example:cius' names no profile the gateway knows"
        in issue.message
    )
    (issue,) = check_financeable(assigned(), facts(None, None), acme_client(), FACTOR)
    assert "no specification identifier (BT-24)" in issue.message


def test_profiles_need_a_contract() -> None:
    assert check_financeable(assigned(), facts("minimum")) == []


# --- the assignment mention of notified contracts --------------------------------------------------


def test_the_acc_note_alone_is_enough() -> None:
    assert codes(assigned(payee=None, payment_instructions=())) == []
    assert codes(assigned(payee=None, notes=(Note("cédée", " acc "),))) == []


def test_the_factor_as_payee_with_its_account_is_enough() -> None:
    assert codes(assigned(notes=())) == []
    by_name = Party(name="AFFACTURAGE DEMO S.A.")  # no SIREN given: its name, accents and case aside
    assert codes(assigned(notes=(), payee=by_name)) == []


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        ({"payee": None}, ["it names no payee (BG-10)"]),
        (
            {"payee": Party(name="ACME SARL", legal_id=PartyId("732829320", "0002"))},
            ["its payee (BG-10) is ACME SARL, not the factor Affacturage Démo SA (SIREN 802954784)"],
        ),
        ({"payment_instructions": ()}, ["it gives no payment account (BT-84)"]),
        (
            {"payment_instructions": (PaymentInstructions(account_id="FR1420041010050500013M02606"),)},
            ["its payment account (BT-84) FR1420041010050500013M02606 is not the factor's collection"],
        ),
    ],
)
def test_without_the_mention_the_message_says_exactly_what_is_missing(
    changes: dict[str, object], missing: list[str]
) -> None:
    (issue,) = check_financeable(assigned(notes=(), **changes), EN16931, acme_client(), FACTOR)
    assert (issue.code, issue.severity) == ("GW-ASSIGNMENT-MENTION-MISSING", Severity.WARNING)
    assert "it has no subrogation note (BT-21 subject code ACC)" in issue.message
    for words in missing:
        assert words in issue.message
    assert "FR7630006000011234567890189" in issue.message


@pytest.mark.parametrize(
    ("level", "expected"), [("fatal", [Severity.FATAL]), ("warning", [Severity.WARNING]), ("off", [])]
)
def test_the_contract_sets_how_the_mention_weighs(level: str, expected: list[Severity]) -> None:
    bare = assigned(notes=(), payee=None, payment_instructions=())
    found = check_financeable(bare, EN16931, acme_client(assignment_mention=level), FACTOR)
    assert [i.severity for i in found] == expected


def test_the_mention_is_asked_of_notified_e_invoices_only() -> None:
    bare = assigned(notes=(), payee=None, payment_instructions=())
    assert codes(bare, notified=False) == []
    assert codes(bare, None) == []  # a CSV batch's document
    assert check_financeable(bare, EN16931, acme_client()) == []  # no factor known: nothing to compare
    credit = dataclasses.replace(bare, type_code="381", preceding_invoices=("F-0950",))
    assert codes(credit) == []  # the debtor pays nothing on a credit note


def test_eligibility_says_which_buyer_identifier_found_the_debtor() -> None:
    rules = Eligibility(acme_client())
    by_legal = sample_invoice()
    assert rules.debtor_match(by_legal)[1] == "legal"
    by_vat = sample_invoice(
        buyer=Party(name="ALPHA SA", legal_id=PartyId("552100555", "0002"), vat_id="FR96552100554")
    )
    debtor, kind = rules.debtor_match(by_vat)
    assert debtor is not None and debtor.id == "ALPHA" and kind == "vat"
    assert rules.debtor_match(sample_invoice(buyer=Party(name="X", vat_id="FR00000000000")))[0] is None
    assert rules.resolve_debtor(by_vat) is debtor
    assert SELLER.legal_id is not None


@pytest.mark.parametrize(
    "party",
    [
        Party(legal_id=PartyId("552100554", "0002"), vat_id="FR96552100554"),
        Party(
            identifiers=(PartyId("55210055400013", "0009"), PartyId("552100554")), vat_id="fr 96 552 100 554"
        ),
        Party(legal_id=PartyId("HRB 1234", "0204"), vat_id="DE136695976"),
        Party(legal_id=PartyId("5521 0055 4"), identifiers=(PartyId("12345678901234", "0088"),)),
    ],
)
def test_the_debtor_lookup_reads_sirens_as_the_model_does(party: Party) -> None:
    sources = eligibility._siren_sources(party)
    assert tuple(dict.fromkeys(siren for _, siren in sources)) == party.siren_candidates()
