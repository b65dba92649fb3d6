"""The seller's identifiers must all name the client (GW-SELLER-IDS-DISAGREE), its legal key, and the
plausibility cap of the contract (GW-AMOUNT-IMPLAUSIBLE)."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from builders import ALPHA, acme_client

from gateway.factoring.eligibility import check_eligibility, seller_legal_key
from gateway.model import DocumentTotals, Invoice, Party, PartyId
from gateway.settings import (
    ClientSettings,
)
from gateway.text import find_controls

D = Decimal
TODAY = date(2025, 3, 10)
ACME_SIREN, ACME_VAT = "732829320", "FR44732829320"
BRAVO_SIREN, BRAVO_VAT = "443061841", "FR64443061841"


def client(**contract_changes: object) -> ClientSettings:
    return acme_client((ALPHA,), **contract_changes)


ACME = client()
BRAVO = dataclasses.replace(ACME, id="bravo", name="BRAVO SAS", siren=BRAVO_SIREN, vat_id=BRAVO_VAT)


def invoice(
    *,
    seller: Party | None = None,
    type_code: str = "380",
    due: date | None = date(2025, 5, 1),
    amount: str = "1200.00",
) -> Invoice:
    return Invoice(
        number="F-1",
        issue_date=date(2025, 3, 1),
        type_code=type_code,
        currency="EUR",
        seller=seller or Party(name="ACME SARL", legal_id=PartyId(ACME_SIREN, "0002")),
        buyer=Party(name="ALPHA SA", legal_id=PartyId("552100554", "0002")),
        totals=DocumentTotals(tax_inclusive=D(amount)),
        due_date=due,
        location="line 2",
    )


def codes(inv: Invoice, cl: ClientSettings = ACME) -> list[str]:
    return [issue.code for issue in check_eligibility(inv, cl, TODAY)]


def seller(
    siren: str | None = ACME_SIREN, vat: str | None = None, *sirets: str, scheme: str | None = "0002"
) -> Party:
    return Party(
        name="ACME SARL",
        legal_id=PartyId(siren, scheme) if siren else None,
        identifiers=tuple(PartyId(s, "0009") for s in sirets),
        vat_id=vat,
    )


def messages(inv: Invoice, cl: ClientSettings = ACME) -> dict[str, str]:
    return {issue.code: issue.message for issue in check_eligibility(inv, cl, TODAY)}


def test_acme_siren_with_bravo_vat_on_bravo_channel_is_refused_with_both_values() -> None:
    found = messages(invoice(seller=seller(ACME_SIREN, BRAVO_VAT)), BRAVO)
    assert list(found) == ["GW-SELLER-IDS-DISAGREE", "GW-SELLER-NOT-CLIENT"]
    assert found["GW-SELLER-IDS-DISAGREE"] == (
        "The seller's VAT number FR64443061841 (BT-31) belongs to SIREN 443061841, but its SIREN is "
        "732829320 (BT-30). All the seller's identifiers must name the same company, otherwise the factor "
        "cannot tell whose receivable this invoice is."
    )
    assert found["GW-SELLER-NOT-CLIENT"] == (
        "The seller of this invoice cannot be recognised as BRAVO SAS (SIREN 443061841), the client this "
        "channel belongs to: its identifiers do not all name the same company."
    )


def test_the_same_mixed_seller_is_refused_on_acme_channel_too() -> None:
    assert codes(invoice(seller=seller(ACME_SIREN, BRAVO_VAT))) == [
        "GW-SELLER-IDS-DISAGREE",
        "GW-SELLER-NOT-CLIENT",
    ]


def test_a_siret_of_another_siren_is_refused() -> None:
    found = messages(invoice(seller=seller(ACME_SIREN, ACME_VAT, "55210055400013")))
    assert found["GW-SELLER-IDS-DISAGREE"].startswith(
        "The seller's SIRET 55210055400013 (BT-29) belongs to SIREN 552100554, but its SIREN is 732829320 "
        "(BT-30)."
    )
    assert "GW-SELLER-NOT-CLIENT" in found


def test_a_french_siren_with_a_foreign_vat_number_disagrees() -> None:
    found = messages(invoice(seller=seller(ACME_SIREN, "DE136695976")))
    assert found["GW-SELLER-IDS-DISAGREE"].startswith(
        "The seller's VAT number DE136695976 (BT-31) is not a French one, but its SIREN is 732829320 (BT-30)."
    )


def test_a_siret_as_legal_id_against_a_vat_number() -> None:
    found = messages(invoice(seller=seller("73282932000074", BRAVO_VAT, scheme="0009")))
    assert found["GW-SELLER-IDS-DISAGREE"].startswith(
        "The seller's VAT number FR64443061841 (BT-31) belongs to SIREN 443061841, but its SIRET "
        "73282932000074 (BT-30) belongs to SIREN 732829320."
    )


def test_two_sirens_disagree() -> None:
    two = Party(legal_id=PartyId(ACME_SIREN, "0002"), identifiers=(PartyId(BRAVO_SIREN, "0002"),))
    found = messages(invoice(seller=two))
    assert found["GW-SELLER-IDS-DISAGREE"].startswith(
        "The seller is also given SIREN 443061841 (BT-29), but its SIREN is 732829320 (BT-30)."
    )


@pytest.mark.parametrize(
    "party",
    [
        seller(ACME_SIREN, ACME_VAT, "73282932000074"),
        seller(ACME_SIREN, "fr 44 732.829.320"),
        seller("732 829 320", None),
        seller(None, ACME_VAT),
        seller(None, None, "73282932000074"),
        seller("732829320", ACME_VAT, scheme=None),
    ],
)
def test_identifiers_that_all_name_the_client_pass(party: Party) -> None:
    assert codes(invoice(seller=party)) == []


@pytest.mark.parametrize(
    "party",
    [Party(name="ACME SARL"), seller(None, "DE136695976"), Party(legal_id=PartyId("HRB 1234", "0204"))],
)
def test_a_seller_without_siren_is_not_the_client(party: Party) -> None:
    found = messages(invoice(seller=party))
    assert list(found) == ["GW-SELLER-NOT-CLIENT"]
    assert found["GW-SELLER-NOT-CLIENT"].startswith("The seller of this invoice (no SIREN) is not ACME SARL")


def test_a_foreign_seller_number_without_scheme_is_not_read_as_a_siren() -> None:
    norwegian = Party(legal_id=PartyId("123456789"), vat_id="NO123456789MVA")
    assert list(messages(invoice(seller=norwegian))) == ["GW-SELLER-NOT-CLIENT"]
    assert seller_legal_key(norwegian) == "VAT:NO123456789MVA"


def test_messages_escape_what_the_file_gave() -> None:
    found = messages(invoice(seller=seller(ACME_SIREN, "DE1366\x1b95976")))
    assert "DE1366\\x1b95976" in found["GW-SELLER-IDS-DISAGREE"]
    assert all(find_controls(message) == [] for message in found.values())


@pytest.mark.parametrize(
    ("party", "key"),
    [
        (seller(ACME_SIREN, ACME_VAT, "73282932000074"), ACME_SIREN),
        (seller("732 829 320"), ACME_SIREN),
        (seller(None, ACME_VAT), ACME_SIREN),
        (seller(None, None, "73282932000074"), ACME_SIREN),
        (seller(None, "de 136 695 976"), "VAT:DE136695976"),
        (Party(legal_id=PartyId("hrb 1234", "0204")), "0204:HRB1234"),
        (Party(legal_id=PartyId("HRB 1234")), ":HRB1234"),
        (Party(name="NOBODY"), None),
        (seller(ACME_SIREN, BRAVO_VAT), None),
        (seller(ACME_SIREN, ACME_VAT, "55210055400013"), None),
    ],
)
def test_seller_legal_key(party: Party, key: str | None) -> None:
    assert seller_legal_key(party) == key


def test_the_legal_key_does_not_depend_on_who_sends_the_invoice() -> None:
    # The same receivable, sent once by ACME and once through BRAVO's channel, has one key.
    assert seller_legal_key(seller(ACME_SIREN, ACME_VAT)) == seller_legal_key(seller(None, ACME_VAT))


def test_remembered_facts_follow_the_party_object() -> None:
    shared = seller(ACME_SIREN, ACME_VAT)
    assert codes(invoice(seller=shared)) == []
    assert codes(invoice(seller=seller(ACME_SIREN, BRAVO_VAT)))[0] == "GW-SELLER-IDS-DISAGREE"
    for _ in range(3):  # new equal-looking objects at possibly recycled addresses
        assert codes(invoice(seller=seller(ACME_SIREN, BRAVO_VAT)))[0] == "GW-SELLER-IDS-DISAGREE"
        assert codes(invoice(seller=seller(ACME_SIREN, ACME_VAT))) == []
    assert codes(invoice(seller=shared)) == []


# -- the plausibility cap ---------------------------------------------------------------------


def test_the_default_cap_is_ten_million() -> None:
    assert ACME.contract.max_invoice_amount == D("10000000.00")
    assert codes(invoice(amount="10000000.00")) == []
    assert codes(invoice(amount="10000000.01")) == ["GW-AMOUNT-IMPLAUSIBLE"]


def test_an_implausible_amount_is_shown_readably() -> None:
    (issue,) = check_eligibility(invoice(amount="10000000000000.00"), ACME, TODAY)
    assert issue.code == "GW-AMOUNT-IMPLAUSIBLE" and issue.location == "line 2"
    assert issue.message == (
        "The amount 10,000,000,000,000.00 EUR is above the 10,000,000.00 the contract of ACME SARL allows "
        "for one document; check the amount (a misplaced decimal point?), or ask the factor to raise the "
        "contract's limit."
    )


def test_the_cap_is_the_contract_s_and_covers_credit_notes() -> None:
    small = client(max_invoice_amount=D("5000.00"))
    assert codes(invoice(amount="5000.00"), small) == []
    assert codes(invoice(amount="5000.01"), small) == ["GW-AMOUNT-IMPLAUSIBLE"]
    assert codes(invoice(amount="6000.00", type_code="381", due=None), small) == ["GW-AMOUNT-IMPLAUSIBLE"]
    negative = codes(invoice(amount="-6000.00", type_code="381", due=None), small)
    assert negative == ["GW-AMOUNT-NOT-POSITIVE", "GW-AMOUNT-IMPLAUSIBLE"]
    (issue,) = check_eligibility(invoice(amount="5000.015"), small, TODAY)
    assert "5,000.015 EUR" in issue.message  # shown as given, never rounded
