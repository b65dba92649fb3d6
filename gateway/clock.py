"""The business date: "today" in the contract's time zone, or a fixed date.

Everything that depends on the calendar (due date in the past, remittance
date, archive folder) takes the business date as a parameter, so the demo,
tests, replays and audits give the same result whatever the wall clock says.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Europe/Paris"


def utc_now() -> datetime:
    """The current instant, timezone-aware UTC (the only way the gateway reads the clock)."""
    return datetime.now(UTC)


def business_date(
    zone: str = DEFAULT_ZONE,
    as_of: date | None = None,
    now: Callable[[], datetime] = utc_now,
) -> date:
    """``as_of`` when given, else today's date in ``zone``.

    >>> business_date(as_of=date(2025, 3, 10))
    datetime.date(2025, 3, 10)
    >>> business_date("Europe/Paris", now=lambda: datetime(2025, 3, 9, 23, 30, tzinfo=UTC))
    datetime.date(2025, 3, 10)
    """
    if as_of is not None:
        return as_of
    return now().astimezone(ZoneInfo(zone)).date()


def parse_as_of(text: str) -> date:
    """Parse ``YYYY-MM-DD``; raise ``ValueError`` with a readable message otherwise."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date in the form YYYY-MM-DD") from None
