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


class SessionBarFrame(BarFrame):
    """Bars labelled with their session and the window its bars may occupy, so that many sessions
    are validated in one pass (pandera's cost is per call, not per row)."""

    session: pl.Date
    window_start: pe.DateTime = pa.Field(dtype_kwargs=_UTC_NS)
    window_end: pe.DateTime = pa.Field(dtype_kwargs=_UTC_NS)

    class Config:
        name = "SessionBarFrame"
        strict = True

    @pa.dataframe_check
    def inside_session(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """The bar opens at or after its session's window start and closes at or before its end."""
        return data.lazyframe.select(
            (pl.col("ts_event") >= pl.col("window_start")) & (pl.col("ts_init") <= pl.col("window_end"))
        )
