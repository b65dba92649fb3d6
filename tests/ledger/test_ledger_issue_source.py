"""Issues keep their source through the ledger, and rows written before issues had one still read."""

from __future__ import annotations

import json

from sqlalchemy.dialects import sqlite

from gateway.ledger.schema import IssueList
from gateway.model import Issue, Severity

DIALECT = sqlite.dialect()


def test_an_issue_keeps_its_source_through_the_ledger() -> None:
    issues = (
        Issue("BR-CO-15", "total", Severity.FATAL, "/Invoice[1]", "EN16931"),
        Issue("GW-PAYEE-NOT-SELLER", "payee", Severity.WARNING, "/Invoice"),
    )
    stored = IssueList().process_bind_param(issues, DIALECT)
    assert stored is not None and [i["source"] for i in json.loads(stored)] == ["EN16931", "gateway"]
    assert IssueList().process_result_value(stored, DIALECT) == issues


def test_a_row_written_before_issues_had_a_source_reads_as_the_gateways() -> None:
    old = json.dumps(
        [{"code": "GW-DUE-DATE-PAST", "severity": "fatal", "message": "past", "location": "line 6"}]
    )
    (issue,) = IssueList().process_result_value(old, DIALECT) or ()
    assert issue == Issue("GW-DUE-DATE-PAST", "past", Severity.FATAL, "line 6", "gateway")
    assert issue.to_dict()["source"] == "gateway"
