"""The PDF bordereau, read back with pypdf: both parties, every line, per-debtor totals and the
guaranteed split equal to the JSON remittance's, page numbers and repeated headers on a long
remittance, French text printed right, and the same bytes on every run."""

from __future__ import annotations

import io
import time
from dataclasses import replace
from decimal import Decimal

import pytest
from people_formats import (
    PARTIES,
    json_totals,
    line,
    many_lines_remittance,
    mixed_remittance,
    pdf_decimal,
    pdf_pages,
    pdf_rows,
    pdf_table,
    remittance_of,
)
from pypdf import PdfReader

from gateway.errors import DeliveryError
from gateway.writers import remittance as machine
from gateway.writers import remittance_pdf as writer

LINES = "Lignes du bordereau"
DEBTORS = "Totaux par débiteur"
CURRENCIES = "Totaux par devise (garanti / non garanti)"
LINE_WIDTHS = [column.width for column in writer.LINE_COLUMNS]
DEBTOR_WIDTHS = [column.width for column in writer.DEBTOR_COLUMNS]
TOTALS_WIDTHS = [column.width for column in writer.TOTALS_COLUMNS]


@pytest.fixture(scope="module")
def mixed_pdf() -> bytes:
    return writer.write(mixed_remittance(), PARTIES)


def test_writers_remittance_pdf_names_both_parties(mixed_pdf: bytes) -> None:
    first = pdf_pages(mixed_pdf)[0]
    for text in (
        "Bordereau de cession de créances n° 42",
        "ACME Société Générale d'Œuvres SARL",
        "SIREN 732829320",
        "Affacturage Démo SA",
        "SIREN 802954784",
        "FR76 3000 6000 0112 3456 7890 189",
        "Date du bordereau : 10/03/2025",
        "Fichier source : lot de mars — été.csv",
        "Enveloppe : 7",
    ):
        assert text in first, text
    info = PdfReader(io.BytesIO(mixed_pdf)).metadata
    assert info is not None and info.creation_date is not None
    assert info.creation_date.date().isoformat() == "2025-03-10"


def test_writers_remittance_pdf_lists_every_line(mixed_pdf: bytes) -> None:
    mixed = mixed_remittance()
    header, rows = pdf_table(pdf_rows(mixed_pdf), LINES, LINE_WIDTHS)
    assert header[:3] == ["N°", "Type", "Numéro"] and header[-4:-1] == ["Montant", "Garanti", "Non garanti"]
    assert [row[2] for row in rows] == [line.number for line in mixed.lines]
    assert rows[1] == [
        *("2", "Avoir", "AV-0007", "03/03/2025", "", "ALPHA — ALPHA SA", "EUR"),
        *("-1 200,00", "-1 200,00", "0,00", "F-00001"),
    ]
    assert rows[2][5] == "ÉLAN — Société Éléphant & Cœur — Noël"
    assert rows[3][5].startswith('FX — =HYPERLINK("http://evil.example"')  # printed as the text it is
    assert rows[5][5] == "NONAME"
    assert [pdf_decimal(row[7]) for row in rows] == [line.amount for line in mixed.lines]
    assert rows[0][7:10] == ["12 345,67", "10 000,00", "2 345,67"]


