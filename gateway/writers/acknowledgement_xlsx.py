"""The acknowledgement as an XLSX workbook, for the client's accountants.

Two sheets:

* ``Documents``: the file and its verdict (client, file received, envelope, business date,
  counts, remittance number), then one row per document or unreadable record: where it sits, its
  number, verdict, amount (a number), and its issue codes and messages;
* ``Anomalies du fichier``: one row per issue about the file as a whole (a refused file has no
  document rows: this sheet says why).

The acknowledgement is checked first (:func:`gateway.writers.acknowledgement.verify`), like the
CSV and JSON; cell rules are in :mod:`gateway.writers.xlsx`, the layout in ``schemas/README.md``.
"""

from __future__ import annotations

from operator import attrgetter

from gateway.model import Acknowledgement, Parties
from gateway.writers import acknowledgement as machine
from gateway.writers.french import SEVERITIES, VERDICTS
from gateway.writers.xlsx import Book, Column, Kind

DOCUMENTS_SHEET = "Documents"
FILE_ISSUES_SHEET = "Anomalies du fichier"

DOCUMENT_COLUMNS = (
    Column("Emplacement", Kind.TEXT, 14),
    Column("Numéro", Kind.TEXT, 18),
    Column("Code type", Kind.TEXT, 8),
    Column("Verdict", Kind.WORD, 10),
    Column("Montant", Kind.MONEY, 15),
    Column("Devise", Kind.TEXT, 7),
    Column("Codes", Kind.TEXT, 26),
    Column("Messages", Kind.TEXT, 80),
)
FILE_ISSUE_COLUMNS = (
    Column("Emplacement", Kind.TEXT, 20),
    Column("Gravité", Kind.WORD, 14),
    Column("Code", Kind.TEXT, 26),
    Column("Message", Kind.TEXT, 90),
)


def title(ack: Acknowledgement) -> str:
    return f"Accusé de réception du fichier {ack.source_name}"


def write(ack: Acknowledgement, parties: Parties) -> bytes:
    """The workbook's bytes; same acknowledgement and parties in, same bytes out."""
    accepted, rejected = machine.verify(ack)
    book = Book(title(ack), ack.business_date)
    heading = [
        ("Client", parties.client_name),
        ("Code client", ack.client_id),
        ("Fichier reçu", ack.source_name),
        ("Enveloppe", ack.envelope_id),
        ("Date", ack.business_date),
        ("Verdict du fichier", VERDICTS[ack.verdict]),
        ("Documents", len(ack.lines)),
        ("Acceptés", accepted),
        ("Refusés", rejected),
        ("N° de bordereau", ack.remittance_number),
    ]
    documents = book.sheet(DOCUMENTS_SHEET)
    row = book.heading(documents, title(ack), heading, DOCUMENT_COLUMNS)
    lines = ack.lines
    issues = [line.issues for line in lines]
    book.table(
        documents,
        row,
        DOCUMENT_COLUMNS,
        (
            [line.location for line in lines],
            [line.number for line in lines],
            [line.type_code for line in lines],
            [VERDICTS[line.verdict] for line in lines],
            [line.amount for line in lines],
            [line.currency for line in lines],
            [machine.CODE_SEPARATOR.join(map(attrgetter("code"), found)) for found in issues],
            [machine.MESSAGE_SEPARATOR.join(map(attrgetter("message"), found)) for found in issues],
        ),
    )
    file_issues = book.sheet(FILE_ISSUES_SHEET)
    row = book.heading(
        file_issues,
        f"Anomalies du fichier {ack.source_name}",
        [("Verdict du fichier", VERDICTS[ack.verdict])],
        FILE_ISSUE_COLUMNS,
    )
    book.table(
        file_issues,
        row,
        FILE_ISSUE_COLUMNS,
        (
            [issue.location for issue in ack.file_issues],
            [SEVERITIES[issue.severity] for issue in ack.file_issues],
            [issue.code for issue in ack.file_issues],
            [issue.message for issue in ack.file_issues],
        ),
    )
    return book.close()
