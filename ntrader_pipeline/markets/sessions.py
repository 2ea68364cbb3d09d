"""NYSE trading sessions: partition key ↔ UTC open/close window, and expected bar counts.

Everything inside the pipeline is UTC; the exchange's local date only names a session.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import exchange_calendars as xcals
import pandas as pd

EXCHANGE_CALENDAR = "XNYS"
EXCHANGE_TIMEZONE = "America/New_York"
CALENDAR_START = "2000-01-01"

_BAR_SECONDS = {"MINUTE": 60, "HOUR": 3600, "SECOND": 1}


class NotATradingSessionError(ValueError):
    """A date that is not an NYSE session (weekend or holiday) was asked for."""


@dataclass(frozen=True, slots=True)
class TradingSession:
    """One regular-trading-hours session; `open`/`close` are UTC, `date` the exchange-local date."""

    date: dt.date
    open: dt.datetime
    close: dt.datetime

    @property
    def key(self) -> str:
        return self.date.isoformat()

    @property
    def is_half_day(self) -> bool:
        return self.minutes < 390

    @property
    def minutes(self) -> int:
        return int((self.close - self.open).total_seconds() // 60)

    @property
    def day_start(self) -> dt.datetime:
        """UTC midnight starting the session's date: the catalog's file boundary."""
        return dt.datetime.combine(self.date, dt.time(), tzinfo=dt.UTC)

    @property
    def day_end(self) -> dt.datetime:
        """Last nanosecond-representable instant of the session's UTC date (inclusive boundary)."""
        return self.day_start + dt.timedelta(days=1) - dt.timedelta(microseconds=1)

    def expected_bar_count(self, step: int, aggregation: str) -> int:
        """Bars IB returns for this session with useRTH=1 (daily and larger: one per session)."""
        aggregation = aggregation.upper()
        if aggregation in ("DAY", "WEEK", "MONTH"):
            return 1
        seconds = step * _BAR_SECONDS[aggregation]
        total = int((self.close - self.open).total_seconds())
        return -(-total // seconds)  # a partial last bar still counts


@cache
def nyse_calendar() -> xcals.ExchangeCalendar:
    return xcals.get_calendar(EXCHANGE_CALENDAR, start=CALENDAR_START)


def _to_date(value: dt.date | str) -> dt.date:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"session date {value!r} is not an ISO date (expected YYYY-MM-DD)") from exc
    return value


def is_session(value: dt.date | str) -> bool:
    return nyse_calendar().is_session(pd.Timestamp(_to_date(value)))


def session_for(value: dt.date | str) -> TradingSession:
    """The session on `value`; raises NotATradingSessionError for weekends and holidays."""
    date = _to_date(value)
    calendar = nyse_calendar()
    label = pd.Timestamp(date)
    if not calendar.is_session(label):
        raise NotATradingSessionError(
            f"{date.isoformat()} is not an NYSE trading session (weekend or holiday); "
            "pick a date from the partition list"
        )
    return TradingSession(
        date=date,
        open=calendar.session_open(label).to_pydatetime(),
        close=calendar.session_close(label).to_pydatetime(),
    )


def sessions_between(start: dt.date | str, end: dt.date | str) -> list[TradingSession]:
    """All sessions with start <= date <= end (inclusive)."""
    labels = nyse_calendar().sessions_in_range(pd.Timestamp(_to_date(start)), pd.Timestamp(_to_date(end)))
    return [session_for(label.date()) for label in labels]


def non_session_days(start: dt.date | str, end: dt.date | str) -> list[dt.date]:
    """Weekdays between start and end that are NYSE holidays."""
    first, last = _to_date(start), _to_date(end)
    sessions = {s.date for s in sessions_between(first, last)}
    days = (first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    return [d for d in days if d.weekday() < 5 and d not in sessions]
