"""The remittance as a printable PDF bordereau de cession (A4 landscape), for the factor's files.

First page: the client (assignor: name, SIREN), the factor (name, SIREN, collection IBAN), the
remittance number and business date, the source file and envelope. Then every line (number, type,
dates, debtor, amount, guaranteed, non-guaranteed, invoice a credit note corrects), the totals per
debtor, and the totals per currency with the guaranteed / non-guaranteed split. Every page repeats
a running title, the header row of the table it continues, and ``page N / M``
(:mod:`gateway.writers.pdf`).

Amounts are French (``-1 234,56``). The lines are verified first
(:func:`gateway.writers.remittance.verify`). Same remittance in, same bytes out: the document is
dated with the business date, and the file id is a hash of the content.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.model import Parties, Remittance
from gateway.writers import remittance as machine
from gateway.writers.french import (
    DOCUMENT_TYPES,
    debtor_totals,
    french_date,
    french_dates,
    grouped_amount,
    grouped_count,
)
from gateway.writers.pdf import FONT, Column, Document, printable

__all__ = ["DEBTOR_COLUMNS", "LINE_COLUMNS", "TOTALS_COLUMNS", "printable", "write"]

LINE_COLUMNS = (
    Column("N°", 12, True),
    Column("Type", 14),
    Column("Numéro", 30),
    Column("Date", 19),
    Column("Échéance", 19),
    Column("Débiteur", 63),
    Column("Devise", 12),
    Column("Montant", 27, True),
    Column("Garanti", 27, True),
    Column("Non garanti", 27, True),
    Column("Facture d'origine", 27),
)
DEBTOR_COLUMNS = (
    Column("Code débiteur", 30),
    Column("Débiteur", 90),
    Column("Devise", 15),
    Column("Nb lignes", 20, True),
    Column("Montant", 40, True),
    Column("Garanti", 40, True),
    Column("Non garanti", 42, True),
)
TOTALS_COLUMNS = (
    Column("Devise", 17),
    Column("Nb factures", 22, True),
    Column("Total factures", 38, True),
    Column("Nb avoirs", 20, True),
    Column("Total avoirs", 38, True),
    Column("Nb lignes", 20, True),
    Column("Total net", 40, True),
    Column("Garanti", 40, True),
    Column("Non garanti", 42, True),
)


def write(remittance: Remittance, parties: Parties, columns: machine.Columns | None = None) -> bytes:
    """The PDF's bytes; ``columns`` from :func:`~gateway.writers.remittance.verify` when the caller
    verified the remittance already. Same remittance and parties in, same bytes out."""
    if columns is None:
        columns = machine.verify(remittance)
    title = f"Bordereau de cession de créances n° {remittance.number}"
    client = printable(parties.client_name)
    pdf = Document(printable(f"{title} — {parties.client_name} — {french_date(remittance.business_date)}"))
    pdf.dated(remittance.business_date)
    pdf.set_title(printable(title))
    pdf.set_subject(printable(f"{parties.client_name} — {remittance.source_name}"))
    pdf.set_author(printable(parties.factor_name))
    pdf.set_creator("factoring-gateway")
    pdf.set_producer("factoring-gateway")
    pdf.add_page()
    pdf.set_font(FONT, "B", 14)
    pdf.cell(0, 9, printable(title), new_x="LMARGIN", new_y="NEXT")
    _parties(pdf, remittance, parties, client)
    pdf.titled_table("Lignes du bordereau", LINE_COLUMNS, _line_rows(columns))
    debtors = debtor_totals(columns, remittance.totals)
    pdf.titled_table(
        "Totaux par débiteur",
        DEBTOR_COLUMNS,
        (
            (
                printable(d.debtor_id),
                printable(d.debtor_name),
                d.currency,
                grouped_count(d.line_count),
                f"{grouped_amount(d.amount)} {d.currency}",
                f"{grouped_amount(d.guaranteed)} {d.currency}",
                f"{grouped_amount(d.non_guaranteed)} {d.currency}",
            )
            for d in debtors
        ),
    )
    pdf.titled_table(
        "Totaux par devise (garanti / non garanti)",
        TOTALS_COLUMNS,
        (
            (
                printable(t.currency),
                grouped_count(t.invoice_count),
                f"{grouped_amount(t.invoice_total)} {t.currency}",
                grouped_count(t.credit_note_count),
                f"{grouped_amount(t.credit_note_total)} {t.currency}",
                grouped_count(t.invoice_count + t.credit_note_count),
                f"{grouped_amount(t.net_total)} {t.currency}",
                f"{grouped_amount(t.guaranteed_total)} {t.currency}",
                f"{grouped_amount(t.non_guaranteed_total)} {t.currency}",
            )
            for t in remittance.totals
        ),
    )
    return bytes(pdf.output())


def _parties(pdf: Document, remittance: Remittance, parties: Parties, client: str) -> None:
    """The two parties side by side, then what the remittance is."""
    half = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    blocks = (
        ("Cédant (client)", (client, f"SIREN {parties.client_siren}", f"Code client {remittance.client_id}")),
        (
            "Factor (cessionnaire)",
            (
                parties.factor_name,
                f"SIREN {parties.factor_siren}",
                f"IBAN d'encaissement {_grouped_iban(parties.factor_iban)}",
            ),
        ),
    )
    top = pdf.get_y() + 2
    for index, (label, lines) in enumerate(blocks):
        pdf.set_xy(pdf.l_margin + index * half, top)
        pdf.set_font(FONT, "B", 9)
        pdf.cell(half, 5, label)
        pdf.set_font(FONT, "", 9)
        for offset, line in enumerate(lines, start=1):
            pdf.set_xy(pdf.l_margin + index * half, top + offset * 5)
            pdf.cell(half, 5, printable(line))
    pdf.set_xy(pdf.l_margin, top + 22)
    facts = (
        f"Date du bordereau : {french_date(remittance.business_date)}",
        f"Fichier source : {remittance.source_name}",
        f"Enveloppe : {remittance.envelope_id}",
        f"Nombre de lignes : {grouped_count(len(remittance.lines))}",
    )
    pdf.cell(0, 5, printable("   —   ".join(facts)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _grouped_iban(iban: str) -> str:
    """``FR76 3000 6000 0112 3456 7890 189``: the printed form of an IBAN."""
    compact = iban.replace(" ", "")
    return " ".join(compact[at : at + 4] for at in range(0, len(compact), 4))


def _line_rows(columns: machine.Columns) -> Iterable[tuple[str, ...]]:
    debtors: dict[tuple[str, str | None], str] = {}
    for key in zip(columns.debtor_id, columns.debtor_name, strict=True):
        if key not in debtors:
            debtor_id, name = key
            debtors[key] = printable(f"{debtor_id} — {name}" if name else debtor_id)
    return zip(
        map(str, columns.line_no),
        [DOCUMENT_TYPES[kind] for kind in columns.document_types()],
        map(printable, columns.number),
        french_dates(columns.issue_date),
        french_dates(columns.due_date),
        map(debtors.__getitem__, zip(columns.debtor_id, columns.debtor_name, strict=True)),
        map(printable, columns.currency),
        map(grouped_amount, columns.amount),
        map(grouped_amount, columns.guaranteed),
        map(grouped_amount, columns.non_guaranteed),
        map(printable, columns.preceding_invoice),
        strict=True,
    )
