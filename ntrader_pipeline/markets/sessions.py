"""Trading sessions: partition key ↔ UTC open/close window, expected bar counts, and where a bar may lie.

NYSE is the default calendar; `markets.calendars` adds FX 24×5 and CME, and every function here takes an
optional `calendar` (a name or a calendar object). Everything inside the pipeline is UTC; the exchange's
local date only names a session. Imports go one way: `sessions` → `calendars` → `trading_session`.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ntrader_pipeline.markets.bar_specs import BarSpec
from ntrader_pipeline.markets.calendars import (
    EXCHANGE_TIMEZONE,
    SessionCalendar,
    get_session_calendar,
    nyse_calendar,
)
from ntrader_pipeline.markets.trading_session import NotATradingSessionError, TradingSession, to_date

__all__ = [
    "EXCHANGE_TIMEZONE",
    "NotATradingSessionError",
    "TradingSession",
    "is_session",
    "nyse_calendar",
    "session_for",
    "session_window",
    "sessions_between",
    "to_date",
]


def _calendar(calendar: str | SessionCalendar | None) -> SessionCalendar | None:
    """None for the default NYSE path (kept on the fast xcals calls used everywhere)."""
    if calendar is None or calendar == "NYSE":
        return None
    if isinstance(calendar, str):
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


def session_window(session: TradingSession, spec: BarSpec) -> tuple[dt.datetime, dt.datetime]:
    """Where a bar of `spec` may lie: the session's open..close (on its own calendar: RTH for stocks, the
    24 h FX day, the Globex session) for intraday bars; the UTC date of the close for daily bars, where IB
    stamps them."""
    if spec.is_intraday:
        return session.open, session.close
    return session.date_start, session.date_start + dt.timedelta(days=1)
