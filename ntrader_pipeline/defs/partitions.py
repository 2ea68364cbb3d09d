"""Partitions: trading sessions × instruments of a universe. Keys look like `2024-01-03|SPY.ARCA`.

The date dimension is the union of the universe's calendars: NYSE alone gives NYSE sessions (weekends and
NYSE holidays excluded); an FX pair or a future adds the weekdays its calendar trades (e.g. US holidays
for FX, MLK day's short CME session). A date on which an instrument's own calendar has no session (SPY on
MLK day) is a *closed* partition: materialized with no IB request and no file, and its check says so.

Only closed sessions are offered. A daily partition appears once its window has ended (`end_offset=0`),
and the windows are days of `PARTITION_TIMEZONE`, UTC+2: the window of key D ends at 22:00 UTC on D,
which is 17:00 New York in winter and 18:00 in summer — after the close of every calendar the pipeline
knows (NYSE 16:00 or 13:00 on half days, FX 17:00, CME Globex 17:00 New York). The key is still the
session's date. So on a weekday the session appears one or two hours after its close (before the 18:30
nightly schedule), on Saturday the last key is Friday's, and on a holiday it is the session before.
`end_offset=1` would offer today's session while it trades, and with weekend/holiday exclusions even the
next one (dagster issue 33551). `ingest.completeness.ensure_closed` refuses a fetch before the close too.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import dagster as dg

from ntrader_pipeline.markets.calendars import get_session_calendar
from ntrader_pipeline.markets.sessions import nyse_calendar
from ntrader_pipeline.markets.universe import Universe

DATE_DIMENSION = "date"
INSTRUMENT_DIMENSION = "instrument"
# A fixed zone whose midnight (22:00 UTC) is after every known calendar's close; Etc/GMT-2 is UTC+2.
PARTITION_TIMEZONE = "Etc/GMT-2"
# The tags Dagster puts a run's partition (or single-run partition range) in; a backfill and
# `--partition-range` set the range ones. ntrader_pipeline_tests/defs/test_partitions.py pins them against
# Dagster's own constants, which are not public API.
PARTITION_TAG = "dagster/partition"
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"


def bar_partition_key(date: str, instrument_id: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({DATE_DIMENSION: date, INSTRUMENT_DIMENSION: instrument_id})


def split_bar_partition_keys(keys: Iterable[str]) -> dict[str, list[str]]:
    """`date|instrument` keys → {instrument: [dates…]} (sorted), for runs that cover many partitions."""
    by_instrument: dict[str, list[str]] = {}
    for key in keys:
        dimensions = _dimensions(key)
        by_instrument.setdefault(dimensions[INSTRUMENT_DIMENSION], []).append(dimensions[DATE_DIMENSION])
    return {instrument: sorted(dates) for instrument, dates in by_instrument.items()}


def _dimensions(key: str) -> dict[str, str]:
    if not isinstance(key, dg.MultiPartitionKey):
        # Dagster joins dimension values in alphabetical order of dimension name: date, instrument.
        date, instrument = str(key).split("|")
        key = bar_partition_key(date, instrument)
    return dict(key.keys_by_dimension)


def partition_range_tags(
    first_date: str, last_date: str, instrument_id: str, last_instrument_id: str | None = None
) -> dict[str, str]:
    """Tags that make one run cover `first_date`..`last_date` of one instrument (a single-run backfill),
    or of the universe's instruments from `instrument_id` to `last_instrument_id` in its order (a range of
    multi-partition keys is every date of the range × every instrument between the two)."""
    return {
        PARTITION_RANGE_START_TAG: str(bar_partition_key(first_date, instrument_id)),
        PARTITION_RANGE_END_TAG: str(bar_partition_key(last_date, last_instrument_id or instrument_id)),
    }


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


@dataclass(frozen=True)
class BarPartitions:
    """The partitions of one code location: sessions, instruments and their product."""

    sessions: dg.DailyPartitionsDefinition
    instruments: dg.StaticPartitionsDefinition
    bars: dg.MultiPartitionsDefinition


def build_partitions(universe: Universe, first_session: dt.date) -> BarPartitions:
    zone = ZoneInfo(PARTITION_TIMEZONE)
    holidays = [
        dt.datetime.combine(d, dt.time(), tzinfo=zone)
        for d in closed_weekdays(first_session, calendar_names(universe))
    ]
    # end_offset=0: a session is offered once its window (ending after every close) has ended.
    sessions = dg.DailyPartitionsDefinition(
        start_date=first_session.isoformat(),
        timezone=PARTITION_TIMEZONE,
        end_offset=0,
        exclusions=["0 0 * * 6", "0 0 * * 0", *holidays],
    )
    instruments = dg.StaticPartitionsDefinition(universe.instrument_ids)
    bars = dg.MultiPartitionsDefinition({DATE_DIMENSION: sessions, INSTRUMENT_DIMENSION: instruments})
    return BarPartitions(sessions=sessions, instruments=instruments, bars=bars)
