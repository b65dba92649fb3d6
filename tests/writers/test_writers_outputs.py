"""The formats registry: file names per format, one verification per remittance, the lists the
configuration accepts kept in step with the writers."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from people_formats import PARTIES

from gateway.config import schema
from gateway.errors import DeliveryError
from gateway.model import Acknowledgement, Remittance
from gateway.writers import outputs
from gateway.writers import remittance as machine


def test_writers_outputs_formats_match_the_configuration() -> None:
    assert schema.OUTBOUND_FORMATS == outputs.REMITTANCE_FORMATS
    assert schema.ACKNOWLEDGEMENT_FORMATS == outputs.ACKNOWLEDGEMENT_FORMATS
    assert set(outputs.EXTENSIONS) == set(outputs.REMITTANCE_FORMATS)


def test_writers_outputs_remittance_file_names(remittance: Remittance) -> None:
    files = outputs.remittance_files(remittance, PARTIES, outputs.REMITTANCE_FORMATS)
    assert [name for name, _ in files] == [
        "REM_ACME_000042.csv",
        "REM_ACME_000042.json",
        "REM_ACME_000042.xlsx",
        "REM_ACME_000042.fr.csv",
        "REM_ACME_000042.pdf",
    ]
    by_name = dict(files)
    assert by_name["REM_ACME_000042.csv"] == machine.write(remittance, "csv")  # the machine CSV as before
    assert by_name["REM_ACME_000042.pdf"].startswith(b"%PDF-")
    assert by_name["REM_ACME_000042.xlsx"].startswith(b"PK")


def test_writers_outputs_acknowledgement_file_names(acknowledgement: Acknowledgement) -> None:
    files = outputs.acknowledgement_files(acknowledgement, PARTIES, outputs.ACKNOWLEDGEMENT_FORMATS)
    assert [name for name, _ in files] == [
        f"ACK_ACME_00000007_batch-2025-03-10.{ext}" for ext in ("csv", "json", "xlsx", "fr.csv")
    ]
    with pytest.raises(ValueError, match="pdf"):
        outputs.acknowledgement_files(acknowledgement, PARTIES, ["csv", "pdf"])


def test_writers_outputs_verify_a_remittance_once(
    remittance: Remittance, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = machine.verify

    def counting(r: Remittance) -> machine.Columns:
        calls.append(r.number)
        return real(r)

    monkeypatch.setattr(machine, "verify", counting)
    outputs.remittance_files(remittance, PARTIES, outputs.REMITTANCE_FORMATS)
    assert calls == [42]


def test_writers_outputs_write_nothing_for_an_inconsistent_remittance(remittance: Remittance) -> None:
    wrong = replace(remittance.totals[0], invoice_total=Decimal("1.00"))
    for fmt in outputs.REMITTANCE_FORMATS:
        with pytest.raises(DeliveryError, match="invoice_total"):
            outputs.remittance_files(replace(remittance, totals=(wrong,)), PARTIES, [fmt])
    with pytest.raises(ValueError, match="xml"):
        outputs.remittance_files(remittance, PARTIES, ["csv", "xml"])
