"""The French CSV (format ``csv-fr``), read back with the csv module: one table under one header
row, French decimals that sum to the JSON totals, labelled blocks after an empty row, formula
neutralisation, exact bytes for worked example 1."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from people_formats import (
    FORMULA_NAME,
    PARTIES,
    french_blocks,
    french_decimal,
    french_rows,
    french_sums,
    french_totals,
    json_totals,
    mixed_remittance,
)

from gateway.errors import DeliveryError
from gateway.model import Acknowledgement, Remittance, Verdict
from gateway.writers import french_csv as writer
from gateway.writers import remittance as machine
from gateway.writers.csv_cells import original_text

GOLDEN = (
    "\ufeff"
    "N° ligne;Type;Code type;Numéro;Date de facture;Échéance;Code débiteur;Débiteur;Devise;Montant;Garanti;"
    "Non garanti;Facture d'origine\r\n"
    "1;Avoir;381;AV-0007;02/03/2025;;ALPHA;ALPHA SA;EUR;-1200,00;-1200,00;0,00;F-0950\r\n"
    "2;Facture;380;F-1001;01/03/2025;04/05/2025;ALPHA;ALPHA SA;EUR;12000,00;11200,00;800,00;\r\n"
    "3;Facture;380;F-1002;03/03/2025;30/04/2025;BETA;BETA SAS;EUR;24000,00;24000,00;0,00;\r\n"
    "4;Facture;380;F-1003;05/03/2025;05/06/2025;GAMMA;GAMMA SARL;EUR;6000,00;0,00;6000,00;\r\n"
    "\r\n"
    "Totaux par devise\r\n"
    "Devise;Nb factures;Total factures;Nb avoirs;Total avoirs;Nb lignes;Total net;Garanti;Non garanti\r\n"
    "EUR;3;42000,00;1;-1200,00;4;40800,00;34000,00;6800,00\r\n"
    "\r\n"
    "Bordereau de cession n°;42\r\n"
    "Date du bordereau;10/03/2025\r\n"
    "Client;ACME Société Générale d'Œuvres SARL\r\n"
    "SIREN du client;732829320\r\n"
    "Code client;ACME\r\n"
    "Factor;Affacturage Démo SA\r\n"
    "SIREN du factor;802954784\r\n"
    "IBAN d'encaissement;FR7630006000011234567890189\r\n"
    "Fichier source;batch-2025-03-10.csv\r\n"
    "Enveloppe;7\r\n"
).encode()


def test_writers_french_csv_remittance_golden_bytes(remittance: Remittance) -> None:
    assert writer.remittance(remittance, PARTIES) == GOLDEN


def test_writers_french_csv_example_of_schemas_readme_is_what_the_writer_writes(
    remittance: Remittance,
) -> None:
    lines = (Path(__file__).resolve().parents[2] / "schemas" / "README.md").read_text(encoding="utf-8")
    block = lines.split("## French CSV (`csv-fr`)", 1)[1].split("```", 2)[1].strip("\n")
    acme = replace(PARTIES, client_name="ACME SARL")
    assert block.split("\n") == writer.remittance(remittance, acme).decode("utf-8-sig").split("\r\n")[:-1]


def test_writers_french_csv_is_one_table_under_one_header() -> None:
    mixed = mixed_remittance()
    header, details, blocks = french_blocks(writer.remittance(mixed, PARTIES))
    assert header == list(writer.REMITTANCE_COLUMNS)
    assert len(details) == len(mixed.lines)
    assert all(len(row) == len(header) for row in details)
    assert [row[0] for row in details] == [str(line.line_no) for line in mixed.lines]  # no H, D or T
    assert [block[0] for block in blocks] == [["Totaux par devise"], ["Bordereau de cession n°", "42"]]
    dates = [row[header.index("Date de facture")] for row in details]
    assert all(re.fullmatch(r"\d\d/\d\d/2025", d) for d in dates)
    assert details[1][header.index("Échéance")] == ""  # a credit note has no due date


def test_writers_french_csv_sums_equal_the_json_totals() -> None:
    mixed = mixed_remittance()
    data = writer.remittance(mixed, PARTIES)
    expected = json_totals(machine.write(mixed, "json"))
    assert french_sums(data) == {c: t["net_total"] for c, t in expected.items()}
    assert french_sums(data, "Garanti") == {c: t["guaranteed_total"] for c, t in expected.items()}
    assert french_sums(data, "Non garanti") == {c: t["non_guaranteed_total"] for c, t in expected.items()}
    totals = french_totals(data)
    assert sorted(totals) == ["EUR", "USD"]
    for currency, row in totals.items():
        want = expected[currency]
        assert french_decimal(row["Total net"]) == want["net_total"]
        assert french_decimal(row["Total factures"]) == want["invoice_total"]
        assert french_decimal(row["Total avoirs"]) == want["credit_note_total"]
        assert french_decimal(row["Garanti"]) == want["guaranteed_total"]
        assert french_decimal(row["Non garanti"]) == want["non_guaranteed_total"]
        assert int(row["Nb lignes"]) == want["line_count"]


def test_writers_french_csv_neutralises_text_but_not_amounts() -> None:
    data = writer.remittance(mixed_remittance(), PARTIES)
    header, details, _ = french_blocks(data)
    debtors = [row[header.index("Débiteur")] for row in details]
    assert "'" + FORMULA_NAME in debtors and FORMULA_NAME not in debtors
    assert original_text("'" + FORMULA_NAME) == FORMULA_NAME
    assert "'+33-AT-SIGN@1" in [row[header.index("Numéro")] for row in details]
    assert "Société Éléphant & Cœur — Noël" in debtors
    credit = next(row for row in details if row[header.index("Type")] == "Avoir")
    assert credit[header.index("Montant")] == "-1200,00"  # a number, never prefixed
    assert french_decimal(credit[header.index("Montant")]) == Decimal("-1200.00")


def test_writers_french_csv_refuses_totals_that_disagree(remittance: Remittance) -> None:
    wrong = replace(remittance.totals[0], guaranteed_total=Decimal("1.00"))
    with pytest.raises(DeliveryError, match="guaranteed_total"):
        writer.remittance(replace(remittance, totals=(wrong,)), PARTIES)


def test_writers_french_csv_acknowledgement(acknowledgement: Acknowledgement) -> None:
    header, details, blocks = french_blocks(writer.acknowledgement(acknowledgement, PARTIES))
    assert header == list(writer.ACKNOWLEDGEMENT_COLUMNS)
    assert [row[header.index("Verdict")] for row in details] == ["accepté"] * 4 + ["refusé"] * 2
    assert details[4][header.index("Codes")] == "GW-DUPLICATE-INVOICE|GW-DUE-DATE"
    assert french_decimal(details[4][header.index("Montant")]) == Decimal("150.00")
    assert details[5][header.index("Montant")] == ""
    issues, about = blocks
    assert issues == [
        ["Anomalies du fichier"],
        ["Emplacement", "Gravité", "Code", "Message"],
        ["", "avertissement", "GW-CSV-COLUMN", "Column 'colour' is unknown and was ignored."],
    ]
    summary = dict(row for row in about if len(row) == 2)
    assert summary["Client"] == PARTIES.client_name
    assert summary["Verdict du fichier"] == "accepté"
    assert (summary["Documents"], summary["Acceptés"], summary["Refusés"]) == ("6", "4", "2")
    assert summary["N° de bordereau"] == "42" and summary["Date"] == "10/03/2025"


def test_writers_french_csv_acknowledgement_of_a_refused_file(acknowledgement: Acknowledgement) -> None:
    refused = replace(acknowledgement, verdict=Verdict.REJECTED, remittance_number=None, lines=())
    rows = french_rows(writer.acknowledgement(refused, PARTIES))
    assert rows[0] == list(writer.ACKNOWLEDGEMENT_COLUMNS) and rows[1] == []
    _, details, (_, about) = french_blocks(writer.acknowledgement(refused, PARTIES))
    assert details == [] and ["N° de bordereau", ""] in about and ["Verdict du fichier", "refusé"] in about