def test_writers_remittance_pdf_totals_equal_the_json_totals(mixed_pdf: bytes) -> None:
    mixed = mixed_remittance()
    expected = json_totals(machine.write(mixed, "json"))
    rows = pdf_rows(mixed_pdf)
    header, currencies = pdf_table(rows, CURRENCIES, TOTALS_WIDTHS)
    assert header == [
        *("Devise", "Nb factures", "Total factures", "Nb avoirs", "Total avoirs", "Nb lignes"),
        *("Total net", "Garanti", "Non garanti"),
    ]
    assert sorted(row[0] for row in currencies) == sorted(expected)
    for row in currencies:
        currency, want = row[0], expected[row[0]]
        assert int(row[1]) == want["invoice_count"] and int(row[3]) == want["credit_note_count"]
        assert [pdf_decimal(cell, currency) for cell in (row[2], row[4], row[6], row[7], row[8])] == [
            want["invoice_total"],
            want["credit_note_total"],
            want["net_total"],
            want["guaranteed_total"],
            want["non_guaranteed_total"],
        ]
    header, debtors = pdf_table(rows, DEBTORS, DEBTOR_WIDTHS)
    assert header == ["Code débiteur", "Débiteur", "Devise", "Nb lignes", "Montant", "Garanti", "Non garanti"]
    alpha = next(row for row in debtors if row[0] == "ALPHA")
    assert alpha[2:] == ["EUR", "2", "11 145,67 EUR", "8 800,00 EUR", "2 345,67 EUR"]
    for currency, want in expected.items():
        mine = [row for row in debtors if row[2] == currency]
        assert sum((pdf_decimal(row[4], currency) for row in mine), Decimal(0)) == want["net_total"]
        assert sum((pdf_decimal(row[5], currency) for row in mine), Decimal(0)) == want["guaranteed_total"]
        assert (
            sum((pdf_decimal(row[6], currency) for row in mine), Decimal(0)) == want["non_guaranteed_total"]
        )


def test_writers_remittance_pdf_long_remittance_repeats_headers_and_numbers_pages() -> None:
    long = many_lines_remittance(120)
    data = writer.write(long, PARTIES)
    pages = pdf_pages(data)
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert f"page {number} / {len(pages)}" in page
        assert "Montant" in page and "Non garanti" in page  # the table's header row, on every page
    for page in pages[1:]:
        assert page.startswith("Bordereau de cession de créances n° 42 — ACME")  # the running title
    _, rows = pdf_table(pdf_rows(data), LINES, LINE_WIDTHS)
    assert [row[2] for row in rows] == [line.number for line in long.lines]
    expected = json_totals(machine.write(long, "json"))
    _, currencies = pdf_table(pdf_rows(data), CURRENCIES, TOTALS_WIDTHS)
    assert pdf_decimal(currencies[0][6], "EUR") == expected["EUR"]["net_total"]


def test_writers_remittance_pdf_same_bytes_on_every_run(mixed_pdf: bytes) -> None:
    time.sleep(1.1)  # a date or a file id taken from the clock would differ now
    assert writer.write(mixed_remittance(), PARTIES) == mixed_pdf


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("Société Œuvre n° 5 — 12 € « ok »", "Société Œuvre n° 5 — 12 € « ok »"),
        ("Łódź", "Lódz"),
        ("日本\tx\ny", "?? x y"),
        ("", ""),
        (None, ""),
    ],
)
def test_writers_remittance_pdf_printable(text: str | None, printed: str) -> None:
    assert writer.printable(text) == printed


def test_writers_remittance_pdf_survives_any_character() -> None:
    odd = remittance_of([line(1, "10.00", debtor=("PL", "Łódź 日本 \u202e\x00 𝔘"), number="Ωmega-1")])
    rows = pdf_rows(writer.write(odd, PARTIES))
    _, lines = pdf_table(rows, LINES, LINE_WIDTHS)
    assert lines[0][2] == "?mega-1" and lines[0][5].startswith("PL — Lódz ??")


def test_writers_remittance_pdf_refuses_totals_that_disagree() -> None:
    mixed = mixed_remittance()
    wrong = replace(mixed.totals[1], guaranteed_total=Decimal("0.00"))
    with pytest.raises(DeliveryError, match="guaranteed_total"):
        writer.write(replace(mixed, totals=(mixed.totals[0], wrong)), PARTIES)


def test_writers_remittance_pdf_long_text_is_cut_not_spilled() -> None:
    long_name = "Établissements " + "Très Longue Raison Sociale " * 6
    data = writer.write(remittance_of([line(1, "10.00", debtor=("LONG", long_name))]), PARTIES)
    _, lines = pdf_table(pdf_rows(data), LINES, LINE_WIDTHS)
    assert lines[0][5].startswith("LONG — Établissements Très Longue") and lines[0][5].endswith("…")


def test_writers_remittance_pdf_of_a_remittance_without_lines() -> None:
    empty = replace(mixed_remittance(), lines=(), totals=())
    assert "page 1 / 1" in pdf_pages(writer.write(empty, PARTIES))[0]
