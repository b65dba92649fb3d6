"""Control characters: found and escaped (gateway.text), refused in any text of a document.

The code is GW-TEXT-CONTROL-CHAR, one issue per field.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from builders import BUYER, SELLER, acme_client, sample_invoice
from hypothesis import given
from hypothesis import strategies as st

from gateway.intake import examine
from gateway.limits import DEFAULT_LIMITS
from gateway.model import Invoice, Note, Party, PartyId, PaymentInstructions
from gateway.text import BIDI_CONTROLS, describe_control, escape_controls, find_controls, has_controls
from gateway.validation.document import check_document

D = Decimal
C0 = [chr(code) for code in range(0x20)]
C1 = [chr(code) for code in range(0x80, 0xA0)]
CONTROLS = [*C0, "\x7f", *C1, *BIDI_CONTROLS]
CLEAN = [
    "F-1001",
    "Société Générale",
    "Zürich AG",
    "北京有限公司",
    "Ωmega 😀",
    "1\u00a0000 €",
    "VE\\00066",
    "",
]


# -- gateway.text ------------------------------------------------------------------------


@pytest.mark.parametrize("char", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_every_control_character_is_found_and_escaped(char: str) -> None:
    text = f"ab{char}c"
    assert find_controls(text) == [(2, char)]
    assert has_controls(text)
    escaped = escape_controls(text)
    assert escaped.startswith("ab\\") and escaped.endswith("c")
    assert find_controls(escaped) == []


@pytest.mark.parametrize("text", CLEAN)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert find_controls(text) == [] and not has_controls(text)
    assert escape_controls(text) is text


def test_free_text_may_hold_tabs_and_line_breaks_only() -> None:
    assert find_controls("net 30\r\n\tdays", multiline=True) == []
    assert not has_controls("a\nb", multiline=True)
    assert find_controls("a\nb\x0bc\x1b", multiline=True) == [(3, "\x0b"), (5, "\x1b")]
    assert find_controls("a\nb") == [(1, "\n")]


def test_escapes_people_can_read() -> None:
    assert escape_controls("F\x00-\x1b[31m-\x7f-\x9b-\t\n\r-\u202e-\u2066") == (
        "F\\x00-\\x1b[31m-\\x7f-\\x9b-\\t\\n\\r-\\u202e-\\u2066"
    )
    assert escape_controls("Café\x00") == "Café\\x00"


def test_controls_are_described_by_code_point_and_usual_name() -> None:
    assert [describe_control(c) for c in "\x00\x1b\x7f\x9b\u200f"] == [
        "U+0000 (NUL)",
        "U+001B (ESC)",
        "U+007F (DEL)",
        "U+009B",
        "U+200F (RIGHT-TO-LEFT MARK)",
    ]


@given(st.text())
def test_escaped_text_never_holds_a_control_character(text: str) -> None:
    escaped = escape_controls(text)
    assert find_controls(escaped) == []
    assert (escaped == text) == (find_controls(text) == [])


@given(st.text())
def test_has_controls_agrees_with_find_controls(text: str) -> None:
    assert has_controls(text) == bool(find_controls(text))
    assert has_controls(text, multiline=True) == bool(find_controls(text, multiline=True))


# -- check_document ------------------------------------------------------------------------


def invoice(**changes: object) -> Invoice:
    return sample_invoice(**changes)


def control_issues(inv: Invoice) -> list[str]:
    found = [issue for issue in check_document(inv) if issue.code == "GW-TEXT-CONTROL-CHAR"]
    for issue in found:
        assert find_controls(issue.message) == [], issue.message
        assert issue.location == inv.location and issue.is_fatal
    return [issue.message for issue in found]


def test_nul_in_the_invoice_number() -> None:
    assert control_issues(invoice(number="F-10\x0001")) == [
        "The invoice number (BT-1) 'F-10\\x0001' contains the control character U+0000 (NUL) at "
        "character 5. Such invisible characters can hide or change what people and programs read, so "
        "the document is refused; remove them in the ERP and send it again."
    ]


def test_several_characters_in_one_field_make_one_issue() -> None:
    (message,) = control_issues(invoice(number="\x1b[31mF-1001\x1b[0m\x07"))
    assert message.startswith(
        "The invoice number (BT-1) '\\x1b[31mF-1001\\x1b[0m\\x07' contains the control characters "
        "U+001B (ESC) at character 1, U+0007 (BEL) at character 16."
    )


def test_a_bidi_override_in_a_party_name() -> None:
    (message,) = control_issues(invoice(buyer=dataclasses.replace(BUYER, name="ALPHA \u202eAS")))
    assert message.startswith(
        "The buyer's name (BT-44) 'ALPHA \\u202eAS' contains the control character U+202E "
        "(RIGHT-TO-LEFT OVERRIDE) at character 7."
    )


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"currency": "EUR\x00"}, "The currency (BT-5)"),
        ({"buyer_reference": "R\x7f"}, "The buyer reference (BT-10)"),
        ({"purchase_order_reference": "PO\x85"}, "The purchase order reference (BT-13)"),
        ({"preceding_invoices": ("F-1", "F-2\u2066")}, "The preceding invoice reference no. 2 (BT-25)"),
        (
            {"seller": dataclasses.replace(SELLER, vat_id="FR44732829320\x00")},
            "The seller's VAT number (BT-31)",
        ),
        (
            {"seller": dataclasses.replace(SELLER, legal_id=PartyId("732829320\x1b", "0002"))},
            "The seller's legal registration identifier (BT-30)",
        ),
        (
            {"buyer": dataclasses.replace(BUYER, identifiers=(PartyId("C\x000042"),))},
            "The buyer's identifier (BT-46)",
        ),
        ({"payee": Party(name="FACTOR\u200e SA")}, "The payee's name (BT-59)"),
        ({"notes": (Note("ok"), Note("x", "AC\x00C"))}, "The note subject code no. 2 (BT-21)"),
        (
            {"payment_instructions": (PaymentInstructions(account_id="FR76\x1b3000"),)},
            "The payment account identifier (BT-84)",
        ),
    ],
)
def test_every_text_of_the_document_is_checked(changes: dict[str, object], words: str) -> None:
    (message,) = control_issues(invoice(**changes))
    assert message.startswith(words + " '")


def test_one_issue_per_field() -> None:
    bad = invoice(number="F\x00", seller=dataclasses.replace(SELLER, name="ACME\x1b"), payment_terms="\x00")
    messages = control_issues(bad)
    assert [m.split(" '")[0] for m in messages] == [
        "The invoice number (BT-1)",
        "The payment terms (BT-20)",
        "The seller's name (BT-27)",
    ]


def test_free_text_keeps_its_line_breaks_but_not_other_controls() -> None:
    free = invoice(
        payment_terms="Net 30 days.\r\nLate payment: 40 EUR.",
        notes=(Note("Line one\n\tLine two"),),
        payment_instructions=(PaymentInstructions(remittance_information="INV F-1001\nACME"),),
    )
    assert control_issues(free) == []
    (message,) = control_issues(invoice(notes=(Note("Line one\nLine \x1b[2J two"),)))
    assert message.startswith(
        "The note (BT-22) 'Line one\\nLine \\x1b[2J two' contains the control character U+001B"
    )
    # identifiers, numbers and names are one line
    (message,) = control_issues(invoice(number="F-1001\n"))
    assert "U+000A (LF)" in message


def test_a_long_value_is_shown_around_the_first_control_character() -> None:
    text = "A" * 200 + "\x00" + "B" * 200
    (message,) = control_issues(invoice(notes=(Note(text),)))
    shown = message.split("'")[1]
    assert shown.startswith("…A") and shown.endswith("B…") and "\\x00" in shown
    assert len(shown) < 80


def test_the_file_location_is_not_document_text() -> None:
    assert control_issues(invoice(location="line\x007")) == []


@dataclasses.dataclass(frozen=True, slots=True)
class InvoiceWithANewTerm(Invoice):
    factoring_clause: str | None = None
    extra_parties: tuple[Party, ...] = ()


def test_a_text_field_added_to_the_model_is_checked_without_naming_it() -> None:
    base = invoice()
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(Invoice)}
    newer = InvoiceWithANewTerm(
        **fields, factoring_clause="Pay \x1b to the factor", extra_parties=(Party(name="X\x00"),)
    )
    messages = control_issues(newer)
    assert [m.split(" '")[0] for m in messages] == ["The factoring clause", "The extra parties name"]


# -- through intake, from a CSV batch ------------------------------------------------------

CSV = (
    "invoice_number;type_code;issue_date;due_date;currency;seller_siren;seller_name;buyer_name;"
    "buyer_siren;total_without_vat;total_vat;total_with_vat\n"
    "F-1001;380;2025-03-01;2025-05-04;EUR;732829320;ACME SARL;ALPHA SA;552100554;1000.00;200.00;1200.00\n"
    "F-10\x0002;380;2025-03-01;2025-05-04;EUR;732829320;ACME SARL;ALPHA SA;552100554;1000.00;200.00;1200.00\n"
    "F-1003\x1b[31m;380;2025-03-01;2025-05-04;EUR;732829320;ACME SARL;ALPHA SA;552100554;10.00;2.00;12.00\n"
    "F-1004;380;2025-03-01;2025-05-04;EUR;732829320;ACME SARL;ALPHA SA;552100554;100.00;20.00;120.00\n"
)
CLIENT = acme_client()


def test_a_csv_batch_refuses_only_the_documents_with_control_characters() -> None:
    examined = examine(1, "batch.csv", CSV.encode(), CLIENT, date(2025, 3, 10), DEFAULT_LIMITS, "csv-batch")
    assert examined.file_rejection is None
    verdicts = [(c.invoice.location, [i.code for i in c.issues]) for c in examined.candidates]
    assert verdicts == [
        ("line 2", []),
        ("line 3", ["GW-TEXT-CONTROL-CHAR"]),
        ("line 4", ["GW-TEXT-CONTROL-CHAR"]),
        ("line 5", []),
    ]
    nul, esc = (c.issues[0].message for c in examined.candidates[1:3])
    assert nul.startswith(
        "The invoice number (BT-1) 'F-10\\x0002' contains the control character U+0000 (NUL)"
    )
    assert esc.startswith(
        "The invoice number (BT-1) 'F-1003\\x1b[31m' contains the control character U+001B (ESC)"
    )
