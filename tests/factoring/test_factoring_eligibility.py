"""Eligibility rules and the debtor lookup, one test per issue code."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest
from builders import acme_client

from gateway.factoring import eligibility
from gateway.factoring.eligibility import Eligibility, check_eligibility, resolve_debtor, seller_legal_key
from gateway.model import DocumentTotals, Invoice, Party, PartyId
from gateway.settings import (
    ClientSettings,
    DebtorSettings,
)

D = Decimal
TODAY = date(2025, 3, 10)

ALPHA = DebtorSettings("ALPHA", "ALPHA SA", "552 100 554", None, D("40000.00"), "EUR", D("0.00"))
BETA = DebtorSettings("BETA", "BETA GmbH", None, "de 136 695 976", D("1000.00"), "EUR", D("0.00"))
GAMMA = DebtorSettings("GAMMA", "GAMMA SAS", None, "FR83404833048", D("0.00"), "EUR", D("0.00"))


def client(**contract_changes: object) -> ClientSettings:
    return acme_client((ALPHA, BETA, GAMMA), **contract_changes)


ACME = client()


def invoice(
    *,
    seller: Party | None = None,
    buyer: Party | None = None,
    type_code: str = "380",
    currency: str = "EUR",
    issue: date = date(2025, 3, 1),
    due: date | None = date(2025, 5, 1),
    amount: str = "1200.00",
) -> Invoice:
    return Invoice(
        number="F-1",
        issue_date=issue,
        type_code=type_code,
        currency=currency,
        seller=seller or Party(name="ACME SARL", legal_id=PartyId("732829320", "0002")),
        buyer=buyer or Party(name="ALPHA SA", legal_id=PartyId("552100554", "0002")),
        totals=DocumentTotals(tax_inclusive=D(amount)),
        due_date=due,
        location="line 2",
    )


def codes(inv: Invoice, cl: ClientSettings = ACME) -> list[str]:
    return [issue.code for issue in check_eligibility(inv, cl, TODAY)]


def test_an_eligible_invoice_has_no_issue() -> None:
    assert check_eligibility(invoice(), ACME, TODAY) == []


def test_debtor_found_by_siren_by_siret_and_by_vat() -> None:
    assert resolve_debtor(invoice(), ACME) is ALPHA
    by_siret = Party(name="ALPHA", identifiers=(PartyId("55210055400013", "0009"),))
    assert resolve_debtor(invoice(buyer=by_siret), ACME) is ALPHA
    by_vat = Party(name="BETA", vat_id="DE136695976")
    assert resolve_debtor(invoice(buyer=by_vat), ACME) is BETA
    # A debtor set up by French VAT number only is found from the buyer's SIREN.
    by_siren = Party(name="GAMMA", legal_id=PartyId("404833048", "0002"))
    assert resolve_debtor(invoice(buyer=by_siren), ACME) is GAMMA
    assert resolve_debtor(invoice(buyer=Party(name="X", vat_id="FR96552100554")), ACME) is ALPHA


def test_unknown_debtor_says_what_was_looked_for() -> None:
    buyer = Party(name="OMEGA SA", legal_id=PartyId("542107651", "0002"), vat_id="fr 13 542107651")
    (issue,) = check_eligibility(invoice(buyer=buyer), ACME, TODAY)
    assert issue.code == "GW-DEBTOR-UNKNOWN"
    assert "542107651" in issue.message and "FR13542107651" in issue.message and "OMEGA SA" in issue.message
    assert issue.location == "line 2"
    assert resolve_debtor(invoice(buyer=buyer), ACME) is None


def test_buyer_without_identifiers_is_unknown() -> None:
    (issue,) = check_eligibility(invoice(buyer=Party(name="NOBODY")), ACME, TODAY)
    assert issue.code == "GW-DEBTOR-UNKNOWN"
    assert "neither a SIREN nor a VAT number" in issue.message


def test_seller_not_the_client() -> None:
    seller = Party(name="OTHER", legal_id=PartyId("123456782", "0002"))
    (issue,) = check_eligibility(invoice(seller=seller), ACME, TODAY)
    assert issue.code == "GW-SELLER-NOT-CLIENT"
    assert issue.message == (
        "The seller of this invoice (SIREN 123456782) is not ACME SARL (SIREN 732829320), "
        "the client this channel belongs to."
    )


def test_seller_identified_by_siret_or_vat_is_the_client() -> None:
    assert codes(invoice(seller=Party(identifiers=(PartyId("73282932000074", "0009"),)))) == []
    assert codes(invoice(seller=Party(vat_id="FR44732829320"))) == []


def test_currency_not_in_contract() -> None:
    assert codes(invoice(currency="USD")) == ["GW-CURRENCY-NOT-ALLOWED"]
    assert codes(invoice(currency="USD"), client(currencies=("EUR", "USD"))) == []


def test_due_date_missing_past_and_beyond_term() -> None:
    assert codes(invoice(due=None)) == ["GW-DUE-DATE-MISSING"]
    assert codes(invoice(due=date(2025, 3, 9))) == ["GW-DUE-DATE-PAST"]
    assert codes(invoice(due=TODAY)) == []
    assert codes(invoice(due=date(2025, 5, 30))) == []  # 90 days after 2025-03-01
    beyond = check_eligibility(invoice(due=date(2025, 5, 31)), ACME, TODAY)
    assert [i.code for i in beyond] == ["GW-DUE-DATE-BEYOND-TERM"]
    assert "91 days" in beyond[0].message and "90" in beyond[0].message


def test_credit_notes_need_no_due_date() -> None:
    assert codes(invoice(type_code="381", due=None)) == []
    assert codes(invoice(type_code="396", due=date(2024, 1, 1))) == []


def test_amount_not_positive() -> None:
    assert codes(invoice(amount="0.00")) == ["GW-AMOUNT-NOT-POSITIVE"]
    assert codes(invoice(amount="-5.00", type_code="381")) == ["GW-AMOUNT-NOT-POSITIVE"]


def test_every_failure_is_reported_at_once() -> None:
    bad = invoice(
        seller=Party(legal_id=PartyId("123456782", "0002")),
        buyer=Party(name="?"),
        currency="GBP",
        due=date(2025, 1, 1),
        amount="0.00",
    )
    assert codes(bad) == [
        "GW-SELLER-NOT-CLIENT",
        "GW-CURRENCY-NOT-ALLOWED",
        "GW-DUE-DATE-PAST",
        "GW-DEBTOR-UNKNOWN",
        "GW-AMOUNT-NOT-POSITIVE",
    ]


def test_a_changed_client_object_gets_a_fresh_lookup() -> None:
    assert resolve_debtor(invoice(), ACME) is ALPHA
    without_alpha = dataclasses.replace(ACME, debtors=(BETA,))
    assert resolve_debtor(invoice(), without_alpha) is None
    assert resolve_debtor(invoice(), ACME) is ALPHA


def _batch() -> list[Invoice]:
    """Rows as a parser makes them: one seller object and a few buyer objects shared by many rows."""
    seller = Party(name="ACME SARL", legal_id=PartyId("732829320", "0002"))
    buyers = [
        Party(name="ALPHA SA", legal_id=PartyId("552100554", "0002")),
        Party(name="BETA", vat_id="DE136695976"),
        Party(name="OMEGA SA", legal_id=PartyId("542107651", "0002")),
        Party(name="NOBODY"),
    ]
    return [
        invoice(seller=seller, buyer=buyers[n % 4], due=TODAY + timedelta(days=n % 120 - 5))
        for n in range(200)
    ]


def test_the_batch_context_answers_as_the_one_document_functions() -> None:
    context = Eligibility(ACME)
    for document in _batch():
        assert context.check(document, TODAY) == check_eligibility(document, ACME, TODAY)
        assert context.resolve_debtor(document) is resolve_debtor(document, ACME)
        assert context.seller_legal_key(document.seller) == seller_legal_key(document.seller)


def test_the_batch_context_works_out_each_shared_party_once(monkeypatch: pytest.MonkeyPatch) -> None:
    worked_out: list[Party] = []
    work_out = eligibility._work_out_facts

    def counting(party: Party) -> object:
        worked_out.append(party)
        return work_out(party)

    monkeypatch.setattr(eligibility, "_work_out_facts", counting)
    context = Eligibility(ACME)
    for document in _batch():
        context.check(document, TODAY)
        context.seller_legal_key(document.seller)
    assert len(worked_out) == 5  # the seller and the four buyers, for 200 documents
    assert Eligibility(ACME).resolve_debtor(_batch()[0]) is ALPHA  # a new context starts afresh
    assert len(worked_out) == 6


def test_each_context_reads_its_own_client() -> None:
    without_alpha = Eligibility(dataclasses.replace(ACME, debtors=(BETA,)))
    with_alpha = Eligibility(ACME)
    assert without_alpha.resolve_debtor(invoice()) is None
    assert with_alpha.resolve_debtor(invoice()) is ALPHA
    assert [i.code for i in without_alpha.check(invoice(), TODAY)] == ["GW-DEBTOR-UNKNOWN"]
