"""The advance statement and the current-account statement as PDFs, read back with pypdf: worked example 1's
figures in the tables, the same figures as the CSV, the same bytes on every run."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from factoring_examples import EXAMPLE_TERMS, REMITTANCE_42
from people_formats import PARTIES, pdf_decimal, pdf_pages, pdf_rows, pdf_table

from gateway.factoring.account import drawing, remittance_movements
from gateway.factoring.advance import compute_advances
from gateway.writers import statements_pdf as writer
from gateway.writers.account_statement import Period
from gateway.writers.advance_statement import StatementHeader

LINE_WIDTHS = [column.width for column in writer.ADVANCE_LINE_COLUMNS]
SUMMARY_WIDTHS = [column.width for column in writer.SUMMARY_COLUMNS]
MOVEMENT_WIDTHS = [column.width for column in writer.MOVEMENT_COLUMNS]
STATEMENTS = compute_advances(REMITTANCE_42, EXAMPLE_TERMS, date(2025, 3, 11))


def advance() -> bytes:
    return writer.advance_pdf(
        StatementHeader("acme", 42, "2025-03-10"), STATEMENTS, PARTIES, date(2025, 3, 10)
    )


def test_advance_statement_pdf_of_example_1() -> None:
    data = advance()
    assert "Décompte de financement — bordereau n° 42" in pdf_pages(data)[0]
    rows = pdf_rows(data)
    _, lines = pdf_table(rows, "Lignes (EUR)", LINE_WIDTHS)
    assert [row[1] for row in lines] == ["AV-0007", "F-1001", "F-1002", "F-1003"]
    assert lines[1][4:] == ["12 000,00", "11 200,00", "800,00", "10 080,00", "1 120,00", "54", "60,48"]
    _, summary = pdf_table(rows, "Décompte (EUR)", SUMMARY_WIDTHS)
    figures = {label: pdf_decimal(amount, "EUR") for label, amount in summary}
    assert figures["Crédit au compte courant"] == Decimal("40800.00")
    assert figures["Commission de financement (précomptée)"] == Decimal("-180.48")
    assert figures["Montant versé si tout est tiré (valeur 11/03/2025)"] == Decimal("30243.12")
    assert advance() == data


def test_account_statement_pdf_of_example_1() -> None:
    movements = list(remittance_movements(STATEMENTS[0], "42", date(2025, 3, 10)))
    movements.append(drawing(movements, "TRF-1", STATEMENTS[0].paid_out, date(2025, 3, 11), "EUR"))
    period = Period("acme", "EUR", date(2025, 3, 1), date(2025, 3, 31), 3)
    data = writer.account_pdf(period, movements, PARTIES)
    rows = pdf_rows(data)
    _, current = pdf_table(rows, "Compte courant (disponible)", MOVEMENT_WIDTHS)
    assert current[0][2] == "Solde au début de la période" and current[-1][-1] == "0,00"
    assert current[-2][2:6] == ["Virement au client (tirage)", "TRF-1", "30 243,12", ""]
    _, position = pdf_table(rows, "Position en fin de période", SUMMARY_WIDTHS)
    assert {label: pdf_decimal(amount, "EUR") for label, amount in position} == {
        "Disponible": Decimal("0.00"),
        "Retenue de garantie": Decimal("3400.00"),
        "Créances non financées": Decimal("6800.00"),
        "Solde du compte": Decimal("10200.00"),
    }
    assert writer.account_pdf(period, movements, PARTIES) == data
