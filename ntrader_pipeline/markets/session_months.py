"""Months of trading sessions: the date grain of the bars partitions.

A universe's sessions are the union of its calendars: NYSE alone gives NYSE sessions; an FX pair or a
future adds the weekdays its calendar trades (e.g. US holidays for FX). A date on which one instrument's
own calendar has no session (SPY on MLK day when an FX pair is in the universe) stays in the union and is
reported as *closed* for that instrument.

A session is *offered* once the day ends in UTC+2 (22:00 UTC on its date), which is after the close of
every calendar the pipeline knows (NYSE 16:00, FX 17:00, CME Globex 17:00 New York; 18:00 New York in
summer): so a month's offered sessions are the ones that have closed.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
from collections.abc import Iterable
from functools import cached_property

from ntrader_pipeline.markets.calendars import get_session_calendar
from ntrader_pipeline.markets.sessions import nyse_calendar
from ntrader_pipeline.markets.trading_session import to_date

OFFER_HOUR_UTC = 22  # midnight in UTC+2: after every known calendar's close


def month_start(date: dt.date | str) -> dt.date:
    return to_date(date).replace(day=1)


def month_key(date: dt.date | str) -> str:
    """The month partition key of a session date: its month's first day (`2024-01-17` → `2024-01-01`)."""
    return month_start(date).isoformat()


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def offered_at(date: dt.date) -> dt.datetime:
    """When the session of `date` is offered: 22:00 UTC of its date."""
    return dt.datetime.combine(date, dt.time(OFFER_HOUR_UTC), tzinfo=dt.UTC)


class UnionSessions:
    """The trading dates of several calendars from `first_session` on, and which of them have closed."""

    def __init__(self, calendar_names: Iterable[str], first_session: dt.date) -> None:
        self.calendar_names = sorted(set(calendar_names), key=lambda n: (n != "NYSE", n))
        self.first_session = first_session

    @cached_property
    def _last(self) -> dt.date:
        return nyse_calendar().last_session.date()

    @cached_property
    def dates(self) -> list[dt.date]:
        """Every date from the first session to the end of the calendars on which one of them trades."""
        days: set[dt.date] = set()
        for name in self.calendar_names:
            calendar = get_session_calendar(name)
            last = min(self._last, calendar.last_session)
            days.update(s.date for s in calendar.sessions_between(self.first_session, last))
        return sorted(days)

    def closed_weekdays(self) -> list[dt.date]:
        """Weekdays from the first session on which none of the calendars trades (holidays)."""
        open_days = set(self.dates)
        span = (self._last - self.first_session).days + 1
        days = (self.first_session + dt.timedelta(days=i) for i in range(span))
        return [d for d in days if d.weekday() < 5 and d not in open_days]

    def in_month(self, month: dt.date | str, now: dt.datetime | None = None) -> list[str]:
        """The month's session dates (ISO) from the first session on; only those offered by `now`."""
        first = month_start(month)
        end = next_month(first)
        return [d.isoformat() for d in self._between(first, end) if now is None or offered_at(d) <= now]

    def last_offered(self, now: dt.datetime) -> dt.date | None:
        """The newest session offered by `now` (None before the first)."""
        candidates = self._between(self.first_session, now.date() + dt.timedelta(days=1))
        offered = [d for d in candidates if offered_at(d) <= now]
        return offered[-1] if offered else None

    def _between(self, first: dt.date, end: dt.date) -> list[dt.date]:
        """Dates in [first, end), from the sorted list."""
        dates = self.dates
        return dates[bisect.bisect_left(dates, first) : bisect.bisect_left(dates, end)]


def fetch_command(asset: str, instrument_id: str, first: str, last: str) -> str:
    """The `dagster asset materialize` command that (re-)fetches the sessions `first`..`last` of one
    instrument: the range of their months, narrowed to those sessions by the bars asset's config."""
    config = json.dumps({"ops": {asset: {"config": {"first_session": first, "last_session": last}}}})
    return (
        f"dagster asset materialize -m ntrader_pipeline.definitions --select {asset} --partition-range "
        f"'{month_key(first)}|{instrument_id}...{month_key(last)}|{instrument_id}' --config-json '{config}'"
    )
