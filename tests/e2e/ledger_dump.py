"""A comparable picture of a working directory: ledger rows and files on disk.

Timestamps are left out (they differ between runs by nature); everything a
person or the factor would see is in: states, verdicts, codes, amounts,
remittance numbers, approvals, delivered file names and their bytes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import sqlalchemy as sa


def dump_ledger(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = sa.create_engine(url)
    queries = {
        "envelopes": (
            "SELECT id, client_id, channel, source_name, state, format, content_sha256, business_date,"
            " outcome_code, delivered_at IS NOT NULL, finalized_at IS NOT NULL, issues"
            " FROM envelopes ORDER BY id"
        ),
        "documents": (
            "SELECT envelope_id, position, number, verdict, issues, amount, guaranteed,"
            " non_guaranteed, line_no, debtor_id FROM documents ORDER BY envelope_id, position"
        ),
        "remittances": (
            "SELECT client_id, number, envelope_id, business_date FROM remittances ORDER BY client_id, number"
        ),
        "debtors": (
            "SELECT client_id, debtor_id, version, name, approval_limit, approval_currency, valid_to IS NULL"
            " FROM debtors ORDER BY client_id, debtor_id, version"
        ),
        "clients": "SELECT id, version, name, siren FROM clients ORDER BY id, version",
        "approval_movements": (
            "SELECT client_id, debtor_id, kind, envelope_id, amount, balance_after FROM approval_movements"
            " ORDER BY client_id, debtor_id, id"
        ),
        # A receivable is named by its document's envelope and position, not by the document's
        # surrogate id: on PostgreSQL a rolled-back unit of work (a kill before its commit) still
        # uses up sequence values, so the ids of the documents decided again after a restart differ.
        "receivables": (
            "SELECT d.envelope_id, d.position, r.client_id, r.debtor_id, r.currency, r.amount,"
            " r.open_amount, r.state FROM receivables r JOIN documents d ON d.id = r.document_id"
            " ORDER BY d.envelope_id, d.position"
        ),
        "assignment_keys": "SELECT client_id, seller_key, normalised_number, issue_date FROM assignment_keys"
        " ORDER BY client_id, normalised_number",
        "deliveries": "SELECT envelope_id, channel, name, sha256 FROM deliveries ORDER BY channel, name",
        "content_fingerprints": "SELECT client_id, content_sha256 FROM content_fingerprints ORDER BY 1, 2",
    }
    with engine.connect() as conn:
        picture = {
            name: [tuple(str(v) for v in row) for row in conn.execute(sa.text(sql))]
            for name, sql in queries.items()
        }
    engine.dispose()
    return picture


#: Files whose content names this run's ledger or process: compared by presence only.
RUN_BOUND_NAMES = (".gateway-ledger.json", ".gateway-channel.lock")


def dump_files(root: Path) -> dict[str, str]:
    """Every file under root (except the ledger) with the SHA-256 of its bytes."""
    files: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and "var" not in path.relative_to(root).parts:
            rel = str(path.relative_to(root))
            if path.name in RUN_BOUND_NAMES:
                files[rel] = "present"
                continue
            data = path.read_bytes()
            if rel.endswith(".reason.json"):
                data = json.dumps(json.loads(data), sort_keys=True).encode()
            files[rel] = hashlib.sha256(data).hexdigest()
    return files
