"""Which formats each document can be written in, their file names, and writing them all at once.

An outbound channel lists its ``formats`` (configuration); the flow hands a document and the
channel's formats here and gets ``(file name, bytes)`` pairs back, in the order of the formats.

============  ==========================  =====================  ===========================
format        for whom                    remittance             acknowledgement
============  ==========================  =====================  ===========================
``csv``       machines (back office, ERP) ``REM_…_000042.csv``   ``ACK_…_<stem>.csv``
``json``      machines                    ``REM_…_000042.json``  ``ACK_…_<stem>.json``
``xlsx``      people (Excel, LibreOffice) ``REM_…_000042.xlsx``  ``ACK_…_<stem>.xlsx``
``csv-fr``    people (French spreadsheet) ``REM_…_000042.fr.csv`` ``ACK_…_<stem>.fr.csv``
``pdf``       people (print, archive)     ``REM_…_000042.pdf``   (not written)
============  ==========================  =====================  ===========================

A remittance is verified once (:func:`gateway.writers.remittance.verify`) whatever the number of
formats; every writer is pure (bytes out, same input, same bytes).
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.model import Acknowledgement, Parties, Remittance
from gateway.writers import acknowledgement as ack_machine
from gateway.writers import acknowledgement_xlsx, french_csv, remittance_xlsx
from gateway.writers import remittance as machine
from gateway.writers.csv_cells import check_format

#: format -> file name extension (``csv-fr`` must not collide with the machine ``.csv``).
EXTENSIONS = {"csv": "csv", "json": "json", "xlsx": "xlsx", "csv-fr": "fr.csv", "pdf": "pdf"}
REMITTANCE_FORMATS = ("csv", "json", "xlsx", "csv-fr", "pdf")
#: The PDF is the bordereau de cession, a document between the client and the factor: the client's
#: acknowledgement has no PDF.
ACKNOWLEDGEMENT_FORMATS = ("csv", "json", "xlsx", "csv-fr")


def remittance_name(remittance: Remittance, fmt: str) -> str:
    """``REM_ACME_000042.xlsx``, ``REM_ACME_000042.fr.csv``…"""
    check_format(fmt, REMITTANCE_FORMATS)
    return f"{machine.stem(remittance)}.{EXTENSIONS[fmt]}"


def acknowledgement_name(ack: Acknowledgement, fmt: str) -> str:
    """``ACK_ACME_00000007_batch-2025-03-10.xlsx``…"""
    check_format(fmt, ACKNOWLEDGEMENT_FORMATS)
    return f"{ack_machine.stem(ack)}.{EXTENSIONS[fmt]}"


def remittance_files(
    remittance: Remittance, parties: Parties, formats: Sequence[str]
) -> list[tuple[str, bytes]]:
    """The remittance in each of ``formats``, verified once; :class:`DeliveryError` if inconsistent."""
    names = [remittance_name(remittance, fmt) for fmt in formats]  # unknown formats fail first
    columns = machine.verify(remittance)
    machine_formats = [fmt for fmt in formats if fmt in machine.FORMATS]
    written = machine.write_verified(remittance, columns, machine_formats)
    for fmt in formats:
        if fmt == "xlsx":
            written[fmt] = remittance_xlsx.write(remittance, parties, columns)
        elif fmt == "csv-fr":
            written[fmt] = french_csv.remittance(remittance, parties, columns)
        elif fmt == "pdf":
            # Imported when used: fpdf2 (with Pillow and fontTools) takes 0.4 s to import, which
            # every command would pay otherwise.
            from gateway.writers import remittance_pdf

            written[fmt] = remittance_pdf.write(remittance, parties, columns)
    return [(name, written[fmt]) for name, fmt in zip(names, formats, strict=True)]


def acknowledgement_files(
    ack: Acknowledgement, parties: Parties, formats: Sequence[str]
) -> list[tuple[str, bytes]]:
    """The acknowledgement in each of ``formats``; :class:`DeliveryError` if it contradicts itself."""
    files = []
    for fmt in formats:
        name = acknowledgement_name(ack, fmt)
        if fmt == "xlsx":
            data = acknowledgement_xlsx.write(ack, parties)
        elif fmt == "csv-fr":
            data = french_csv.acknowledgement(ack, parties)
        else:
            data = ack_machine.write(ack, fmt)
        files.append((name, data))
    return files
