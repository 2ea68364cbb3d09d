"""Partitions: trading sessions × instruments of the universe. Keys look like `2024-01-03|SPY.ARCA`.

The date dimension is the union of the universe's calendars: NYSE alone gives NYSE sessions (weekends and
NYSE holidays excluded); an FX pair or a future adds the weekdays its calendar trades (e.g. US holidays
for FX, MLK day's short CME session). A date on which an instrument's own calendar has no session (SPY on
MLK day) is a *closed* partition: materialized with no IB request and no file, and its check says so.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

from ntrader_pipeline.markets.calendars import get_session_calendar
from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE, TradingSession, nyse_calendar, to_date
from ntrader_pipeline.markets.universe import Universe, load_universe
from ntrader_pipeline.settings import PipelineSettings

SETTINGS = PipelineSettings()
UNIVERSE = load_universe(SETTINGS.universe)

DATE_DIMENSION = "date"
INSTRUMENT_DIMENSION = "instrument"


def calendar_names(universe: Universe) -> list[str]:
    """The universe's calendars (file-backed instruments are on NYSE), NYSE first when present."""
    names = {spec.calendar_name for spec in universe.instruments}
    return sorted(names, key=lambda n: (n != "NYSE", n))


def closed_weekdays(first: dt.date, names: list[str]) -> list[dt.date]:
    """Weekdays from `first` to the end of the NYSE calendar on which none of the calendars trades."""
    last = nyse_calendar().last_session.date()
    calendars = [get_session_calendar(name) for name in names]
    open_days: set[dt.date] = set()
    for calendar in calendars:
        open_days.update(s.date for s in calendar.sessions_between(first, min(last, calendar.last_session)))
    days = (first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    return [d for d in days if d.weekday() < 5 and d not in open_days]


def _holiday_exclusions(first: dt.date) -> list[dt.datetime]:
    zone = ZoneInfo(EXCHANGE_TIMEZONE)
    return [
        dt.datetime.combine(d, dt.time(), tzinfo=zone)
        for d in closed_weekdays(first, calendar_names(UNIVERSE))
    ]


# end_offset=1 exposes today's session, so the post-close schedule can target it.
session_partitions = dg.DailyPartitionsDefinition(
    start_date=SETTINGS.first_session.isoformat(),
    timezone=EXCHANGE_TIMEZONE,
    end_offset=1,
    exclusions=["0 0 * * 6", "0 0 * * 0", *_holiday_exclusions(SETTINGS.first_session)],
)
instrument_partitions = dg.StaticPartitionsDefinition(UNIVERSE.instrument_ids)
bar_partitions = dg.MultiPartitionsDefinition(
    {DATE_DIMENSION: session_partitions, INSTRUMENT_DIMENSION: instrument_partitions}
)


def split_bar_partition_keys(keys: list[str]) -> dict[str, list[str]]:
    """`date|instrument` keys → {instrument: [dates…]} (sorted), for runs that cover many partitions."""
    by_instrument: dict[str, list[str]] = {}
    for key in keys:
        # Dagster joins dimension values in alphabetical order of dimension name: date, instrument.
        date, instrument = str(key).split("|")
        by_instrument.setdefault(instrument, []).append(date)
    return {instrument: sorted(dates) for instrument, dates in by_instrument.items()}


def instrument_sessions(instrument_id: str, dates: list[str]) -> tuple[list[TradingSession], list[str]]:
    """The instrument's sessions on `dates` (its own calendar), and the dates its calendar is closed."""
    calendar = UNIVERSE.instrument(instrument_id).calendar
    sessions = [calendar.session(d) for d in dates if calendar.is_session(to_date(d))]
    closed = [d for d in dates if not calendar.is_session(to_date(d))]
    return sessions, closed


def closed_reason(instrument_id: str, date: str) -> str:
    calendar = UNIVERSE.instrument(instrument_id).calendar.name
    return f"{instrument_id} does not trade on {date} (no {calendar} session): nothing to fetch or check"
