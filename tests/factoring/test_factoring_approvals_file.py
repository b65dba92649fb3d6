"""The approvals file: all or nothing, every bad row reported with its place, history only added to."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from gateway.factoring.approvals_file import (
    ApprovalsFileError,
    DebtorState,
    plan_changes,
    read_approvals,
)

HEADER = "client;debtor;action;effective_date;limit;currency;name;siren;vat_id;country;reason\n"
CLIENTS = frozenset({"acme"})


def problems_of(text: str, encoding: str = "utf-8") -> list[str]:
    with pytest.raises(ApprovalsFileError) as refused:
        read_approvals(text.encode(encoding) if isinstance(text, str) else text)
    return refused.value.problems


def test_a_good_file_reads_in_order_with_french_conventions() -> None:
    data = (
        "\ufeff" + HEADER + "acme;ALPHA;approve;10/03/2025;40000,00;EUR;ALPHA SA;552100554;;FR;first limit\n"
        "acme;ALPHA;approve;2025-04-01;60000.00;;;;;;raised after review\n"
        "\n"
        "acme;ALPHA;suspend;2025-05-01;;;;;;;payment incident\n"
    ).encode()
    rows = read_approvals(data)
    assert [(r.line, r.action, r.effective, r.limit) for r in rows] == [
        (2, "approve", date(2025, 3, 10), Decimal("40000.00")),
        (3, "approve", date(2025, 4, 1), Decimal("60000.00")),
        (5, "suspend", date(2025, 5, 1), None),
    ]
    assert rows[0].siren == "552100554" and rows[0].country == "FR"


def test_every_bad_row_is_reported_at_once_and_nothing_is_read() -> None:
    problems = problems_of(
        HEADER
        + "acme;ALPHA;aprove;2025-03-10;100;EUR;A;552100554;;;\n"
        + "acme;BETA;approve;31/02/2025;1 000,00;EURO;B;552100555;;France;\n"
        + "acme;GAMMA;suspend;2025-03-10;5;;;;;;\n"
        + "acme;DELTA;approve;2025-03-10;;;;;;;\n"
        + "acme;E;end;2025-03-10\n"
    )
    assert problems == [
        'line 2, column action: must be "approve", "suspend", "resume", "block", "unblock" or "end" '
        "(got \"aprove\"); did you mean 'approve'?",
        'line 3, column country: must be an ISO 3166 code of two capitals such as "FR" (got "France")',
        'line 3, column currency: must be an ISO 4217 code in capitals such as "EUR" (got "EURO")',
        'line 3, column siren: is not a valid SIREN: its check digit is wrong (got "552100555")',
        'line 3, column effective_date: "31/02/2025" is not a date; write 2025-03-10 or 10/03/2025',
        'line 3, column limit: "1 000,00" is not an amount of 0 or more with at most two decimals '
        "(write 40000.00 or 40000,00, without thousands separators)",
        "line 4, column limit: only an approve row carries a limit (this one is suspend)",
        "line 5, column limit: an approve row needs the approved limit (0 for none)",
        "line 6: 4 cells where the header has 11",
    ]


def test_header_encoding_and_duplicates() -> None:
    assert problems_of("debtor,action,when\n") == [
        "line 1: unknown column 'when' (known: client, debtor, action, effective_date, limit, currency, "
        "name, siren, vat_id, country, reason)",
        "line 1: the column 'client' is missing",
        "line 1: the column 'effective_date' is missing",
    ]
    assert problems_of("") == ["line 1: the file is empty; its first line must be the header row"]
    latin = (HEADER + "acme;ALPHA;approve;2025-03-10;1;EUR;Société Générale;552100554;;;\n").encode("cp1252")
    with pytest.raises(ApprovalsFileError) as refused:
        read_approvals(latin)
    assert refused.value.problems == [
        "line 2: byte 0xe9 at offset 124 is not utf-8; save the file as UTF-8 or give its encoding "
        "(--encoding cp1252)"
    ]
    assert read_approvals(latin, encoding="cp1252")[0].name == "Société Générale"
    assert problems_of(
        HEADER + "acme;A;approve;2025-03-10;1;;A;552100554;;;\nacme;A;end;10/03/2025;;;;;;;\n"
    ) == [
        "line 3: a second decision for debtor A of client acme effective 2025-03-10 "
        "(the first is on line 2); keep one"
    ]


def state(status: str = "active", limit: str = "40000.00", effective: date = date(2025, 1, 1)) -> DebtorState:
    return DebtorState(status, Decimal(limit), "EUR", effective, "ALPHA SA")  # type: ignore[arg-type]


def test_plan_says_what_each_row_does() -> None:
    rows = read_approvals(
        (
            HEADER + "acme;ALPHA;approve;2025-03-10;60000;;;;;;\n"
            "acme;ALPHA;suspend;2025-04-01;;;;;;;\n"
            "acme;ALPHA;resume;2025-04-15;;;;;;;\n"
            "acme;ALPHA;approve;2025-05-01;10000;;;;;;\n"
            "acme;NEW;approve;2025-03-10;0;EUR;NEW SARL;;FR44732829320;;\n"
            "acme;ALPHA;end;2025-06-01;;;;;;;\n"
            "acme;ALPHA;approve;2025-07-01;5000;;;;;;\n"
        ).encode()
    )
    plan = plan_changes(rows, {("acme", "ALPHA"): state()}, CLIENTS)
    assert [(c.row.debtor_id, c.summary) for c in plan] == [
        ("ALPHA", "raised 40000.00 -> 60000.00"),
        ("NEW", "created, limit 0.00"),
        ("ALPHA", "active -> suspended"),
        ("ALPHA", "suspended -> active"),
        ("ALPHA", "lowered 60000.00 -> 10000.00"),
        ("ALPHA", "active -> ended"),
        ("ALPHA", "reopened, limit 5000.00"),
    ]
    assert plan[-1].state.status == "active"


def test_plan_refuses_what_the_history_does_not_allow_all_at_once() -> None:
    rows = read_approvals(
        (
            HEADER + "acme;ALPHA;approve;2024-12-01;60000;;;;;;\n"
            "acme;BLOCKED;approve;2025-03-10;1;;;;;;\n"
            "acme;GHOST;suspend;2025-03-10;;;;;;;\n"
            "acme;NONAME;approve;2025-03-10;1;;;;;;\n"
            "acme;ALPHA;resume;2025-03-10;;;;;;;\n"
            "acme;ALPHA;approve;2025-03-11;1;USD;;;;;\n"
            "other;X;approve;2025-03-10;1;;X;552100554;;;\n"
        ).encode()
    )
    with pytest.raises(ApprovalsFileError) as refused:
        plan_changes(rows, {("acme", "ALPHA"): state(), ("acme", "BLOCKED"): state("blocked")}, CLIENTS)
    assert refused.value.problems == [
        "line 2: debtor ALPHA of client acme: the decision takes effect on 2024-12-01, "
        "before the one in force (since 2025-01-01); history is only added to",
        "line 3: debtor BLOCKED of client acme: is blocked; unblock it before changing its limit",
        "line 4: debtor GHOST of client acme: is not known yet; "
        "its first row must be an approve row with its name and SIREN or VAT number",
        "line 5: debtor NONAME of client acme: is new: "
        "its approve row needs its name and its SIREN or VAT number",
        "line 6: debtor ALPHA of client acme: cannot resume an approval that is active",
        "line 8: client other is not in the configuration",
        "line 7: debtor ALPHA of client acme: its approval is in EUR; "
        "a limit in USD needs the approval ended first",
    ]
