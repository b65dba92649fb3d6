"""``run`` assigns only what is both conformant (per the channel's policy) and financeable.

An e-invoice the official rules find invalid is refused with their codes; one they could not check
(verdict ``error``) is refused with GW-RULES-ERROR; a rule set missing from the installation fails
the file for a retry instead of refusing the client's invoice; a channel may switch the Schematron
off, a contract may switch BR-FR on.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pipeline_support import CONFIG, Gateway, write_config

from gateway.config import load_settings
from gateway.validation import conformance
from gateway.validation.rulesets import RuleSet

REPO = Path(__file__).resolve().parents[2]
DEMO_UBL = (REPO / "samples" / "demo" / "batches" / "acme" / "acme_F-1010.xml").read_text(encoding="utf-8")
#: The demo's factored invoice F-1010 of ACME, made out to ALPHA (the debtor of the test configuration).
ACME_TO_ALPHA = (
    DEMO_UBL.replace("FR89380129866", "FR96552100554")
    .replace("380129866", "552100554")
    .replace("BETA SARL", "ALPHA SA")
)
BAD_COUNTRY = ACME_TO_ALPHA.replace(
    "<cbc:IdentificationCode>FR</cbc:IdentificationCode>",
    "<cbc:IdentificationCode>XX</cbc:IdentificationCode>",
)


def _line(gateway: Gateway, name: str) -> dict[str, object]:
    (line,) = gateway.acknowledgement("acme", name)["lines"]
    assert isinstance(line, dict)
    return line


def _gateway(tmp_path: Path, config: str) -> Gateway:
    settings = load_settings(
        write_config(tmp_path / "etc", config), ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}"
    )
    return Gateway(settings, settings.ledger_url)


def test_a_conformant_financeable_e_invoice_is_assigned(gateway: Gateway) -> None:
    gateway.drop("acme-inbox", "ok.xml", ACME_TO_ALPHA.encode())
    report = gateway.cycle()
    line = _line(gateway, "ok.xml")
    assert (line["verdict"], line["issues"]) == ("accepted", [])
    assert report.remittances == [("acme", 1)]


def test_an_invalid_e_invoice_is_refused_with_the_official_codes(gateway: Gateway) -> None:
    assert BAD_COUNTRY != ACME_TO_ALPHA
    gateway.drop("acme-inbox", "bad.xml", BAD_COUNTRY.encode())
    report = gateway.cycle()
    line = _line(gateway, "bad.xml")
    assert line["verdict"] == "rejected"
    issues = line["issues"]
    assert isinstance(issues, list)
    assert {(i["code"], i["severity"], i["source"]) for i in issues} == {("BR-CL-14", "fatal", "EN16931")}
    assert report.remittances == []


def test_an_e_invoice_the_rules_could_not_check_is_refused(
    gateway: Gateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    throws = tmp_path / "throws.xslt"
    throws.write_text(
        '<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        "<xsl:template match='/'><xsl:sequence select=\"error((), 'boom')\"/></xsl:template></xsl:stylesheet>"
    )
    rule_set = RuleSet("test-throws-run", "test throws", frozenset({"ubl-invoice"}), throws)
    monkeypatch.setattr(conformance, "choose_rule_sets", lambda *a, **k: (rule_set,))
    gateway.drop("acme-inbox", "crash.xml", ACME_TO_ALPHA.encode())
    report = gateway.cycle()
    line = _line(gateway, "crash.xml")
    assert line["verdict"] == "rejected"
    assert [i["code"] for i in line["issues"]] == ["GW-RULES-ERROR"]  # type: ignore[union-attr]
    assert report.failed_files == 0  # refused with a clear message: no retry that would crash again


def test_a_rule_set_missing_from_the_installation_fails_the_file_for_a_retry(
    gateway: Gateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = RuleSet("test-gone-run", "test gone", frozenset({"ubl-invoice"}), tmp_path / "gone.xslt")
    monkeypatch.setattr(conformance, "choose_rule_sets", lambda *a, **k: (gone,))
    gateway.drop("acme-inbox", "later.xml", ACME_TO_ALPHA.encode())
    report = gateway.cycle()
    assert report.failed_files == 1
    assert gateway.acknowledgements("acme") == {}  # the client is told nothing yet: it is our fault
    (state,) = gateway.query("SELECT state FROM envelopes")
    assert state == ("failed",)
    monkeypatch.undo()  # the installation is repaired: the next cycle takes the file again
    gateway.cycle()
    assert _line(gateway, "later.xml")["verdict"] == "accepted"


def test_a_channel_may_switch_the_schematron_off(tmp_path: Path) -> None:
    config = CONFIG.replace('id = "acme-inbox"\n', 'id = "acme-inbox"\nschematron = false\n', 1)
    assert config != CONFIG
    gateway = _gateway(tmp_path, config)
    try:
        gateway.drop("acme-inbox", "fast.xml", BAD_COUNTRY.encode())
        gateway.cycle()
        # Only the XSD judged conformance: the country code rule is not the gateway's to check.
        assert _line(gateway, "fast.xml")["verdict"] == "accepted"
    finally:
        gateway.close()


def test_a_contract_may_ask_for_the_french_rules(tmp_path: Path) -> None:
    contract = "[clients.acme.contract]\n"
    config = CONFIG.replace(contract, contract + "br_fr = true\n", 1)
    assert config != CONFIG
    gateway = _gateway(tmp_path, config)
    try:
        gateway.drop("acme-inbox", "fr.xml", ACME_TO_ALPHA.encode())
        gateway.cycle()
        line = _line(gateway, "fr.xml")
        assert line["verdict"] == "rejected"
        french = [i for i in line["issues"] if i["source"] == "BR-FR"]  # type: ignore[union-attr]
        assert french and all(i["code"].startswith("BR-FR-") and i["severity"] == "fatal" for i in french)
    finally:
        gateway.close()
