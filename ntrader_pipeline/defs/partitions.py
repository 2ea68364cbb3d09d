"""Partitions: months of trading sessions × instruments of a universe. Keys look like `2024-01-01|SPY.ARCA`.

Why months (docs/concepts/partitions-at-scale.md has the measurements): a session × instrument grid gives
1,373,500 partitions for 500 stocks from 2016, more than ten times Dagster's advised 100,000 per asset;
months give 60,000 at that scale, one catalog file per instrument × month, and one materialization event
per month. A session's quality stays visible in the partition's metadata and its check.

The month dimension offers the current month while it trades (`end_offset=1`); a month partition covers
the sessions of `markets.session_months.UnionSessions` that have closed (`in_month(month, now)`). A run
narrows the sessions with the bars assets' config (`first_session`, `last_session`, `only_missing`): the
nightly run fetches the session that just closed for every instrument of the current month.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg

from ntrader_pipeline.markets.session_months import UnionSessions, month_key, month_start
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


def bar_partition_key(date: str | dt.date, instrument_id: str) -> dg.MultiPartitionKey:
    """The partition holding the session of `date` (any day of the month names the month)."""
    return dg.MultiPartitionKey({DATE_DIMENSION: month_key(date), INSTRUMENT_DIMENSION: instrument_id})


def split_bar_partition_keys(keys: Iterable[str]) -> dict[str, list[str]]:
    """`month|instrument` keys → {instrument: [months…]} (sorted), for runs that cover many partitions."""
    by_instrument: dict[str, set[str]] = {}
    for key in keys:
        dimensions = _dimensions(key)
        by_instrument.setdefault(dimensions[INSTRUMENT_DIMENSION], set()).add(dimensions[DATE_DIMENSION])
    return {instrument: sorted(months) for instrument, months in by_instrument.items()}


def _dimensions(key: str) -> dict[str, str]:
    if not isinstance(key, dg.MultiPartitionKey):
        # Dagster joins dimension values in alphabetical order of dimension name: date, instrument.
        date, instrument = str(key).split("|")
        key = bar_partition_key(date, instrument)
    return dict(key.keys_by_dimension)


def partition_range_tags(
    first_date: str, last_date: str, instrument_id: str, last_instrument_id: str | None = None
) -> dict[str, str]:
    """Tags that make one run cover the months of `first_date`..`last_date` of one instrument (a
    single-run backfill), or of the universe's instruments from `instrument_id` to `last_instrument_id`
    in its order (a range of multi-partition keys is every month of the range × every instrument between
    the two)."""
    return {
        PARTITION_RANGE_START_TAG: str(bar_partition_key(first_date, instrument_id)),
        PARTITION_RANGE_END_TAG: str(bar_partition_key(last_date, last_instrument_id or instrument_id)),
    }


def calendar_names(universe: Universe) -> list[str]:
    """The universe's calendars (file-backed instruments are on NYSE), NYSE first when present."""
    names = {spec.calendar_name for spec in universe.instruments}
    return sorted(names, key=lambda n: (n != "NYSE", n))


@dataclass(frozen=True)
class BarPartitions:
    """The partitions of one code location: months, instruments, their product, and the sessions."""

    months: dg.MonthlyPartitionsDefinition
    instruments: dg.StaticPartitionsDefinition
    bars: dg.MultiPartitionsDefinition
    sessions: UnionSessions


def build_partitions(universe: Universe, first_session: dt.date) -> BarPartitions:
    # end_offset=1: the current month is offered while its sessions close one by one.
    months = dg.MonthlyPartitionsDefinition(
        start_date=month_start(first_session).isoformat(), timezone=PARTITION_TIMEZONE, end_offset=1
    )
    instruments = dg.StaticPartitionsDefinition(universe.instrument_ids)
    bars = dg.MultiPartitionsDefinition({DATE_DIMENSION: months, INSTRUMENT_DIMENSION: instruments})
    sessions = UnionSessions(calendar_names(universe), first_session)
    return BarPartitions(months=months, instruments=instruments, bars=bars, sessions=sessions)
