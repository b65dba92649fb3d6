"""The advance statement and the current-account statement as PDFs a client can read (French).

Same conventions as the printable bordereau (:mod:`gateway.writers.remittance_pdf`): A4
landscape, a running title and ``page N / M`` on every page, tables that repeat their header row,
amounts printed ``-1 234,56`` and never rounded, dated with the business date so that the same
statement always gives the same bytes. The figures are the ones the CSV and JSON carry, checked
by the same verification before anything is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from gateway.factoring.account import Account, Movement, MovementKind
from gateway.factoring.advance import AdvanceStatement
from gateway.model import Parties
from gateway.writers import account_statement, advance_statement
from gateway.writers.french import french_date, grouped_amount
from gateway.writers.pdf import FONT, Column, Document, printable

MOVEMENTS_FR = {
    MovementKind.REMITTANCE_INVOICES: "Bordereau — factures",
    MovementKind.REMITTANCE_CREDIT_NOTES: "Bordereau — avoirs",
    MovementKind.RESERVE: "Retenue de garantie",
    MovementKind.NON_FINANCED: "Créances non financées",
    MovementKind.FEE: "Commission d'affacturage HT",
    MovementKind.FEE_VAT: "TVA sur commission",
    MovementKind.FINANCING_COMMISSION: "Commission de financement",
    MovementKind.DRAWING: "Virement au client (tirage)",
    MovementKind.RECOURSE: "Recours (créance impayée)",
}
SECTIONS_FR = {
    Account.CURRENT: "Compte courant (disponible)",
    Account.RESERVE: "Retenue de garantie",
    Account.NON_FINANCED: "Créances non financées",
}
ADVANCE_LINE_COLUMNS = (
    Column("N°", 12, True),
    Column("Numéro", 34),
    Column("Débiteur", 34),
    Column("Échéance", 20),
    Column("Montant", 28, True),
    Column("Finançable", 28, True),
    Column("Non financé", 28, True),
    Column("Avance", 28, True),
    Column("Retenue", 26, True),
    Column("Jours", 12, True),
    Column("Commission", 27, True),
)
SUMMARY_COLUMNS = (Column("", 120), Column("Montant", 50, True))
MOVEMENT_COLUMNS = (
    Column("Date", 20),
    Column("Valeur", 20),
    Column("Mouvement", 70),
    Column("Référence", 45),
    Column("Débit", 38, True),
    Column("Crédit", 38, True),
    Column("Solde", 38, True),
)


def advance_pdf(
    header: advance_statement.StatementHeader,
    statements: Sequence[AdvanceStatement],
    parties: Parties,
    business_date: date,
) -> bytes:
    """Décompte de financement of one remittance."""
    advance_statement.verify(statements)
    title = f"Décompte de financement — bordereau n° {header.remittance_number}"
    pdf = _document(title, parties, business_date)
    for s in statements:
        money = s.currency
        pdf.titled_table(
            f"Lignes ({money})",
            ADVANCE_LINE_COLUMNS,
            (
                (
                    str(line.line_no),
                    printable(line.number),
                    printable(line.debtor_id),
                    french_date(line.due_date),
                    grouped_amount(line.amount),
                    grouped_amount(line.financeable),
                    grouped_amount(line.non_financed),
                    grouped_amount(line.advance),
                    grouped_amount(line.reserve),
                    "" if line.financing_days is None else str(line.financing_days),
                    grouped_amount(line.financing_commission),
                )
                for line in s.lines
            ),
        )
        summary = (
            ("Factures", s.invoice_total),
            ("Avoirs", s.credit_note_total),
            ("Crédit au compte courant", s.credited),
            ("Non financé (hors agrément, non garanti)", -s.non_financed),
            ("Finançable", s.financeable),
            ("Retenue de garantie", -s.reserve),
            ("Avance", s.advance),
            ("Commission d'affacturage HT", -s.fee),
            ("TVA sur commission", -s.fee_vat),
            ("Commission de financement (précomptée)", -s.financing_commission),
            (f"Montant versé si tout est tiré (valeur {french_date(s.funding_date)})", s.paid_out),
        )
        pdf.titled_table(
            f"Décompte ({money})",
            SUMMARY_COLUMNS,
            ((printable(label), f"{grouped_amount(amount)} {money}") for label, amount in summary),
        )
    return bytes(pdf.output())


def account_pdf(period: account_statement.Period, movements: Sequence[Movement], parties: Parties) -> bytes:
    """Relevé de compte courant of one period."""
    parts = account_statement.sections(period, movements)
    account_statement.verify_sections(parts)
    title = (
        f"Relevé de compte courant n° {period.number} — du {french_date(period.start)} "
        f"au {french_date(period.end)} ({period.currency})"
    )
    pdf = _document(title, parties, period.end)
    for part in parts:
        rows = [("", "", "Solde au début de la période", "", "", "", grouped_amount(part.opening))]
        rows += [
            (
                french_date(row.movement.booking_date),
                french_date(row.movement.value_date),
                MOVEMENTS_FR[row.movement.kind],
                printable(row.movement.reference),
                grouped_amount(row.debit) if row.debit else "",
                grouped_amount(row.credit) if row.credit else "",
                grouped_amount(row.balance),
            )
            for row in part.rows
        ]
        rows.append(("", "", "Solde en fin de période", "", "", "", grouped_amount(part.closing)))
        pdf.titled_table(SECTIONS_FR[part.account], MOVEMENT_COLUMNS, rows)
    closing = {part.account: part.closing for part in parts}
    pdf.titled_table(
        "Position en fin de période",
        SUMMARY_COLUMNS,
        (
            ("Disponible", f"{grouped_amount(closing[Account.CURRENT])} {period.currency}"),
            ("Retenue de garantie", f"{grouped_amount(closing[Account.RESERVE])} {period.currency}"),
            ("Créances non financées", f"{grouped_amount(closing[Account.NON_FINANCED])} {period.currency}"),
            (
                "Solde du compte",
                f"{grouped_amount(sum(closing.values(), Decimal('0.00')))} {period.currency}",
            ),
        ),
    )
    return bytes(pdf.output())


def _document(title: str, parties: Parties, day: date) -> Document:
    pdf = Document(printable(f"{title} — {parties.client_name}"))
    pdf.dated(day)
    pdf.set_title(printable(title))
    pdf.set_author(printable(parties.factor_name))
    pdf.set_creator("factoring-gateway")
    pdf.set_producer("factoring-gateway")
    pdf.add_page()
    pdf.set_font(FONT, "B", 13)
    pdf.cell(0, 8, printable(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    pdf.cell(
        0,
        5,
        printable(
            f"Client : {parties.client_name} (SIREN {parties.client_siren})   —   "
            f"Factor : {parties.factor_name} (SIREN {parties.factor_siren})"
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    return pdf
