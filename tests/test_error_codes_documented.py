"""Every issue code the gateway can emit is explained in docs/error-codes.md: the gateway's own
(``GW-…``) one by one, official rule ids (``BR-…``, ``BR-FR-…``, ``FX-SCH-…``) by their family row."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.error_codes import find_error_code, load_error_codes

REPO = Path(__file__).resolve().parents[1]
CODE = re.compile(r'"((?:GW|BR)-[A-Z0-9-]+)"')
DOC = REPO / "docs" / "error-codes.md"


def test_every_code_in_the_source_is_documented() -> None:
    emitted = {
        m for path in (REPO / "gateway").rglob("*.py") for m in CODE.findall(path.read_text(encoding="utf-8"))
    }
    documented = DOC.read_text(encoding="utf-8")
    dec_range = {f"BR-DEC-{n:02d}" for n in range(9, 19)}  # documented as a range
    missing = sorted(code for code in emitted - dec_range if f"`{code}`" not in documented)
    assert emitted, "no code found: the pattern is wrong"
    assert missing == []


def test_official_rule_ids_are_documented_by_family() -> None:
    codes = load_error_codes(DOC)
    official = [
        ("BR-CO-10", "BR-*"),
        ("BR-S-08", "BR-*"),
        ("BR-FR-05_BT-22-2", "BR-FR-*"),
        ("BR-FR-CO-09", "BR-FR-*"),
        ("FX-SCH-A-000556", "FX-SCH-*"),
        ("UBL-CR-099", "UBL-*"),
        ("CII-SR-465", "CII-*"),
        ("PEPPOL-EN16931-R008", "PEPPOL-*"),
        ("facturx-en16931:report", "*:report"),
        ("BR-CO-15", "BR-CO-15"),  # a row of its own wins over the family
    ]
    for code, row in official:
        found = find_error_code(code, codes)
        assert found is not None and found[0] == row, code


def test_gateway_codes_are_never_documented_by_family() -> None:
    codes = load_error_codes(DOC)
    assert not [pattern for pattern in codes if "*" in pattern and pattern.startswith("GW")]
    assert find_error_code("GW-NO-SUCH-CODE", codes) is None
