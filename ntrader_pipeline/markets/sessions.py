"""Trading sessions: partition key ↔ UTC open/close window, and expected bar counts.

NYSE is the default calendar; `markets.calendars` adds FX 24×5 and CME, and every function here takes an
optional `calendar` (a name or a calendar object). Everything inside the pipeline is UTC; the exchange's
local date only names a session.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import exchange_calendars as xcals
import pandas as pd

EXCHANGE_CALENDAR = "XNYS"
EXCHANGE_TIMEZONE = "America/New_York"
CALENDAR_START = "2000-01-01"

_BAR_SECONDS = {"MINUTE": 60, "HOUR": 3600, "SECOND": 1}

if TYPE_CHECKING:
    from ntrader_pipeline.markets.calendars import SessionCalendar


class NotATradingSessionError(ValueError):
    """A date that is not a session of the calendar asked (weekend or holiday) was asked for."""


@dataclass(frozen=True, slots=True)
class TradingSession:
    """One session; `open`/`close` are UTC, `date` the exchange-local date of the close."""

    date: dt.date
    open: dt.datetime
    close: dt.datetime
    calendar: str = "NYSE"
    regular_minutes: int = 390

    @property
    def key(self) -> str:
        return self.date.isoformat()

    @property
    def is_half_day(self) -> bool:
        return self.minutes < self.regular_minutes

    @property
    def minutes(self) -> int:
        return int((self.close - self.open).total_seconds() // 60)

    @property
    def date_start(self) -> dt.datetime:
        """UTC midnight starting the session's date: where IB stamps a daily bar."""
        return dt.datetime.combine(self.date, dt.time(), tzinfo=dt.UTC)

    @property
    def day_start(self) -> dt.datetime:
        """The catalog file's lower boundary: the session's UTC date, or its open when that is earlier
        (FX and futures sessions open the evening before; NYSE sessions are unchanged)."""
        return min(self.date_start, self.open)

    @property
    def day_end(self) -> dt.datetime:
        """Last instant of the session's UTC date (inclusive boundary; the daily bar's `ts_init`)."""
        return self.date_start + dt.timedelta(days=1) - dt.timedelta(microseconds=1)

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


def to_date(value: dt.date | str) -> dt.date:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"session date {value!r} is not an ISO date (expected YYYY-MM-DD)") from exc
    return value


def _calendar(calendar: str | SessionCalendar | None) -> SessionCalendar | None:
    """None for the default NYSE path (kept on the fast xcals calls used everywhere)."""
    if calendar is None or calendar == "NYSE":
        return None
    if isinstance(calendar, str):
        from ntrader_pipeline.markets.calendars import get_session_calendar

        return get_session_calendar(calendar)
    return None if calendar.name == "NYSE" else calendar


def is_session(value: dt.date | str, calendar: str | SessionCalendar | None = None) -> bool:
    if (other := _calendar(calendar)) is not None:
        return other.is_session(value)
    return nyse_calendar().is_session(pd.Timestamp(to_date(value)))


def session_for(value: dt.date | str, calendar: str | SessionCalendar | None = None) -> TradingSession:
    """The session on `value`; raises NotATradingSessionError for weekends and holidays."""
    if (other := _calendar(calendar)) is not None:
        return other.session(value)
    date = to_date(value)
    calendar_ = nyse_calendar()
    label = pd.Timestamp(date)
    if not calendar_.is_session(label):
        raise NotATradingSessionError(
            f"{date.isoformat()} is not an NYSE trading session (weekend or holiday); "
            "pick a date from the partition list"
        )
    return TradingSession(
        date=date,
        open=calendar_.session_open(label).to_pydatetime(),
        close=calendar_.session_close(label).to_pydatetime(),
    )


def sessions_between(
    start: dt.date | str, end: dt.date | str, calendar: str | SessionCalendar | None = None
) -> list[TradingSession]:
    """All sessions with start <= date <= end (inclusive)."""
    if (other := _calendar(calendar)) is not None:
        return other.sessions_between(start, end)
    labels = nyse_calendar().sessions_in_range(pd.Timestamp(to_date(start)), pd.Timestamp(to_date(end)))
    return [session_for(label.date()) for label in labels]


def non_session_days(
    start: dt.date | str, end: dt.date | str, calendar: str | SessionCalendar | None = None
) -> list[dt.date]:
    """Weekdays between start and end that are holidays of the calendar."""
    first, last = to_date(start), to_date(end)
    sessions = {s.date for s in sessions_between(first, last, calendar)}
    days = (first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    return [d for d in days if d.weekday() < 5 and d not in sessions]
