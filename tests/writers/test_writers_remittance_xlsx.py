"""The remittance as XLSX, read back with openpyxl: numbers and dates, labelled sheets, totals
that equal the JSON remittance's, inert text, and the same bytes on every run."""

from __future__ import annotations

import io
import time
import zipfile
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
from people_formats import (
    FORMULA_NAME,
    PARTIES,
    exact,
    json_totals,
    mixed_remittance,
    sheet_table,
    workbook,
    xlsx_sums,
)

from gateway.errors import DeliveryError
from gateway.model import Remittance
from gateway.writers import remittance as machine
from gateway.writers import remittance_xlsx as writer


@pytest.fixture
def mixed() -> Remittance:
    return mixed_remittance()


def test_writers_remittance_xlsx_sheets_and_labels(mixed: Remittance) -> None:
    book = workbook(writer.write(mixed, PARTIES))
    assert book.sheetnames == ["Bordereau", "Totaux", "Par débiteur"]
    lines = sheet_table(book["Bordereau"])
    assert lines.header == [column.label for column in writer.LINE_COLUMNS]
    assert lines.header[:6] == ["N° ligne", "Type", "Code type", "Numéro", "Date de facture", "Échéance"]
    assert lines.heading["Client"] == PARTIES.client_name
    assert lines.heading["SIREN du client"] == "732829320"
    assert lines.heading["Factor"] == "Affacturage Démo SA"
    assert lines.heading["IBAN d'encaissement"] == PARTIES.factor_iban
    assert lines.heading["N° de bordereau"] == 42
    assert lines.heading["Date du bordereau"] == datetime(2025, 3, 10)
    assert lines.heading["Fichier source"] == "lot de mars — été.csv"
    assert lines.heading["Enveloppe"] == 7
    assert len(lines.rows) == len(mixed.lines)
    header_row = next(r for r in book["Bordereau"].iter_rows() if r[0].value == "N° ligne")[0].row
    assert book["Bordereau"].freeze_panes == f"A{header_row + 1}"  # the header row stays in view
    assert (
        book["Bordereau"].print_title_rows == f"${header_row}:${header_row}"
    )  # and is printed on every page


def test_writers_remittance_xlsx_cells_are_numbers_and_dates(mixed: Remittance) -> None:
    book = workbook(writer.write(mixed, PARTIES))
    sheet = book["Bordereau"]
    header_row = next(r for r in sheet.iter_rows() if r[0].value == "N° ligne")[0].row
    amount_col = [c.label for c in writer.LINE_COLUMNS].index("Montant") + 1
    date_col = [c.label for c in writer.LINE_COLUMNS].index("Date de facture") + 1
    for offset, line in enumerate(mixed.lines, start=1):
        amount = sheet.cell(header_row + offset, amount_col)
        assert amount.data_type == "n" and amount.number_format == "#,##0.00"
        assert exact(amount.value) == line.amount
        issued = sheet.cell(header_row + offset, date_col)
        assert issued.is_date and issued.number_format == "dd/mm/yyyy"
        assert issued.value.date() == line.issue_date
    credit = sheet.cell(header_row + 2, amount_col)
    assert credit.value == -1200 and sheet.cell(header_row + 2, 2).value == "Avoir"


def test_writers_remittance_xlsx_sums_equal_the_json_totals(mixed: Remittance) -> None:
    book = workbook(writer.write(mixed, PARTIES))
    expected = json_totals(machine.write(mixed, "json"))
    lines = sheet_table(book["Bordereau"])
    assert xlsx_sums(lines) == {c: t["net_total"] for c, t in expected.items()}
    assert xlsx_sums(lines, "Garanti") == {c: t["guaranteed_total"] for c, t in expected.items()}
    assert xlsx_sums(lines, "Non garanti") == {c: t["non_guaranteed_total"] for c, t in expected.items()}

    totals = sheet_table(book["Totaux"])
    assert totals.header == [
        *("Devise", "Nb factures", "Total factures", "Nb avoirs", "Total avoirs"),
        *("Nb lignes", "Total net", "Garanti", "Non garanti"),
    ]
    for row in totals.rows:
        currency, invoices, invoice_total, credits, credit_total, count, net, guaranteed, rest = row
        want = expected[currency]
        assert (invoices, credits, count) == (
            want["invoice_count"],
            want["credit_note_count"],
            want["line_count"],
        )
        assert [exact(v) for v in (invoice_total, credit_total, net, guaranteed, rest)] == [
            want["invoice_total"],
            want["credit_note_total"],
            want["net_total"],
            want["guaranteed_total"],
            want["non_guaranteed_total"],
        ]
    assert sorted(row[0] for row in totals.rows) == ["EUR", "USD"]


def test_writers_remittance_xlsx_per_debtor_totals(mixed: Remittance) -> None:
    debtors = sheet_table(workbook(writer.write(mixed, PARTIES))["Par débiteur"])
    assert debtors.header == [
        *("Code débiteur", "Débiteur", "Devise", "Nb lignes", "Montant", "Garanti", "Non garanti")
    ]
    by_debtor = {(row[0], row[2]): row for row in debtors.rows}
    assert sorted(by_debtor) == [("ALPHA", "EUR"), ("FX", "USD"), ("NONAME", "EUR"), ("ÉLAN", "EUR")]
    alpha = by_debtor["ALPHA", "EUR"]
    assert alpha[3] == 2 and [exact(v) for v in alpha[4:]] == [
        Decimal("11145.67"),
        Decimal("8800.00"),
        Decimal("2345.67"),
    ]
    assert by_debtor["ÉLAN", "EUR"][1] == "Société Éléphant & Cœur — Noël"
    assert by_debtor["NONAME", "EUR"][1] is None
    assert xlsx_sums(debtors) == {
        c: t["net_total"] for c, t in json_totals(machine.write(mixed, "json")).items()
    }


def test_writers_remittance_xlsx_text_is_never_a_formula(mixed: Remittance) -> None:
    data = writer.write(mixed, PARTIES)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert len(sheets) == 3
        assert all(b"<f>" not in archive.read(name) for name in sheets)
    lines = sheet_table(workbook(data)["Bordereau"])
    assert FORMULA_NAME in lines.column("Débiteur")
    assert "+33-AT-SIGN@1" in lines.column("Numéro")
    cell = next(c for r in workbook(data)["Bordereau"].iter_rows() for c in r if c.value == FORMULA_NAME)
    assert cell.data_type == "s" and cell.quotePrefix


def test_writers_remittance_xlsx_same_bytes_on_every_run(mixed: Remittance) -> None:
    first = writer.write(mixed, PARTIES)
    time.sleep(1.1)  # a zip entry or a document date taken from the clock would differ now
    assert writer.write(mixed, PARTIES) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert '<dcterms:created xsi:type="dcterms:W3CDTF">2025-03-10T00:00:00Z</dcterms:created>' in core
    assert workbook(first).properties.created == datetime(2025, 3, 10)


def test_writers_remittance_xlsx_refuses_totals_that_disagree(mixed: Remittance) -> None:
    wrong = replace(mixed.totals[0], net_total=mixed.totals[0].net_total + 1)
    with pytest.raises(DeliveryError, match="net_total"):
        writer.write(replace(mixed, totals=(wrong, *mixed.totals[1:])), PARTIES)


def test_writers_remittance_xlsx_without_lines() -> None:
    empty = replace(mixed_remittance(), lines=(), totals=())
    book = workbook(writer.write(empty, PARTIES))
    assert sheet_table(book["Bordereau"]).rows == []
    assert sheet_table(book["Totaux"]).rows == []
