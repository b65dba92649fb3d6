"""Business days: when a factor can move money, and so when a remittance is funded.

A payment leaves the factor on a day TARGET2 settles (the ECB's calendar) and French banks
work (French public holidays), never on a weekend. Both calendars come from the maintained
``holidays`` package, never from a list typed here: a hand-kept list is right until the year
it is not (Whit Monday, a new holiday, a one-off TARGET2 closure).

The cut-off is the contract's: a remittance received before it is funded the next business
day; one received at or after it (or on a day that is not a business day) waits one more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

#: Days a search for the next business day may look ahead: no calendar closes this long.
_MAX_CLOSED_RUN = 31


@lru_cache(maxsize=64)
def _closures(year: int) -> frozenset[date]:
    target2 = holidays.financial_holidays("XECB", years=year)
    france = holidays.country_holidays("FR", years=year)
    return frozenset(target2) | frozenset(france)


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """TARGET2 + French public holidays + weekends; ``extra_closures`` for a factor's own days."""

    extra_closures: frozenset[date] = field(default_factory=frozenset)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in _closures(day.year) and day not in self.extra_closures

    def next_business_day(self, day: date) -> date:
        """The first business day strictly after ``day``."""
        candidate = day
        for _ in range(_MAX_CLOSED_RUN):
            candidate += timedelta(days=1)
            if self.is_business_day(candidate):
                return candidate
        raise ValueError(f"no business day within {_MAX_CLOSED_RUN} days after {day.isoformat()}")

    def funding_date(self, received: datetime, cutoff: time) -> date:
        """When a remittance received at ``received`` (local time of the factor) is funded.

        Taken on ``received``'s day when that is a business day and the time is before the
        cut-off, else on the next business day; funded the business day after it was taken.

        >>> calendar = BusinessCalendar()
        >>> calendar.funding_date(datetime(2025, 3, 10, 9, 0), time(16, 0)).isoformat()
        '2025-03-11'
        >>> calendar.funding_date(datetime(2025, 4, 17, 17, 0), time(16, 0)).isoformat()  # Easter
        '2025-04-23'
        """
        taken = received.date()
        if not self.is_business_day(taken) or received.time() >= cutoff:
            taken = self.next_business_day(taken)
        return self.next_business_day(taken)
