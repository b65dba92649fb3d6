"""UBL in a Peppol SBDH envelope: sniffed, unwrapped, validated and read like a bare UBL file.

The envelope is built here around a UBL invoice (the demo sample, and the Peppol factoring
example of the corpus): the header as Peppol access points write it, then the invoice.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from corpus_support import corpus_bytes

import gateway.parsers.cii as cii
import gateway.parsers.ubl as ubl
from gateway.limits import Limits
from gateway.model import EInvoiceFacts
from gateway.parsers import detect, parse_file
from gateway.parsers.base import SNIFF_BYTES
from gateway.parsers.sbdh import SBDH_NS, sniff_payload

LIMITS = Limits()
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "demo" / "batches"
UBL_INVOICE = (SAMPLES / "acme" / "acme_F-1010.xml").read_bytes()
UBL_CREDIT_NOTE = (SAMPLES / "acme" / "acme_AV-0011.xml").read_bytes()
CII_INVOICE = (SAMPLES / "bravo" / "bravo_B-2001.xml").read_bytes()
PEPPOL = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"

HEADER = f"""<?xml version="1.0" encoding="UTF-8"?>
<sh:StandardBusinessDocument xmlns:sh="{SBDH_NS}">
  <sh:StandardBusinessDocumentHeader>
    <sh:HeaderVersion>1.0</sh:HeaderVersion>
    <sh:Sender><sh:Identifier Authority="iso6523-actorid-upis">0009:73282932000009</sh:Identifier></sh:Sender>
    <sh:Receiver><sh:Identifier Authority="iso6523-actorid-upis">0009:80295478400011</sh:Identifier></sh:Receiver>
    <sh:DocumentIdentification>
      <sh:Standard>urn:oasis:names:specification:ubl:schema:xsd:{{root}}-2</sh:Standard>
      <sh:TypeVersion>2.1</sh:TypeVersion>
      <sh:InstanceIdentifier>2b3c8a50-4c6e-4bd4-9c1e-0d4b7c2f1a11</sh:InstanceIdentifier>
      <sh:Type>{{root}}</sh:Type>
      <sh:CreationDateAndTime>2025-03-05T10:00:00</sh:CreationDateAndTime>
    </sh:DocumentIdentification>
    <sh:BusinessScope>
      <sh:Scope><sh:Type>DOCUMENTID</sh:Type><sh:InstanceIdentifier>urn:oasis:names:specification:ubl:schema:xsd:{{root}}-2::{{root}}##{PEPPOL}::2.1</sh:InstanceIdentifier></sh:Scope>
    </sh:BusinessScope>
  </sh:StandardBusinessDocumentHeader>
