"""The acknowledgement as XLSX, read back with openpyxl: a documents sheet with verdicts and
issues, a file-issues sheet, numbers for amounts, inert text, reproducible bytes."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import datetime

import pytest
from people_formats import FORMULA_NAME, PARTIES, exact, sheet_table, workbook

from gateway.errors import DeliveryError
from gateway.model import Acknowledgement, AcknowledgementLine, Issue, Verdict
from gateway.writers import acknowledgement_xlsx as writer


def test_writers_acknowledgement_xlsx_documents_sheet(acknowledgement: Acknowledgement) -> None:
    book = workbook(writer.write(acknowledgement, PARTIES))
    assert book.sheetnames == ["Documents", "Anomalies du fichier"]
    documents = sheet_table(book["Documents"])
    assert documents.header == [
        *("Emplacement", "Numéro", "Code type", "Verdict", "Montant", "Devise", "Codes", "Messages")
    ]
    assert documents.heading["Client"] == PARTIES.client_name
    assert documents.heading["Fichier reçu"] == "batch-2025-03-10.csv"
    assert documents.heading["Enveloppe"] == 7
    assert documents.heading["Date"] == datetime(2025, 3, 10)
    assert documents.heading["Verdict du fichier"] == "accepté"
    assert (documents.heading["Documents"], documents.heading["Acceptés"], documents.heading["Refusés"]) == (
        6,
        4,
        2,
    )
    assert documents.heading["N° de bordereau"] == 42
    assert documents.column("Verdict") == ["accepté"] * 4 + ["refusé"] * 2
    refused = documents.rows[4]
    assert refused[6] == "GW-DUPLICATE-INVOICE|GW-DUE-DATE"
    assert refused[7] == "F-1004 was already assigned on 2025-03-01. | The due date is in the past."
    amounts = documents.column("Montant")
    assert all(isinstance(v, int | float) for v in amounts[:5]) and amounts[5] is None
    assert [exact(v) for v in amounts[:5]] == [line.amount for line in acknowledgement.lines[:5]]


def test_writers_acknowledgement_xlsx_file_issues_sheet(acknowledgement: Acknowledgement) -> None:
    issues = sheet_table(workbook(writer.write(acknowledgement, PARTIES))["Anomalies du fichier"])
    assert issues.header == ["Emplacement", "Gravité", "Code", "Message"]
    assert issues.rows == [
        (None, "avertissement", "GW-CSV-COLUMN", "Column 'colour' is unknown and was ignored.")
    ]


def test_writers_acknowledgement_xlsx_of_a_refused_file(acknowledgement: Acknowledgement) -> None:
    refused = replace(
        acknowledgement,
        verdict=Verdict.REJECTED,
        remittance_number=None,
        lines=(),
        file_issues=(Issue("GW-XML-MALFORMED", "The file is not well-formed XML.", location="line 9"),),
    )
    book = workbook(writer.write(refused, PARTIES))
    documents = sheet_table(book["Documents"])
    assert documents.rows == [] and documents.heading["Verdict du fichier"] == "refusé"
    assert documents.heading["N° de bordereau"] is None
    assert sheet_table(book["Anomalies du fichier"]).rows == [
        ("line 9", "bloquant", "GW-XML-MALFORMED", "The file is not well-formed XML.")
    ]


def test_writers_acknowledgement_xlsx_text_is_never_a_formula(acknowledgement: Acknowledgement) -> None:
    hostile = AcknowledgementLine("line 8", FORMULA_NAME, "380", Verdict.REJECTED, None, "@EUR", ())
    data = writer.write(replace(acknowledgement, lines=(*acknowledgement.lines, hostile)), PARTIES)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert all(
            b"<f>" not in archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")
        )
    documents = sheet_table(workbook(data)["Documents"])
    assert documents.rows[-1][1] == FORMULA_NAME and documents.rows[-1][5] == "@EUR"


def test_writers_acknowledgement_xlsx_same_bytes_on_every_run(acknowledgement: Acknowledgement) -> None:
    """Nothing in the file comes from the clock (the remittance test also sleeps between runs)."""
    first = writer.write(acknowledgement, PARTIES)
    assert writer.write(acknowledgement, PARTIES) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert workbook(first).properties.created == datetime(2025, 3, 10)
    assert workbook(first).properties.modified == datetime(2025, 3, 10)


def test_writers_acknowledgement_xlsx_refuses_to_contradict_itself(acknowledgement: Acknowledgement) -> None:
    with pytest.raises(DeliveryError):
        writer.write(replace(acknowledgement, verdict=Verdict.REJECTED), PARTIES)
