"""Place scanned rows on the bar clock: ts_event/ts_init by the catalog's conventions, and their session.

Intraday: ts_event is the bar open, ts_init the open + bar length (IB's stamping, which starts a first
hourly bar at 09:30 and still ends it an hour later); the session is the exchange-local date of the
open. Daily: ts_event is 00:00Z and ts_init 23:59:59.999999999Z of the date written in the row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from ntrader_pipeline.ingest.files.timestamps import UTC_NS
from ntrader_pipeline.markets.bar_specs import BarSpec
from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE, TradingSession

_BAR_SECONDS = {"MINUTE": 60, "HOUR": 3600}


def bar_length(spec: BarSpec) -> dt.timedelta:
    return dt.timedelta(seconds=spec.step * _BAR_SECONDS[spec.aggregation])


def _with_session_hours(frame: pl.DataFrame, sessions: Sequence[TradingSession]) -> pl.DataFrame:
    """Add each row's session open/close and keep only rows of the requested sessions.

    A lookup by date rather than a join: same result, several times faster on a multi-year read.
    """
    dates = pl.Series([s.date for s in sessions], dtype=pl.Date)

    def hours(name: str, values: list[dt.datetime]) -> pl.Expr:
        lookup = pl.Series(values, dtype=UTC_NS)
        return pl.col("session").replace_strict(dates, lookup, default=None, return_dtype=UTC_NS).alias(name)

    with_hours = frame.with_columns(
        hours("session_open", [s.open for s in sessions]), hours("session_close", [s.close for s in sessions])
    )
    return with_hours.filter(pl.col("session_open").is_not_null())


def place_intraday(
    rows: pl.DataFrame, sessions: Sequence[TradingSession], spec: BarSpec, marks: str
) -> pl.DataFrame:
    """Rows (with a UTC `stamp`) of the requested sessions, with ts_event, ts_init and session columns."""
    length = bar_length(spec)
    event = pl.col("stamp") - length if marks == "close" else pl.col("stamp")
    placed = rows.with_columns(ts_event=event).with_columns(
        session=pl.col("ts_event").dt.convert_time_zone(EXCHANGE_TIMEZONE).dt.date()
    )
    placed = _with_session_hours(placed, sessions)
    if marks == "close":
        # A bar cut short by the open (IB's 09:30-10:00 first hourly bar) is stamped 10:00 at its close.
        opened_early = (pl.col("stamp") > pl.col("session_open")) & (
            pl.col("ts_event") < pl.col("session_open")
        )
        placed = placed.with_columns(
            ts_event=pl.when(opened_early).then(pl.col("session_open")).otherwise(pl.col("ts_event"))
        )
    return placed.with_columns(ts_init=pl.col("ts_event") + length)


def place_daily(rows: pl.DataFrame, sessions: Sequence[TradingSession]) -> pl.DataFrame:
    """Rows (with a written `date`) of the requested sessions, with ts_event, ts_init and session columns."""
    placed = _with_session_hours(rows.rename({"date": "session"}), sessions)
    day_start = pl.col("session").cast(pl.Datetime("ns")).dt.replace_time_zone("UTC")
    last_nanosecond = pl.duration(nanoseconds=86_400 * 1_000_000_000 - 1, time_unit="ns")
    return placed.with_columns(ts_event=day_start, ts_init=day_start + last_nanosecond)
