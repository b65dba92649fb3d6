"""Hostile PDFs are refused, each with a clear reason, and the rest of the same run goes on (issue 8).

Six hostile PDFs and one good Factur-X invoice are dropped into a real inbox of the demo
configuration (client BRAVO SAS), then ``gateway run --once --json`` runs in its own process:

==================  ==================================================  =====================
file                what it is                                          expected
==================  ==================================================  =====================
bomb.pdf            factur-x.xml whose Flate stream unpacks to 1 GiB     GW-PDF-TOO-COMPLEX
encrypted.pdf       AES-256, user password                               GW-PDF-ENCRYPTED
two-xml.pdf         two CII invoices (B-2002 in factur-x.xml, B-2003     GW-PDF-XML-COMPETING
                    in invoice.xml)
tiny.pdf            15 bytes: ``%PDF-1.4`` and ``%%EOF``                 GW-PDF-MALFORMED
doctype.pdf         factur-x.xml declaring a DOCTYPE with an external    GW-XML-DOCTYPE
                    entity
no-xml.pdf          a plain one-page PDF                                 GW-PDF-NO-XML
B-2001.pdf          the demo's CII invoice B-2001 made a Factur-X PDF    assigned, remitted
                    by the factur-x library
==================  ==================================================  =====================

The hostile PDFs are built with the builders of tests/parsers/test_parsers_pdf_attachments.py.

Two competing invoices (two different CII invoices in one PDF) are refused with
``GW-PDF-XML-COMPETING``; a ZUGFeRD 1.0 copy beside a Factur-X one is not a competitor (the
newer is read, with a ``GW-PDF-XML-CHOSEN`` warning: tests/parsers).
"""

from __future__ import annotations

import json
import time
from io import BytesIO
from typing import Any

import facturx  # type: ignore[import-untyped, unused-ignore]
import pytest
from e2e_support import SAMPLES, prepare_workdir, run_gateway
from pypdf import PdfWriter
from test_parsers_pdf_attachments import flate_bomb, pdf, pdf_with_raw_streams

from gateway.config import load_settings
from gateway.transports.local import LocalFolderInbound

pytestmark = pytest.mark.slow

CLIENT = "bravo"
CII = (SAMPLES / "batches" / CLIENT / "bravo_B-2001.xml").read_bytes()
GOOD = "B-2001.pdf"
COMPETING = "two-xml.pdf"
#: The hostile files and the fatal code each must be refused with (None: any fatal GW-PDF-* code).
HOSTILE: dict[str, str | None] = {
    "bomb.pdf": "GW-PDF-TOO-COMPLEX",
    "encrypted.pdf": "GW-PDF-ENCRYPTED",
    COMPETING: "GW-PDF-XML-COMPETING",
    "tiny.pdf": "GW-PDF-MALFORMED",
    "doctype.pdf": "GW-XML-DOCTYPE",
    "no-xml.pdf": "GW-PDF-NO-XML",
}