"""  # noqa: E501


def wrapped(*documents: bytes, root: str = "Invoice") -> bytes:
    """``documents`` (their XML declarations and leading comments dropped) in one SBDH envelope."""
    bodies = [
        re.sub(rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>)?\s*(?:<!--.*?-->\s*)*", b"", d, flags=re.S)
        for d in documents
    ]
    return HEADER.format(root=root).encode() + b"\n".join(bodies) + b"\n</sh:StandardBusinessDocument>\n"


def test_a_wrapped_invoice_reads_like_the_bare_one() -> None:
    data = wrapped(UBL_INVOICE)
    assert ubl.sniff(data[:SNIFF_BYTES], "x.xml") and not cii.sniff(data[:SNIFF_BYTES], "x.xml")
    assert detect(data, "x.xml") is ubl
    result = parse_file(data, "x.xml", LIMITS)
    bare = ubl.parse(UBL_INVOICE, LIMITS)
    assert result.format == "ubl" and result.issues == () and result.documents == bare.documents
    assert result.einvoice == EInvoiceFacts(
        "ubl-invoice", "UBL 2.1 Invoice", "urn:cen.eu:en16931:2017", "en16931", container="sbdh"
    )
    assert result.xml is not None and result.xml.tag.endswith("}Invoice") and result.xml.getparent() is None
    assert bare.einvoice is not None and bare.einvoice.container is None


def test_a_wrapped_credit_note() -> None:
    result = ubl.parse(wrapped(UBL_CREDIT_NOTE, root="CreditNote"), LIMITS)
    assert len(result.documents) == 1 and result.einvoice is not None
    assert (result.einvoice.syntax, result.einvoice.container) == ("ubl-creditnote", "sbdh")


def test_the_peppol_factoring_example_in_its_envelope() -> None:
    data = corpus_bytes("ubl-xml/cen__BIS_Billing_30-Factoring.xml")
    result = ubl.parse(wrapped(data), LIMITS)
    [invoice] = result.documents
    assert invoice == ubl.parse(data, LIMITS).documents[0]
    assert invoice.payee is not None and invoice.payee.name == "Likviditet o. Finans AB"
    assert result.einvoice == EInvoiceFacts(
        "ubl-invoice", "UBL 2.1 Invoice", PEPPOL, "peppol", container="sbdh"
    )


def test_schema_errors_point_at_the_line_of_the_file_as_received() -> None:
    data = wrapped(UBL_INVOICE.replace(b"<cbc:IssueDate>", b"<cbc:Nope>x</cbc:Nope><cbc:IssueDate>"))
    result = ubl.parse(data, LIMITS)
    line = data[: data.index(b"<cbc:Nope>")].count(b"\n") + 1
    assert result.issues[0].code == "GW-XSD-INVALID" and result.issues[0].location == f"line {line}"
    assert result.einvoice is not None and result.einvoice.container == "sbdh" and result.xml is None


@pytest.mark.parametrize(
    ("documents", "found"),
    [((UBL_INVOICE, UBL_INVOICE), "Invoice, Invoice"), ((), "nothing")],
)
def test_an_envelope_must_carry_exactly_one_document(documents: tuple[bytes, ...], found: str) -> None:
    result = ubl.parse(wrapped(*documents), LIMITS)
    assert [i.code for i in result.issues] == ["GW-SBDH-PAYLOAD"] and result.documents == ()
    assert f"it carries {found}" in result.issues[0].message
    expected = EInvoiceFacts("ubl-invoice", "UBL 2.1 Invoice", container="sbdh") if documents else None
    assert result.einvoice == expected


def test_an_envelope_around_cii_is_not_claimed_and_is_refused_if_forced() -> None:
    data = wrapped(CII_INVOICE)
    assert not ubl.sniff(data[:SNIFF_BYTES], "x.xml") and not cii.sniff(data[:SNIFF_BYTES], "x.xml")
    assert [i.code for i in parse_file(data, "x.xml", LIMITS).issues] == ["GW-FORMAT-UNKNOWN"]
    forced = ubl.parse(data, LIMITS)
    assert [i.code for i in forced.issues] == ["GW-FORMAT-UNKNOWN"]
    assert "'CrossIndustryInvoice', not a UBL 2.1 Invoice or CreditNote" in forced.issues[0].message


def test_a_truncated_envelope_still_says_what_it_carries() -> None:
    data = wrapped(UBL_INVOICE)
    result = ubl.parse(data[: len(data) // 2], LIMITS)
    assert [i.code for i in result.issues] == ["GW-XML-MALFORMED"]
    assert result.einvoice == EInvoiceFacts("ubl-invoice", "UBL 2.1 Invoice", container="sbdh")


def test_sniffing_the_payload() -> None:
    assert sniff_payload(UBL_INVOICE) is None  # not an envelope
    payload = sniff_payload(wrapped(UBL_INVOICE))
    assert payload is not None
    assert (payload.namespace, payload.local_name) == (
        "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
        "Invoice",
    )
    prefixed = wrapped(
        b'<!-- the invoice --><u:Invoice xmlns:u="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>'
    )
    assert sniff_payload(prefixed) is not None
    assert sniff_payload(wrapped(UBL_INVOICE)[:800]) is None  # the head ends inside the header
