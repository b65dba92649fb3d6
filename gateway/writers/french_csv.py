"""The remittance and the acknowledgement as CSV for a French spreadsheet (format ``csv-fr``).

The machine CSV (:mod:`gateway.writers.remittance`) mixes ``H``, ``D`` and ``T`` records under one
header row and writes ``-1200.00``: a French Excel reads its amounts as text and shows the header
and totals records under the wrong column names. This variant is for people:

* UTF-8 with BOM, ``;`` separator, CRLF, RFC 4180 quoting (as the machine CSV);
* amounts with a decimal comma and no thousands separator (``-1200,00``), dates ``DD/MM/YYYY``,
  French column names and words (``Facture``/``Avoir``, ``accepté``/``refusé``): a French Excel
  reads numbers and dates;
* **one table**: the first row names the columns, then one row per line (remittance) or document
  (acknowledgement), nothing else under that header. After it, each separated by an empty row,
  come small blocks that each start with a title row: the totals per currency (remittance) or
  the file issues (acknowledgement), each with its own header row, then the identification of
  the document as ``label;value`` rows. A spreadsheet sees the empty row as the end of the table
  (sorting, filters, pivot tables and Power Query take the lines only), and the totals block's
  amounts are numbers too;
* free text goes through :func:`gateway.writers.csv_cells.text_cell` (formula neutralisation).

The remittance is verified first (:func:`gateway.writers.remittance.verify`): the totals written
equal the sums of the lines. Layouts: ``schemas/README.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import chain

from gateway.model import Acknowledgement, Parties, Remittance
from gateway.writers import acknowledgement as ack_machine
from gateway.writers import remittance as machine
from gateway.writers.csv_cells import (
    CSV_ENCODING,
    DELIMITER,
    LINE_END,
    amount_cell,
    amount_cells,
    csv_row,
    encoded,
    integer_cells,
    text_cell,
    text_cells,
)
from gateway.writers.french import (
    DOCUMENT_TYPES,
    SEVERITIES,
    TOTALS_LABELS,
    VERDICTS,
    decimal_comma,
    french_date,
    french_dates,
    totals_row,
)

REMITTANCE_COLUMNS = (
    "N° ligne",
    "Type",
    "Code type",
    "Numéro",
    "Date de facture",
    "Échéance",
    "Code débiteur",
    "Débiteur",
    "Devise",
    "Montant",
    "Garanti",
    "Non garanti",
    "Facture d'origine",
)
ACKNOWLEDGEMENT_COLUMNS = (
    "Emplacement",
    "Numéro",
    "Code type",
    "Verdict",
    "Montant",
    "Devise",
    "Codes",
    "Messages",
)
FILE_ISSUE_COLUMNS = ("Emplacement", "Gravité", "Code", "Message")
TOTALS_TITLE = "Totaux par devise"
FILE_ISSUES_TITLE = "Anomalies du fichier"


def remittance(remittance: Remittance, parties: Parties, columns: machine.Columns | None = None) -> bytes:
    """The French CSV of a remittance; ``columns`` from :func:`~gateway.writers.remittance.verify`
    when the caller verified it already. Same remittance and parties in, same bytes out."""
    if columns is None:
        columns = machine.verify(remittance)
    details = (
        integer_cells(columns.line_no),
        [DOCUMENT_TYPES[kind] for kind in columns.document_types()],
        text_cells(columns.type_code),
        text_cells(columns.number),
        french_dates(columns.issue_date),
        french_dates(columns.due_date),
        text_cells(columns.debtor_id),
        text_cells(columns.debtor_name),
        text_cells(columns.currency),
        _french_amounts(columns.amount),
        _french_amounts(columns.guaranteed),
        _french_amounts(columns.non_guaranteed),
        text_cells(columns.preceding_invoice),
    )
    totals = [csv_row(_cells(totals_row(t))) for t in remittance.totals]
    about = [
        ("Bordereau de cession n°", remittance.number),
        ("Date du bordereau", french_date(remittance.business_date)),
        ("Client", text_cell(parties.client_name)),
        ("SIREN du client", parties.client_siren),
        ("Code client", text_cell(remittance.client_id)),
        ("Factor", text_cell(parties.factor_name)),
        ("SIREN du factor", parties.factor_siren),
        ("IBAN d'encaissement", parties.factor_iban),
        ("Fichier source", text_cell(remittance.source_name)),
        ("Enveloppe", remittance.envelope_id),
    ]
    blocks = [[TOTALS_TITLE, csv_row(TOTALS_LABELS), *totals], [csv_row(row) for row in about]]
    return _file(REMITTANCE_COLUMNS, details, blocks)


def acknowledgement(ack: Acknowledgement, parties: Parties) -> bytes:
    """The French CSV of an acknowledgement; same acknowledgement and parties in, same bytes out."""
    accepted, rejected = ack_machine.verify(ack)
    lines = ack.lines
    issues = [line.issues for line in lines]
    details = (
        text_cells([line.location for line in lines]),
        text_cells([line.number for line in lines]),
        text_cells([line.type_code for line in lines]),
        [VERDICTS[line.verdict] for line in lines],
        _french_amounts([line.amount for line in lines]),
        text_cells([line.currency for line in lines]),
        text_cells([ack_machine.CODE_SEPARATOR.join(i.code for i in found) for found in issues]),
        text_cells([ack_machine.MESSAGE_SEPARATOR.join(i.message for i in found) for found in issues]),
    )
    file_issues = [
        csv_row(
            (
                text_cell(issue.location),
                SEVERITIES[issue.severity],
                text_cell(issue.code),
                text_cell(issue.message),
            )
        )
        for issue in ack.file_issues
    ]
    about = [
        ("Accusé de réception du fichier", text_cell(ack.source_name)),
        ("Client", text_cell(parties.client_name)),
        ("Code client", text_cell(ack.client_id)),
        ("Enveloppe", ack.envelope_id),
        ("Date", french_date(ack.business_date)),
        ("Verdict du fichier", VERDICTS[ack.verdict]),
        ("Documents", len(lines)),
        ("Acceptés", accepted),
        ("Refusés", rejected),
        ("N° de bordereau", ack.remittance_number),
    ]
    blocks = [
        [FILE_ISSUES_TITLE, csv_row(FILE_ISSUE_COLUMNS), *file_issues],
        [csv_row(row) for row in about],
    ]
    return _file(ACKNOWLEDGEMENT_COLUMNS, details, blocks)


def _french_amounts(amounts: Sequence[Decimal | None]) -> list[str]:
    return [decimal_comma(cell) for cell in amount_cells(amounts)]


def _cells(values: Sequence[object]) -> list[object]:
    """A few typed values as French cells: amounts with a decimal comma, text neutralised."""
    cells: list[object] = []
    for value in values:
        if isinstance(value, Decimal):
            cells.append(decimal_comma(amount_cell(value)))
        elif isinstance(value, str):
            cells.append(text_cell(value))
        else:
            cells.append(value)
    return cells


def _file(header: Sequence[str], columns: Sequence[Sequence[str]], blocks: Sequence[Sequence[str]]) -> bytes:
    """The header row, one row per line of ``columns``, then each block after an empty row."""
    rows = map(DELIMITER.join, zip(*columns, strict=True))
    after = chain.from_iterable(["", *block] for block in blocks)
    text = LINE_END.join(chain([csv_row(header)], rows, after)) + LINE_END
    return encoded(text, CSV_ENCODING)
