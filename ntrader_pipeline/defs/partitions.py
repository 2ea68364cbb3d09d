"""Partitions: NYSE trading sessions × instruments of the universe. Keys look like `2024-01-03|SPY.ARCA`."""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE, non_session_days, nyse_calendar
from ntrader_pipeline.markets.universe import load_universe
from ntrader_pipeline.settings import PipelineSettings

SETTINGS = PipelineSettings()
UNIVERSE = load_universe(SETTINGS.universe)

DATE_DIMENSION = "date"
INSTRUMENT_DIMENSION = "instrument"


def _holiday_exclusions(first: dt.date) -> list[dt.datetime]:
    last = nyse_calendar().last_session.date()
    zone = ZoneInfo(EXCHANGE_TIMEZONE)
    return [dt.datetime.combine(day, dt.time(), tzinfo=zone) for day in non_session_days(first, last)]


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
