"""Which instruments lack their latest closed session: what the nightly refresh should have stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ntrader_pipeline.markets.calendars import SessionCalendar
from ntrader_pipeline.markets.trading_session import TradingSession

# Longer than any closure a calendar has had (NYSE: 4 weekdays after 2001-09-11) plus a weekend.
_LOOKBACK = dt.timedelta(days=14)


@dataclass(frozen=True, slots=True)
class MissingSession:
    """An instrument whose latest closed session is not stored."""

    instrument_id: str
    session: TradingSession

    def describe(self) -> str:
        close = self.session.close.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        return f"{self.instrument_id}: session {self.session.key} (closed {close}) is not stored"


def last_closed_session(calendar: SessionCalendar, now: dt.datetime, first: dt.date) -> TradingSession | None:
    """The latest session of `calendar` that closed at or before `now`, not before `first` (None if none)."""
    today = now.astimezone(ZoneInfo(calendar.timezone)).date()
    end = min(today, calendar.last_session)
    start = max(first, end - _LOOKBACK)
    if start > end:
        return None
    closed = [s for s in calendar.sessions_between(start, end) if s.close <= now]
    return closed[-1] if closed else None


def missing_latest_sessions(
    instruments: Iterable[tuple[str, SessionCalendar]],
    now: dt.datetime,
    first: dt.date,
    is_stored: Collection[tuple[str, str]],
) -> list[MissingSession]:
    """Each (instrument id, calendar) whose last closed session by `now` is not in `is_stored`, a collection
    of (instrument id, session date `YYYY-MM-DD`)."""
    missing = []
    for instrument_id, calendar in instruments:
        session = last_closed_session(calendar, now, first)
        if session is not None and (instrument_id, session.key) not in is_stored:
            missing.append(MissingSession(instrument_id, session))
    return missing
