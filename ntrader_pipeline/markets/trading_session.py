"""One trading session: its exchange-local date and UTC open/close, and the bars IB returns for it.

The value type every calendar (`markets.calendars`) produces; it knows no calendar itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

_BAR_SECONDS = {"MINUTE": 60, "HOUR": 3600, "SECOND": 1}


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


def to_date(value: dt.date | str) -> dt.date:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"session date {value!r} is not an ISO date (expected YYYY-MM-DD)") from exc
    return value
