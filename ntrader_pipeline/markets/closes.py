"""Which NYSE session closed by a given instant, or why none did (weekend, named holiday)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pandas as pd

from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE, TradingSession, nyse_calendar, session_for


@dataclass(frozen=True, slots=True)
class NoSession:
    """The exchange-local date had no session; `reason` says why in words a human can check."""

    date: dt.date
    reason: str


def holiday_name(date: dt.date) -> str | None:
    """The NYSE holiday's name on a weekday without a session (None for sessions and weekends)."""
    calendar = nyse_calendar()
    label = pd.Timestamp(date)
    if date.weekday() >= 5 or calendar.is_session(label):
        return None
    names = calendar.regular_holidays.holidays(label, label, return_name=True)
    # Ad-hoc closures (national days of mourning, weather) carry no name in exchange_calendars.
    return str(names.iloc[0]) if len(names) else "an unscheduled NYSE closure"


def session_closed_on(instant: dt.datetime) -> TradingSession | NoSession:
    """The session of `instant`'s New York date, or why that date had none."""
    date = instant.astimezone(ZoneInfo(EXCHANGE_TIMEZONE)).date()
    if date.weekday() >= 5:
        return NoSession(date, f"{date.isoformat()} is a {date.strftime('%A')}: the NYSE is closed")
    if (name := holiday_name(date)) is not None:
        return NoSession(date, f"{date.isoformat()} is an NYSE holiday ({name}): no session to fetch")
    return session_for(date)
