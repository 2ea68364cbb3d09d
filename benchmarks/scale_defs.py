"""The three partition designs `benchmarks/scale.py` measures, as pure Dagster definitions.

Nothing here imports the product's `ntrader_pipeline/defs/`: the point is Dagster's own envelope for a
universe of N synthetic instruments (`S0001.NYSE`…) over a history of NYSE sessions.

- A `session_x_instrument`: one bars asset, `date` (NYSE sessions: daily partitions with weekends and
  holidays excluded) × `instrument`; keys `2024-01-03|S0001.NYSE` (the product's design until issue 18).
- B `month_x_instrument`: one bars asset, `date` (months) × `instrument`; keys `2024-01-01|S0001.NYSE`.
- C `asset_per_instrument`: one asset per instrument (`bars_1_minute/S0001_NYSE`), each with the daily
  session partitions of A.

The history is bounded by `end_date` (the day after `last`, the month after `last`'s month) so the figures
do not depend on today's date; the product itself leaves the end open (`end_offset=0` for sessions,
`end_offset=1` for months).

A code server loads a candidate through the no-argument functions `candidate_a`/`candidate_b`/
`candidate_c`, which read the universe size and history from the `SCALE_BENCH_*` environment variables.
"""

import datetime as dt
import os
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

import dagster as dg
import exchange_calendars as xcals
import pandas as pd

PARTITION_TIMEZONE = "Etc/GMT-2"  # the product's: a day ends at 22:00 UTC, after every close
DATE_DIMENSION = "date"
INSTRUMENT_DIMENSION = "instrument"
ASSET_NAME = "bars_1_minute"
CANDIDATES = ("A", "B", "C")
DESCRIPTIONS = {
    "A": "session × instrument",
    "B": "month × instrument",
    "C": "asset per instrument × session",
}
ENV_INSTRUMENTS = "SCALE_BENCH_INSTRUMENTS"
ENV_FIRST = "SCALE_BENCH_FIRST"
ENV_LAST = "SCALE_BENCH_LAST"


@dataclass(frozen=True)
class History:
    """A universe of `instruments` synthetic ids over the NYSE sessions from `first` to `last`."""

    instruments: int
    first: dt.date
    last: dt.date

    @property
    def instrument_ids(self) -> list[str]:
        return [instrument_id(i) for i in range(1, self.instruments + 1)]

    def to_env(self) -> dict[str, str]:
        return {
            ENV_INSTRUMENTS: str(self.instruments),
            ENV_FIRST: self.first.isoformat(),
            ENV_LAST: self.last.isoformat(),
        }

    @classmethod
    def from_env(cls) -> "History":
        return cls(
            instruments=int(os.environ[ENV_INSTRUMENTS]),
            first=dt.date.fromisoformat(os.environ[ENV_FIRST]),
            last=dt.date.fromisoformat(os.environ[ENV_LAST]),
        )


def instrument_id(number: int) -> str:
    return f"S{number:04d}.NYSE"


def asset_name_for(instrument: str) -> str:
    """C's asset name for an instrument: asset names allow only letters, digits and underscores."""
    return instrument.replace(".", "_")


@cache
def nyse_sessions(first: dt.date, last: dt.date) -> tuple[dt.date, ...]:
    calendar = xcals.get_calendar("XNYS", start="2000-01-01")
    labels = calendar.sessions_in_range(pd.Timestamp(first), pd.Timestamp(last))
    return tuple(label.date() for label in labels)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """First days of the months from `first`'s month to `last`'s month, both included."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def holiday_exclusions(history: History) -> list[dt.datetime]:
    """Weekdays of the history on which NYSE has no session, as the product excludes them."""
    sessions = set(nyse_sessions(history.first, history.last))
    zone = ZoneInfo(PARTITION_TIMEZONE)
    days = (history.first + dt.timedelta(days=i) for i in range((history.last - history.first).days + 1))
    return [
        dt.datetime.combine(d, dt.time(), tzinfo=zone) for d in days if d.weekday() < 5 and d not in sessions
    ]


def session_partitions(history: History) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(
        start_date=history.first.isoformat(),
        end_date=(history.last + dt.timedelta(days=1)).isoformat(),
        timezone=PARTITION_TIMEZONE,
        exclusions=["0 0 * * 6", "0 0 * * 0", *holiday_exclusions(history)],
    )


def month_partitions(history: History) -> dg.MonthlyPartitionsDefinition:
    after_last = months_between(history.last, history.last + dt.timedelta(days=31))[-1]
    return dg.MonthlyPartitionsDefinition(
        start_date=history.first.replace(day=1).isoformat(),
        end_date=after_last.isoformat(),
        timezone=PARTITION_TIMEZONE,
    )


def _bars_asset(
    name: str, partitions: dg.PartitionsDefinition, key_prefix: str | None = None
) -> dg.AssetsDefinition:
    @dg.asset(name=name, key_prefix=key_prefix, partitions_def=partitions, pool="ibkr")
    def bars(context: dg.AssetExecutionContext) -> None:
        context.log.info("never run: the benchmark records materializations directly")

    return bars


def build_candidate(candidate: str, history: History) -> dg.Definitions:
    instruments = dg.StaticPartitionsDefinition(history.instrument_ids)
    if candidate == "A":
        dims = {DATE_DIMENSION: session_partitions(history), INSTRUMENT_DIMENSION: instruments}
        return dg.Definitions(assets=[_bars_asset(ASSET_NAME, dg.MultiPartitionsDefinition(dims))])
    if candidate == "B":
        dims = {DATE_DIMENSION: month_partitions(history), INSTRUMENT_DIMENSION: instruments}
        return dg.Definitions(assets=[_bars_asset(ASSET_NAME, dg.MultiPartitionsDefinition(dims))])
    if candidate == "C":
        sessions = session_partitions(history)  # one object shared by every asset, as a product would
        assets = [_bars_asset(asset_name_for(i), sessions, ASSET_NAME) for i in history.instrument_ids]
        return dg.Definitions(assets=assets)
    raise ValueError(f"unknown candidate {candidate!r}: pick one of {', '.join(CANDIDATES)}")


def candidate_a() -> dg.Definitions:
    return build_candidate("A", History.from_env())


def candidate_b() -> dg.Definitions:
    return build_candidate("B", History.from_env())


def candidate_c() -> dg.Definitions:
    return build_candidate("C", History.from_env())
