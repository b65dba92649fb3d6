"""``gateway explain CODE``: the documented meaning of an issue code."""

from __future__ import annotations

from click.testing import CliRunner

from gateway.cli import main
from gateway.error_codes import load_error_codes


def test_a_code_is_explained_in_words() -> None:
    result = CliRunner().invoke(main, ["explain", "gw-duplicate-invoice"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("GW-DUPLICATE-INVOICE (refuses that document): ")
    assert "already assigned" in result.output


def test_a_code_of_a_range_and_an_unknown_code() -> None:
    assert "two decimals" in load_error_codes()["BR-DEC-12"][1]
    result = CliRunner().invoke(main, ["explain", "GW-DUPLICATE-INVOCE"])
    assert result.exit_code == 2
    assert "GW-DUPLICATE-INVOICE" in result.output  # did you mean


def test_without_a_code_every_code_is_listed_and_an_unknown_code_says_so() -> None:
    listed = CliRunner().invoke(main, ["explain"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert len(lines) == len(load_error_codes())
    assert any(line.startswith("GW-DUPLICATE-INVOICE (refuses that document): ") for line in lines)
    unknown = CliRunner().invoke(main, ["explain", "XX-NOTHING"])
    assert unknown.exit_code == 2 and "`gateway explain` lists every code" in unknown.output


def test_an_official_rule_id_is_explained_by_its_family() -> None:
    french = CliRunner().invoke(main, ["explain", "BR-FR-05_BT-22-2"])
    assert french.exit_code == 0, french.output
    assert french.output.startswith("BR-FR-05_BT-22-2 (refuses that document): a French e-invoicing rule")
    report = CliRunner().invoke(main, ["explain", "facturx-en16931:report"])
    assert report.exit_code == 0, report.output
    assert report.output.startswith("facturx-en16931:report (refuses that document): a finding an official")
    assert CliRunner().invoke(main, ["explain", "GW-NO-SUCH-THING"]).exit_code == 2  # GW codes: one by one
