"""Format-independent document checks: one test per code, messages people can act on."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from builders import sample_invoice

from gateway.model import DocumentTotals, Invoice, Party, PartyId, Severity
from gateway.validation.document import check_document, key_identifier

D = Decimal


def invoice(**changes: object) -> Invoice:
    return sample_invoice(**changes)


def totals(**values: str | None) -> DocumentTotals:
    texts: dict[str, str | None] = {
        "tax_exclusive": "1000.00",
        "tax": "200.00",
        "tax_inclusive": "1200.00",
        "amount_due": "1200.00",
    }
    texts.update(values)
    amounts = {name: (D(text) if text is not None else None) for name, text in texts.items()}
    return DocumentTotals(**amounts)


def codes(inv: Invoice) -> list[str]:
    return [issue.code for issue in check_document(inv)]


def test_a_sound_invoice_has_no_issue() -> None:
    assert check_document(invoice()) == []


def test_issues_carry_the_document_location() -> None:
    (issue,) = check_document(invoice(currency="EURO"))
    assert issue.location == "line 7" and issue.severity is Severity.FATAL


@pytest.mark.parametrize(
    ("changes", "term"),
    [
        ({"seller": Party(legal_id=PartyId("732829320", "0002"))}, "BT-27"),
        ({"buyer": Party(name="  ", legal_id=PartyId("552100554", "0002"))}, "BT-44"),
        ({"totals": totals(tax_exclusive=None)}, "BT-109"),
        ({"totals": totals(tax=None)}, "BT-110"),
        ({"totals": totals(tax_inclusive=None)}, "BT-112"),
        ({"number": ""}, "BT-1"),
    ],
)
def test_required_terms(changes: dict[str, object], term: str) -> None:
    (issue,) = check_document(invoice(**changes))
    assert issue.code == "GW-REQUIRED-MISSING"
    assert term in issue.message


def test_nothing_says_what_is_owed() -> None:
    (issue,) = check_document(invoice(totals=totals(tax_inclusive=None, amount_due=None)))
    assert issue.code == "GW-REQUIRED-MISSING"
    assert "BT-112" in issue.message and "BT-115" in issue.message


def test_br_co_15_message_shows_the_arithmetic() -> None:
    (issue,) = check_document(invoice(totals=totals(tax="150.00")))
    assert issue.code == "BR-CO-15"
    assert issue.message == (
        "Total with VAT (BT-112) is 1200.00 but total without VAT (BT-109) 1000.00 plus VAT (BT-110) 150.00 "
        "makes 1150.00."
    )


def test_br_co_15_is_exact_to_the_cent() -> None:
    assert codes(invoice(totals=totals(tax="199.99", amount_due="1200.00"))) == ["BR-CO-15"]
    assert codes(invoice(totals=totals(tax="200.0"))) == []  # same value, other scale


def test_br_co_16_counts_absent_terms_as_zero() -> None:
    assert codes(invoice(totals=totals(amount_due="1000.00"))) == ["BR-CO-16"]
    paid = DocumentTotals(
        tax_exclusive=D("1000.00"),
        tax=D("200.00"),
        tax_inclusive=D("1200.00"),
        prepaid=D("200.00"),
        rounding=D("0.01"),
        amount_due=D("1000.01"),
    )
    assert codes(invoice(totals=paid)) == []
    wrong = dataclasses.replace(paid, amount_due=D("1000.00"))
    (issue,) = check_document(invoice(totals=wrong))
    assert issue.code == "BR-CO-16"
    assert issue.message == (
        "Amount due (BT-115) is 1000.00 but total with VAT (BT-112) 1200.00 minus prepaid (BT-113) 200.00 "
        "plus rounding (BT-114) 0.01 makes 1000.01."
    )


def test_amount_due_may_be_absent() -> None:
    assert codes(invoice(totals=totals(amount_due=None))) == []


def test_siren_checked_on_every_party() -> None:
    bad_seller = Party(name="ACME", legal_id=PartyId("732829321", "0002"))
    (issue,) = check_document(invoice(seller=bad_seller))
    assert issue.code == "GW-SIREN-INVALID"
    assert "seller's SIREN (BT-30) '732829321'" in issue.message
    payee = Party(name="FACTOR", legal_id=PartyId("12345678", "0002"))
    assert codes(invoice(payee=payee)) == ["GW-SIREN-INVALID"]
    spaced = Party(name="ALPHA", legal_id=PartyId("552 100 554", "0002"))
    assert codes(invoice(buyer=spaced)) == []


def test_siret_checked() -> None:
    good = Party(name="ALPHA", identifiers=(PartyId("55210055400013", "0009"),))
    bad = Party(name="ALPHA", identifiers=(PartyId("55210055400014", "0009"),))
    assert codes(invoice(buyer=good)) == []
    (issue,) = check_document(invoice(buyer=bad))
    assert issue.code == "GW-SIRET-INVALID" and "BT-46" in issue.message


def test_ids_without_a_french_scheme_are_not_checked() -> None:
    assert (
        codes(invoice(buyer=Party(name="ALPHA", identifiers=(PartyId("C-0042"), PartyId("123", "0088")))))
        == []
    )


@pytest.mark.parametrize(
    ("vat", "valid"),
    [
        ("FR44732829320", True),
        ("FR 44 732 829 320", True),
        ("FR45732829320", False),
        ("DE136695976", True),
        ("DE136695977", False),
        ("732829320", False),
        ("CHE-123.456.788", True),  # outside the EU: only the country prefix is required
    ],
)
def test_vat_numbers(vat: str, valid: bool) -> None:
    found = codes(invoice(buyer=Party(name="B", vat_id=vat)))
    assert found == ([] if valid else ["GW-VAT-INVALID"])


def test_type_code_unsupported() -> None:
    (issue,) = check_document(invoice(type_code="325"))
    assert issue.code == "GW-TYPE-CODE-UNSUPPORTED"
    assert "'325'" in issue.message and "380" in issue.message and "381" in issue.message


@pytest.mark.parametrize("currency", ["EURO", "eur", "XXX", "", "E1R"])
def test_currency_invalid(currency: str) -> None:
    (issue,) = check_document(invoice(currency=currency))
    assert issue.code == "GW-CURRENCY-INVALID" and "BT-5" in issue.message


def test_vat_currency_checked_too() -> None:
    assert codes(invoice(tax_currency="FRF")) == ["GW-CURRENCY-INVALID"]
    assert codes(invoice(tax_currency="EUR")) == []


def test_credit_note_without_reference_is_a_warning() -> None:
    (issue,) = check_document(invoice(type_code="381", due_date=None))
    assert issue.code == "GW-CREDIT-NOTE-NO-REFERENCE"
    assert issue.severity is Severity.WARNING and not issue.is_fatal
    assert codes(invoice(type_code="396", preceding_invoices=("F-0950",))) == []


def test_all_problems_at_once() -> None:
    bad = invoice(
        type_code="999",
        currency="ZZZ",
        seller=Party(legal_id=PartyId("111111111", "0002")),
        totals=totals(tax="1.00"),
    )
    assert codes(bad) == [
        "GW-REQUIRED-MISSING",
        "BR-CO-15",
        "GW-SIREN-INVALID",
        "GW-TYPE-CODE-UNSUPPORTED",
        "GW-CURRENCY-INVALID",
    ]


def test_amount_with_three_decimals_breaks_the_decimals_rule_and_is_not_rounded() -> None:
    found = codes(
        invoice(totals=totals(tax_exclusive="1000.005", tax_inclusive="1200.005", amount_due="1200.005"))
    )
    assert {"BR-DEC-12", "BR-DEC-14", "BR-DEC-18"} <= set(found)


def test_absurdly_large_amount_is_refused() -> None:
    big = "2000000000000000.00"
    found = codes(invoice(totals=totals(tax_exclusive=big, tax="0.00", tax_inclusive=big, amount_due=big)))
    assert found.count("GW-AMOUNT-TOO-LARGE") == 3


# --- a bad checksum refuses the document only on the identifier that recognises its party ---------


def severities(inv: Invoice, **kwargs: object) -> list[tuple[str, Severity]]:
    return [(i.code, i.severity) for i in check_document(inv, **kwargs)]  # type: ignore[arg-type]


def test_a_bad_checksum_on_the_identifier_the_seller_is_recognised_by_is_fatal() -> None:
    bad_siren = Party(name="ACME", legal_id=PartyId("732829321", "0002"), vat_id="FR44732829320")
    assert severities(invoice(seller=bad_siren)) == [("GW-SIREN-INVALID", Severity.FATAL)]
    vat_only = Party(name="ACME", vat_id="FR45732829320")  # no SIREN: the VAT number is its identity
    assert severities(invoice(seller=vat_only)) == [("GW-VAT-INVALID", Severity.FATAL)]


def test_a_bad_checksum_elsewhere_is_a_warning_that_says_why() -> None:
    bad_vat = Party(name="ACME", legal_id=PartyId("732829320", "0002"), vat_id="FR45732829320")
    (issue,) = check_document(invoice(seller=bad_vat))
    assert (issue.code, issue.severity) == ("GW-VAT-INVALID", Severity.WARNING)
    assert (
        "recognises the seller by another of its identifiers, so the document is not refused" in issue.message
    )
    bad_siret = Party(
        name="ALPHA", legal_id=PartyId("552100554", "0002"), identifiers=(PartyId("55210055400014", "0009"),)
    )
    assert severities(invoice(buyer=bad_siret)) == [("GW-SIRET-INVALID", Severity.WARNING)]


def test_the_payees_identifiers_never_refuse_the_document() -> None:
    payee = Party(name="FACTOR", legal_id=PartyId("12345678", "0002"))
    (issue,) = check_document(invoice(payee=payee))
    assert (issue.code, issue.severity) == ("GW-SIREN-INVALID", Severity.WARNING)
    assert "payee's identifiers do not decide whose receivable this is" in issue.message


def test_the_buyer_identifier_that_found_the_debtor_decides() -> None:
    # SIREN wrong, VAT right: with a client whose debtor was found by the VAT number, the SIREN is
    # only a warning; without one (or when the SIREN found it) the SIREN is what recognises the buyer.
    buyer = Party(name="ALPHA", legal_id=PartyId("552100555", "0002"), vat_id="FR96552100554")
    assert severities(invoice(buyer=buyer)) == [("GW-SIREN-INVALID", Severity.FATAL)]
    assert severities(invoice(buyer=buyer), buyer_matched_by="vat") == [
        ("GW-SIREN-INVALID", Severity.WARNING)
    ]


def test_key_identifier_reads_parties_as_eligibility_does() -> None:
    assert (
        key_identifier(Party(identifiers=(PartyId("55210055400013"),), vat_id="FR96552100554"))
        == "identifier"
    )
    assert key_identifier(Party(legal_id=PartyId("HRB 1234", "0204"))) == "legal"
    assert key_identifier(Party(name="nobody")) is None
