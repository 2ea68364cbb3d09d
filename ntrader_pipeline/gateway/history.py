"""What a reqHistoricalData asks for: end time, duration and bar size → the synthetic bars to send.

IB semantics emulated here:
- End time forms: `YYYYMMDD HH:MM:SS TZ` (any IANA/legacy zone such as `UTC` or `US/Eastern`), the same
  without a zone (taken as UTC, the gateway's "login time zone"), `YYYYMMDD-HH:MM:SS` (UTC), and an empty
  string meaning now.
- Durations `N S|D|W|M|Y`. `D` counts trading sessions back from the end time (a weekend or holiday is not
  a day); `S` is seconds and `W`/`M`/`Y` are calendar weeks, months and years before the end time.
- A bar is returned when it overlaps the window (starts before the end and ends after the start); whole
  bars are returned, never trimmed. Sessions still in progress at "now" are not served yet.
- Synthetic data exists only in regular trading hours, so useRTH=0 serves the same RTH bars.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from ntrader_pipeline.gateway.realities import MarketReality
from ntrader_pipeline.gateway.reality_bars import session_series
from ntrader_pipeline.gateway.synthetic import DAY, FIVE_MINUTES, HOUR, MINUTE, SyntheticBar, session_bars
from ntrader_pipeline.markets.calendars import NYSE, get_session_calendar
from ntrader_pipeline.markets.sessions import TradingSession

BAR_SIZES: dict[str, int] = {"1 min": MINUTE, "5 mins": FIVE_MINUTES, "1 hour": HOUR, "1 day": DAY}
# IB's sub-minute sizes: accepted (they count toward the small-bar pacing rule) but not served (321)
SMALL_BAR_SIZES: dict[str, int] = {"1 secs": 1, "5 secs": 5, "10 secs": 10, "15 secs": 15, "30 secs": 30}
DurationUnit = Literal["S", "D", "W", "M", "Y"]
# IB's smallest bar size allowed per duration unit (its "valid duration / bar size" table, simplified)
_MIN_BAR_SECONDS: dict[str, int] = {"S": MINUTE, "D": MINUTE, "W": 3 * MINUTE, "M": 30 * MINUTE, "Y": DAY}

_END_WITH_SPACE = re.compile(r"^(\d{8})\s+(\d{2}):(\d{2}):(\d{2})(?:\s+(\S+))?$")
_END_WITH_DASH = re.compile(r"^(\d{8})-(\d{2}):(\d{2}):(\d{2})$")
_DURATION = re.compile(r"^(\d+)\s+([SDWMY])$")
VALIDATION_ERROR = 321  # IB's "Error validating request"


class HistoryRequestError(ValueError):
    """The request cannot be served; `code`/`text` are what the gateway sends back as an IB error."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


def _invalid(field: str, cause: str) -> HistoryRequestError:
    return HistoryRequestError(VALIDATION_ERROR, f"Error validating request.-'{field}' : cause - {cause}")


@dataclass(frozen=True, slots=True)
class Duration:
    amount: int
    unit: DurationUnit

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _DURATION.match(text.strip().upper())
        if not match or int(match.group(1)) <= 0:
            raise _invalid(
                "duration",
                f"Historical data duration {text!r} is invalid; use a positive integer, a space and one of "
                "S, D, W, M, Y (e.g. '1 D', '3600 S')",
            )
        return cls(int(match.group(1)), match.group(2))  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"{self.amount} {self.unit}"


def parse_bar_size(text: str) -> int:
    """Bar length in seconds for IB's bar size setting (`1 min`, `5 mins`, `1 hour`, `1 day`, `30 secs`)."""
    name = " ".join(text.split()).lower()
    seconds = BAR_SIZES.get(name, SMALL_BAR_SIZES.get(name))
    if seconds is None:
        raise _invalid(
            "bar size",
            f"Historical data bar size setting {text!r} is invalid or not served by the embedded gateway; "
            f"use one of {', '.join(repr(s) for s in BAR_SIZES)}",
        )
    return seconds


def parse_end_time(text: str, now: dt.datetime) -> dt.datetime:
    """The request's end instant in UTC (`now` for an empty string)."""
    text = text.strip()
    if not text:
        return now.astimezone(dt.UTC)
    zone: dt.tzinfo = dt.UTC
    if match := _END_WITH_DASH.match(text):
        day, hh, mm, ss = match.groups()
    elif match := _END_WITH_SPACE.match(text):
        day, hh, mm, ss, zone_name = match.groups()
        if zone_name:
            try:
                zone = ZoneInfo(zone_name)
            except (ZoneInfoNotFoundError, ValueError):
                raise _invalid(
                    "end date", f"time zone {zone_name!r} in end date/time {text!r} is unknown"
                ) from None
    else:
        raise _invalid(
            "end date",
            f"end date/time {text!r} is invalid; use 'YYYYMMDD HH:MM:SS TZ', 'YYYYMMDD-HH:MM:SS' (UTC) "
            "or an empty string for now",
        )
    try:
        local = dt.datetime.strptime(f"{day} {hh}:{mm}:{ss}", "%Y%m%d %H:%M:%S")
    except ValueError:
        raise _invalid("end date", f"end date/time {text!r} is not a real date and time") from None
    return local.replace(tzinfo=zone).astimezone(dt.UTC)


