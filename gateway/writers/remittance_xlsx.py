"""The remittance (bordereau de cession) as an XLSX workbook, for the factor's staff and accountants.

Three sheets:

* ``Bordereau``: who and what (client, factor, remittance number, business date, source file,
  envelope), then one row per line under a labelled header row (numbers, real dates);
* ``Totaux``: the control sums per currency, with the guaranteed / non-guaranteed split;
* ``Par débiteur``: the same per debtor and currency.

The lines are verified first (:func:`gateway.writers.remittance.verify`): the totals written are
the remittance's, and they equal the sums of the lines. Cell rules (numbers, dates, inert text,
reproducible bytes) are in :mod:`gateway.writers.xlsx`; the layout in ``schemas/README.md``.
"""

from __future__ import annotations

from gateway.model import Parties, Remittance
from gateway.writers import remittance as machine
from gateway.writers.french import DOCUMENT_TYPES, TOTALS_LABELS, debtor_totals, totals_row
from gateway.writers.xlsx import Book, Column, Kind

LINES_SHEET = "Bordereau"
TOTALS_SHEET = "Totaux"
DEBTORS_SHEET = "Par débiteur"

LINE_COLUMNS = (
    Column("N° ligne", Kind.INTEGER, 8),
    Column("Type", Kind.WORD, 9),
    Column("Code type", Kind.TEXT, 7),
    Column("Numéro", Kind.TEXT, 18),
    Column("Date de facture", Kind.DATE, 11),
    Column("Échéance", Kind.DATE, 11),
    Column("Code débiteur", Kind.TEXT, 14),
    Column("Débiteur", Kind.TEXT, 32),
    Column("Devise", Kind.TEXT, 7),
    Column("Montant", Kind.MONEY, 15),
    Column("Garanti", Kind.MONEY, 15),
    Column("Non garanti", Kind.MONEY, 15),
    Column("Facture d'origine", Kind.TEXT, 18),
)
TOTALS_COLUMNS = tuple(
    Column(label, kind, width)
    for label, kind, width in zip(
        TOTALS_LABELS,
        (Kind.TEXT, Kind.INTEGER, Kind.MONEY, Kind.INTEGER, Kind.MONEY, Kind.INTEGER) + (Kind.MONEY,) * 3,
        (8, 11, 16, 10, 16, 10, 16, 16, 16),
        strict=True,
    )
)
DEBTOR_COLUMNS = (
    Column("Code débiteur", Kind.TEXT, 14),
    Column("Débiteur", Kind.TEXT, 32),
    Column("Devise", Kind.TEXT, 7),
    Column("Nb lignes", Kind.INTEGER, 10),
    Column("Montant", Kind.MONEY, 16),
    Column("Garanti", Kind.MONEY, 16),
    Column("Non garanti", Kind.MONEY, 16),
)


def title(remittance: Remittance) -> str:
    return f"Bordereau de cession de créances n° {remittance.number}"


def write(remittance: Remittance, parties: Parties, columns: machine.Columns | None = None) -> bytes:
    """The workbook's bytes; ``columns`` from :func:`~gateway.writers.remittance.verify` when the
    caller verified the remittance already. Same remittance and parties in, same bytes out."""
    if columns is None:
        columns = machine.verify(remittance)
    book = Book(title(remittance), remittance.business_date)
    heading = [
        ("Client", parties.client_name),
        ("SIREN du client", parties.client_siren),
        ("Code client", remittance.client_id),
        ("Factor", parties.factor_name),
        ("SIREN du factor", parties.factor_siren),
        ("IBAN d'encaissement", parties.factor_iban),
        ("N° de bordereau", remittance.number),
        ("Date du bordereau", remittance.business_date),
        ("Fichier source", remittance.source_name),
        ("Enveloppe", remittance.envelope_id),
        ("Nombre de lignes", len(remittance.lines)),
    ]
    lines = book.sheet(LINES_SHEET)
    row = book.heading(lines, title(remittance), heading, LINE_COLUMNS)
    book.table(
        lines,
        row,
        LINE_COLUMNS,
        (
            columns.line_no,
            [DOCUMENT_TYPES[kind] for kind in columns.document_types()],
            columns.type_code,
            columns.number,
            columns.issue_date,
            columns.due_date,
            columns.debtor_id,
            columns.debtor_name,
            columns.currency,
            columns.amount,
            columns.guaranteed,
            columns.non_guaranteed,
            columns.preceding_invoice,
        ),
    )
    short = [("Client", parties.client_name), ("Date du bordereau", remittance.business_date)]
    totals = book.sheet(TOTALS_SHEET)
    row = book.heading(totals, f"Totaux du bordereau n° {remittance.number}", short, TOTALS_COLUMNS)
    rows = [totals_row(t) for t in remittance.totals]
    book.table(totals, row, TOTALS_COLUMNS, list(zip(*rows, strict=True)) if rows else [[]] * 9)
    debtors = book.sheet(DEBTORS_SHEET)
    row = book.heading(
        debtors, f"Totaux par débiteur du bordereau n° {remittance.number}", short, DEBTOR_COLUMNS
    )
    found = debtor_totals(columns, remittance.totals)
    book.table(
        debtors,
        row,
        DEBTOR_COLUMNS,
        (
            [d.debtor_id for d in found],
            [d.debtor_name for d in found],
            [d.currency for d in found],
            [d.line_count for d in found],
            [d.amount for d in found],
            [d.guaranteed for d in found],
            [d.non_guaranteed for d in found],
        ),
    )
    return book.close()