def factur_x_pdf(xml: bytes) -> bytes:
    """A real Factur-X PDF around ``xml``, as tests/pipeline/test_pipeline_facturx.py builds it."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    blank = BytesIO()
    writer.write(blank)
    return bytes(facturx.generate_from_binary(blank.getvalue(), xml, check_xsd=True))


def numbered(number: str) -> bytes:
    """The demo invoice under another number (same seller, buyer and amounts)."""
    return CII.replace(b"B-2001", number.encode())


def with_doctype(xml: bytes) -> bytes:
    declaration = b'<!DOCTYPE rsm:CrossIndustryInvoice [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    head, _, body = xml.partition(b"?>")
    return head + b"?>\n" + declaration + body.lstrip()


def the_files() -> dict[str, bytes]:
    """In drop order (which is the processing order): the good invoice last."""
    tiny = b"%PDF-1.4\n%%EOF\n"
    assert len(tiny) == 15
    return {
        "bomb.pdf": pdf_with_raw_streams([("factur-x.xml", flate_bomb(1024), ["/FlateDecode"])]),
        "encrypted.pdf": pdf(("factur-x.xml", numbered("B-2009")), password="secret"),
        COMPETING: pdf(("factur-x.xml", numbered("B-2002")), ("invoice.xml", numbered("B-2003"))),
        "tiny.pdf": tiny,
        "doctype.pdf": pdf(("factur-x.xml", with_doctype(numbered("B-2004")))),
        "no-xml.pdf": pdf(),
        GOOD: factur_x_pdf(CII),
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo workdir with only these files in BRAVO's inbox, after one ``run --once --json``."""
    workdir = tmp_path_factory.mktemp("hostile") / "work"
    config = prepare_workdir(workdir)
    for dropped in (workdir / "clients").glob("*/inbox/*"):
        dropped.unlink()  # the demo's own batches: this run holds only the files of this test
    channel = load_settings(config).client(CLIENT).inbound[0]  # type: ignore[union-attr]
    inbox = LocalFolderInbound(channel.id, channel.transport)
    files = the_files()
    # Uploaded a while ago (past the channel's stable_seconds), one second apart: a fixed order.
    base_ns = time.time_ns() - (len(files) + 60) * 10**9
    try:
        for index, (name, data) in enumerate(files.items()):
            inbox.deposit(name, data, base_ns + index * 10**9)
    finally:
        inbox.close()
    result = run_gateway("run", "--once", "--json", cwd=workdir, timeout=300)
    assert result.returncode in (0, 1), result.stderr[-4000:]
    assert "Traceback" not in result.stderr, result.stderr[-4000:]
    [report] = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    outcomes = {o["file"]: o for o in report["outcomes"]}
    out = workdir / "clients" / CLIENT / "out"
    acks = {}
    for path in out.glob("ACK_*.json"):
        ack = json.loads(path.read_text(encoding="utf-8"))
        acks[ack["source_name"]] = ack
    remittances = [
        json.loads(p.read_text(encoding="utf-8")) for p in (workdir / "out" / "factor").glob("REM_*.json")
    ]
    return {
        "report": report,
        "outcomes": outcomes,
        "acks": acks,
        "remittances": remittances,
        "workdir": workdir,
    }


def test_every_file_of_the_run_is_answered(run: dict[str, Any]) -> None:
    report = run["report"]
    assert (report["files"], report["failed_files"]) == (7, 0)
    assert sorted(run["outcomes"]) == sorted(the_files())
    assert sorted(run["acks"]) == sorted(the_files())  # every sender gets an acknowledgement


def test_the_good_factur_x_invoice_is_assigned(run: dict[str, Any]) -> None:
    outcome = run["outcomes"][GOOD]
    assert (outcome["outcome"], outcome["accepted_documents"], outcome["rejected_documents"]) == (
        "assigned",
        1,
        0,
    )
    ack = run["acks"][GOOD]
    assert [(line["number"], line["verdict"]) for line in ack["lines"]] == [("B-2001", "accepted")]
    [remittance] = [r for r in run["remittances"] if r["source_name"] == GOOD]
    assert [line["number"] for line in remittance["lines"]] == ["B-2001"]
    archived = list((run["workdir"] / "clients" / CLIENT / "archive").rglob(GOOD))
    assert len(archived) == 1


@pytest.mark.parametrize("name", list(HOSTILE))
def test_each_hostile_pdf_is_refused_with_its_code(run: dict[str, Any], name: str) -> None:
    outcome, ack = run["outcomes"][name], run["acks"][name]
    expected = HOSTILE[name]
    fatal = [i for i in ack["file_issues"] if i["severity"] == "fatal"]
    assert outcome["outcome"] == "refused", outcome
    assert (outcome["accepted_documents"], ack["lines"]) == (0, [])
    assert len(fatal) == 1 and fatal[0]["message"], fatal  # one clear reason, in words
    if expected is None:
        assert fatal[0]["code"].startswith("GW-PDF-"), fatal
    else:
        assert fatal[0]["code"] == expected and outcome["codes"] == [expected], (fatal, outcome)
    kept = run["workdir"] / "clients" / CLIENT / "error" / name
    assert kept.is_file() and kept.with_name(f"{name}.reason.json").is_file()
