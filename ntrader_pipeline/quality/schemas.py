"""pandera schema for a frame of bars (see `catalog.frames.bars_to_frame`); each rule a named check."""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa
import polars as pl
from pandera.engines import polars_engine as pe

_UTC_NS = {"time_unit": "ns", "time_zone": "UTC"}


class BarFrame(pa.DataFrameModel):
    """Rules every stored bar obeys, whatever its session or size."""

    ts_event: pe.DateTime = pa.Field(dtype_kwargs=_UTC_NS)
    ts_init: pe.DateTime = pa.Field(dtype_kwargs=_UTC_NS, unique=True)
    open: float = pa.Field(gt=0)
    high: float = pa.Field(gt=0)
    low: float = pa.Field(gt=0)
    close: float = pa.Field(gt=0)
    volume: float = pa.Field(ge=0)

    class Config:
        name = "BarFrame"
        strict = True

    @pa.dataframe_check
    def high_is_bar_maximum(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """high >= open, close and low."""
        return data.lazyframe.select(pl.col("high") >= pl.max_horizontal("open", "close", "low"))

    @pa.dataframe_check
    def low_is_bar_minimum(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """low <= open and close."""
        return data.lazyframe.select(pl.col("low") <= pl.min_horizontal("open", "close"))

    @pa.dataframe_check
    def timestamps_strictly_increasing(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Each bar closes after the previous one (no duplicates, no reordering)."""
        step = pl.col("ts_init").diff()
        return data.lazyframe.select(step.is_null() | (step > dt.timedelta(0)))

    @pa.dataframe_check
    def opens_before_it_closes(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """ts_event (bar open) <= ts_init (bar close)."""
        return data.lazyframe.select(pl.col("ts_event") <= pl.col("ts_init"))


def inside_window_check(start: dt.datetime, end: dt.datetime) -> pa.Check:
    """Every bar opens at or after `start` and closes at or before `end` (UTC)."""

    def _inside(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("ts_event") >= start) & (pl.col("ts_init") <= end))

    return pa.Check(_inside, name="inside_session")
