"""Session calendars per contract type: NYSE for equities, 24×5 for FX, CME Globex for equity futures.

Every calendar names a session by the exchange-local date of its close and gives its UTC open/close,
so `TradingSession.expected_bar_count` works the same for all of them.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Protocol
from zoneinfo import ZoneInfo

import exchange_calendars as xcals
import pandas as pd

from ntrader_pipeline.markets.trading_session import NotATradingSessionError, TradingSession, to_date

NYSE = "NYSE"
FX_24X5 = "FX24x5"
CME = "CME"
NEW_YORK = "America/New_York"
EXCHANGE_CALENDAR = "XNYS"  # exchange_calendars' NYSE, the default calendar
EXCHANGE_TIMEZONE = NEW_YORK
CALENDAR_START = "2000-01-01"
CHICAGO = "America/Chicago"
# CME equity index futures stop at 16:00 CT for the daily maintenance hour (xcals' CMES closes at 17:00).
_CME_MAINTENANCE_START = dt.time(16, 0)
_FX_ROLL = dt.time(17, 0)  # FX days roll at 17:00 New York: Sunday evening to Friday evening


class SessionCalendar(Protocol):
    name: str
    timezone: str
    regular_minutes: int

    def is_session(self, value: dt.date | str) -> bool: ...

    def session(self, value: dt.date | str) -> TradingSession: ...

    def sessions_between(self, start: dt.date | str, end: dt.date | str) -> list[TradingSession]: ...

    @property
    def first_session(self) -> dt.date: ...

    @property
    def last_session(self) -> dt.date: ...


class _ExchangeCalendar:
    """An exchange_calendars calendar, optionally with closes capped at a local time."""

    def __init__(
        self, name: str, xcals_name: str, timezone: str, regular_minutes: int, close_cap: dt.time | None
    ) -> None:
        self.name, self.timezone, self.regular_minutes = name, timezone, regular_minutes
        self._xcals_name, self._close_cap = xcals_name, close_cap

    @property
    def _calendar(self) -> xcals.ExchangeCalendar:
        return _xcals(self._xcals_name)

    @property
    def first_session(self) -> dt.date:
        return self._calendar.first_session.date()

    @property
    def last_session(self) -> dt.date:
        return self._calendar.last_session.date()

    def is_session(self, value: dt.date | str) -> bool:
        return self._calendar.is_session(pd.Timestamp(to_date(value)))

    def session(self, value: dt.date | str) -> TradingSession:
        date = to_date(value)
        label = pd.Timestamp(date)
        if not self._calendar.is_session(label):
            raise NotATradingSessionError(
                f"{date.isoformat()} is not a {self.name} trading session (weekend or holiday); "
                "pick a date from the partition list"
            )
        close = self._calendar.session_close(label).to_pydatetime()
        if self._close_cap is not None:
            zone = ZoneInfo(self.timezone)
            cap = dt.datetime.combine(date, self._close_cap, tzinfo=zone).astimezone(dt.UTC)
            close = min(close, cap)
        return TradingSession(
            date=date,
            open=self._calendar.session_open(label).to_pydatetime(),
            close=close,
            calendar=self.name,
            regular_minutes=self.regular_minutes,
        )

    def sessions_between(self, start: dt.date | str, end: dt.date | str) -> list[TradingSession]:
        # one schedule slice instead of three calendar look-ups per session (years of sessions at once)
        schedule = self._calendar.schedule.loc[pd.Timestamp(to_date(start)) : pd.Timestamp(to_date(end))]
        sessions = []
        for label, opened, closed in zip(schedule.index, schedule["open"], schedule["close"], strict=True):
            close = closed.to_pydatetime()
            if self._close_cap is not None:
                cap = dt.datetime.combine(label.date(), self._close_cap, tzinfo=ZoneInfo(self.timezone))
                close = min(close, cap.astimezone(dt.UTC))
            sessions.append(
                TradingSession(
                    date=label.date(),
                    open=opened.to_pydatetime(),
                    close=close,
                    calendar=self.name,
                    regular_minutes=self.regular_minutes,
                )
            )
        return sessions


class _Fx24x5Calendar:
    """IDEALPRO FX: a session runs 17:00 New York the previous day → 17:00, Monday..Friday (Monday's
    opens Sunday evening). Every session is 24 h (1440 one-minute bars), US holidays included."""

    name = FX_24X5
    timezone = NEW_YORK
    regular_minutes = 1440

    @property
    def first_session(self) -> dt.date:
        return nyse_calendar().first_session.date()

    @property
    def last_session(self) -> dt.date:
        return nyse_calendar().last_session.date()

    def is_session(self, value: dt.date | str) -> bool:
        return to_date(value).weekday() < 5

    def session(self, value: dt.date | str) -> TradingSession:
        date = to_date(value)
        if not self.is_session(date):
            raise NotATradingSessionError(
                f"{date.isoformat()} is not an FX session: FX trades Sunday 17:00 to Friday 17:00 "
                f"{NEW_YORK}, and a session is named by the date of its 17:00 close (Monday..Friday)"
            )
        zone = ZoneInfo(NEW_YORK)
        close = dt.datetime.combine(date, _FX_ROLL, tzinfo=zone)
        open_ = dt.datetime.combine(date - dt.timedelta(days=1), _FX_ROLL, tzinfo=zone)
        return TradingSession(
            date=date,
            open=open_.astimezone(dt.UTC),
            close=close.astimezone(dt.UTC),
            calendar=self.name,
            regular_minutes=self.regular_minutes,
        )

    def sessions_between(self, start: dt.date | str, end: dt.date | str) -> list[TradingSession]:
        first, last = to_date(start), to_date(end)
        days = (first + dt.timedelta(days=i) for i in range((last - first).days + 1))
        return [self.session(day) for day in days if self.is_session(day)]


@cache
def nyse_calendar() -> xcals.ExchangeCalendar:
    return _xcals(EXCHANGE_CALENDAR)


@cache
def _xcals(name: str) -> xcals.ExchangeCalendar:
    return xcals.get_calendar(name, start=CALENDAR_START)


@cache
def get_session_calendar(name: str) -> SessionCalendar:
    """The calendar called `name` (NYSE, FX24x5 or CME)."""
    if name == NYSE:
        return _ExchangeCalendar(NYSE, EXCHANGE_CALENDAR, NEW_YORK, 390, None)
    if name == FX_24X5:
        return _Fx24x5Calendar()
    if name == CME:
        # Globex for CME equity index futures: 17:00 CT the previous day → 16:00 CT (23 h), holidays and
        # early closes from exchange_calendars' CMES.
        return _ExchangeCalendar(CME, "CMES", CHICAGO, 23 * 60, _CME_MAINTENANCE_START)
    raise ValueError(f"unknown session calendar {name!r}; use one of {NYSE}, {FX_24X5}, {CME}")