def require_served_bar_size(bar_seconds: int, text: str) -> None:
    if bar_seconds not in BAR_SIZES.values():
        raise _invalid(
            "bar size",
            f"bar size {text!r} is valid at IB but not served by the embedded gateway; "
            f"use one of {', '.join(repr(s) for s in BAR_SIZES)}",
        )


def check_duration_fits_bar_size(duration: Duration, bar_seconds: int) -> None:
    smallest = _MIN_BAR_SECONDS[duration.unit]
    if bar_seconds < smallest:
        names = [name for name, secs in BAR_SIZES.items() if secs >= smallest]
        raise _invalid(
            "duration",
            f"duration {duration} needs bars of at least {smallest // 60} minutes; use one of {names} "
            "or a shorter duration (N D or N S)",
        )


def _minus_months(moment: dt.datetime, months: int) -> dt.datetime:
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@dataclass(frozen=True, slots=True)
class HistoryWindow:
    """The instants [start, end) a request covers and the completed sessions that overlap them."""

    start: dt.datetime
    end: dt.datetime
    sessions: tuple[TradingSession, ...]


def _completed_sessions(
    first: dt.date, last: dt.date, now: dt.datetime, calendar: str
) -> list[TradingSession]:
    sessions = get_session_calendar(calendar)
    first, last = max(first, sessions.first_session), min(last, sessions.last_session)
    if first > last:
        return []
    return [s for s in sessions.sessions_between(first, last) if s.close <= now]


def _last_sessions(count: int, end: dt.datetime, now: dt.datetime, calendar: str) -> list[TradingSession]:
    """The last `count` completed sessions that opened before `end`."""
    low = get_session_calendar(calendar).first_session
    span = count * 7 // 5 + 10
    while True:
        first = end.date() - dt.timedelta(days=span)
        found = [
            s
            for s in _completed_sessions(first, end.date() + dt.timedelta(days=1), now, calendar)
            if s.open < end
        ]
        if len(found) >= count or first <= low:
            return found[-count:]
        span *= 2


def history_window(
    duration: Duration, end: dt.datetime, now: dt.datetime, calendar: str = NYSE
) -> HistoryWindow:
    """`calendar` is the contract's (NYSE, FX24x5, CME): "D" counts its sessions."""
    if duration.unit == "D":
        sessions = _last_sessions(duration.amount, end, now, calendar)
        start = sessions[0].open if sessions else end
        return HistoryWindow(start, end, tuple(sessions))
    if duration.unit == "S":
        start = end - dt.timedelta(seconds=duration.amount)
    elif duration.unit == "W":
        start = end - dt.timedelta(weeks=duration.amount)
    elif duration.unit == "M":
        start = _minus_months(end, duration.amount)
    else:
        start = _minus_months(end, 12 * duration.amount)
    candidates = _completed_sessions(
        start.date() - dt.timedelta(days=1), end.date() + dt.timedelta(days=1), now, calendar
    )
    sessions = [s for s in candidates if s.open < end and s.close > start]
    return HistoryWindow(start, end, tuple(sessions))


def select_bars(
    symbol: str,
    window: HistoryWindow,
    bar_seconds: int,
    reality: MarketReality | None = None,
    what_to_show: str = "TRADES",
) -> list[SyntheticBar]:
    """Whole bars of `bar_seconds` that overlap the window, oldest first; under `reality` (realities.py)
    when given (ADJUSTED_LAST bars then come continuous: the caller applies the dividend factors)."""
    start_ts, end_ts = window.start.timestamp(), window.end.timestamp()
    bars: list[SyntheticBar] = []
    for session in window.sessions:
        if reality is None:
            series = session_bars(symbol, session.date, bar_seconds)
        else:
            found = session_series(symbol, session.date, bar_seconds, reality, what_to_show)
            if found is None:
                continue
            series = found
        close_ts = int(session.close.timestamp())
        if bar_seconds == DAY:
            bar_end = np.full(len(series), close_ts)
        else:
            bar_end = np.minimum((series.start // bar_seconds + 1) * bar_seconds, close_ts)
        keep = (series.start < end_ts) & (bar_end > start_ts)
        rows = series.rows()
        bars.extend(row for row, kept in zip(rows, keep.tolist(), strict=True) if kept)
    return bars
