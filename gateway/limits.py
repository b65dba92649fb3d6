"""Caps on what one file may cost us, in one frozen object passed everywhere.

A hostile or broken file must be refused with a clear code before it can eat
memory or time; the values are generous for real invoice batches.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    max_file_bytes: int = 200 * 1024 * 1024  # a 100,000-line CSV is about 25 MB
    max_xml_bytes: int = 20 * 1024 * 1024  # one UBL/CII invoice; the biggest real ones are a few MB
    max_pdf_bytes: int = 50 * 1024 * 1024  # one Factur-X PDF; real ones are 0.1-1 MB, scanned annexes more
    max_documents_per_file: int = 500_000
    max_field_chars: int = 1_000  # one CSV cell or XML text value
    max_line_chars: int = 20_000  # one CSV line
    max_issues_per_file: int = 1_000  # beyond this, one summary issue is added instead
    # The worker process that opens a PDF (gateway.parsers.pdf_sandbox): what one PDF may cost it.
    pdf_worker_memory_bytes: int = 512 * 1024 * 1024  # address space on top of the worker's own size
    pdf_worker_cpu_seconds: int = 10  # ~1,000 times the median corpus PDF
    pdf_timeout_seconds: float = 30.0  # wall clock, then the worker is killed


DEFAULT_LIMITS = Limits()
