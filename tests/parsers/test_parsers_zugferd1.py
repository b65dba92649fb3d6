"""ZUGFeRD 1.0: read for the factor's terms, always with the GW-ZUGFERD1 warning, never EN 16931.

The XML comes from the corpus PDFs (ZUGFeRD 1.0 exists only inside a PDF); it is
extracted in the test, never copied into the repository.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from corpus_support import corpus_bytes

import gateway.parsers.zugferd1 as zugferd1
from gateway.limits import Limits
from gateway.model import DocumentTotals, EInvoiceFacts, Note, Party, PartyId, PaymentInstructions, Severity
from gateway.parsers import PARSERS, facturx
from gateway.parsers.base import SNIFF_BYTES
from gateway.parsers.pdf_attachments import extract_invoice_xml

LIMITS = Limits()
COMFORT = "urn:ferd:CrossIndustryDocument:invoice:1p0:comfort"


def corpus_zugferd1(name: str) -> bytes:
    xml = extract_invoice_xml(corpus_bytes(f"facturx-pdf/{name}"), LIMITS).xml
    assert xml is not None
    return xml


@pytest.fixture(scope="module")
def comfort() -> bytes:
    return corpus_zugferd1("zfc__ZUGFeRD_1p0_COMFORT_Einfach.pdf")


def test_the_intarsys_comfort_sample(comfort: bytes) -> None:
    assert zugferd1.sniff(comfort[:SNIFF_BYTES], "ZUGFeRD-invoice.xml")
    result = zugferd1.parse(comfort, LIMITS)
    assert result.format == "zugferd1"
    assert [(i.code, i.severity) for i in result.issues] == [("GW-ZUGFERD1", Severity.WARNING)]
    assert "before the European standard EN 16931" in result.issues[0].message
    assert result.einvoice == EInvoiceFacts("zugferd1", "ZUGFeRD 1.0", COMFORT, "zugferd1")
    assert result.xml is not None and result.xml.tag.endswith("}CrossIndustryDocument")
    [invoice] = result.documents
    assert (invoice.number, invoice.issue_date, invoice.type_code, invoice.currency) == (
        "471102",
        date(2013, 3, 5),
        "380",
        "EUR",
    )
    assert invoice.due_date == date(2013, 4, 4)
    assert invoice.specification_id == COMFORT
    assert invoice.seller == Party(
        name="Lieferant GmbH",
        identifiers=(PartyId("4000001123452", "0088"),),
        vat_id="DE123456789",  # the FC tax number is not the VAT id
        country="DE",
    )
    assert invoice.buyer == Party(
        name="Kunden AG Mitte",
        identifiers=(PartyId("GE2020211"), PartyId("4000001987658", "0088")),
        country="DE",
    )
    assert invoice.payee is None
    assert invoice.payment_instructions == (
        PaymentInstructions(
            means_code="31",
            means_text="Überweisung",
            remittance_information="2013-471102",
            account_id="DE08700901001234567890",
            bic="GENODEF1M04",
        ),
    )
    assert invoice.totals == DocumentTotals(
        line_net=Decimal("473.00"),
        allowances=Decimal("0.00"),
        charges=Decimal("0.00"),
        tax_exclusive=Decimal("473.00"),
        tax=Decimal("56.87"),
        tax_inclusive=Decimal("529.87"),
        prepaid=Decimal("0.00"),
        amount_due=Decimal("529.87"),
    )
    assert invoice.notes[0] == Note("Rechnung gemäß Bestellung vom 01.03.2013.")
    assert invoice.notes[1].subject_code == "REG"
    assert invoice.payment_terms is not None and invoice.payment_terms.startswith(
        "Zahlbar innerhalb 30 Tagen"
    )


def test_the_pdf_gives_the_same_invoice_with_the_warning_located_in_the_attachment(comfort: bytes) -> None:
    result = facturx.parse(corpus_bytes("facturx-pdf/zfc__ZUGFeRD_1p0_COMFORT_Einfach.pdf"), LIMITS)
    assert result.documents == zugferd1.parse(comfort, LIMITS).documents
    assert [i.code for i in result.issues] == ["GW-ZUGFERD1"]  # the XMP says COMFORT, like BT-24
    assert result.issues[0].location == "attachment ZUGFeRD-invoice.xml: /rsm:CrossIndustryDocument"
    assert result.einvoice == EInvoiceFacts(
        "zugferd1", "ZUGFeRD 1.0", COMFORT, "zugferd1", container="pdf", attachment="ZUGFeRD-invoice.xml"
    )


def test_the_mustang_fail_sample_is_refused_by_the_xsd_and_still_warned() -> None:
    result = facturx.parse(corpus_bytes("facturx-pdf/zfc__fail1.pdf"), LIMITS)
    assert [i.code for i in result.issues] == ["GW-PDF-XMP-MISMATCH", "GW-ZUGFERD1", "GW-XSD-INVALID"]
    assert "'19.00e', which is not a decimal number" in result.issues[2].message
    assert result.documents == () and result.xml is None
    assert result.einvoice is not None and result.einvoice.profile == "zugferd1"  # whatever BT-24 says
    assert result.einvoice.guideline_id == "urn:ferd:CrossIndustryDocument:invoice:1p0:komfort"


def test_a_damaged_zugferd1_file_is_still_warned_and_never_raises(comfort: bytes) -> None:
    result = zugferd1.parse(comfort[: len(comfort) // 2], LIMITS)
    assert [i.code for i in result.issues] == ["GW-ZUGFERD1", "GW-XML-MALFORMED"]
    assert result.einvoice == EInvoiceFacts("zugferd1", "ZUGFeRD 1.0", profile="zugferd1")
    no_currency = comfort.replace(b"<ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>", b"")
    assert [i.code for i in zugferd1.parse(no_currency, LIMITS).issues] == [
        "GW-ZUGFERD1",
        "GW-REQUIRED-MISSING",
    ]


def test_other_xml_is_not_zugferd1() -> None:
    cii = b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"/>'  # noqa: E501
    assert not zugferd1.sniff(cii, "x.xml")
    result = zugferd1.parse(cii, LIMITS)
    assert [i.code for i in result.issues] == ["GW-FORMAT-UNKNOWN"] and result.einvoice is None


def test_it_is_only_read_inside_a_pdf() -> None:
    assert zugferd1 not in PARSERS
