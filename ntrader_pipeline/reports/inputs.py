"""Everything one report shows, as plain data: no engine objects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from ntrader_pipeline.analytics import PerformanceMetrics


@dataclass(frozen=True, slots=True, eq=False)
class ReportInputs:
    """One backtest's report content; frames use the backtest runner's equity/fills/trades schemas."""

    title: str
    instrument_id: str
    bar_type: str
    strategy: str
    parameters: Mapping[str, object]
    window_start: dt.date
    window_end: dt.date
    equity: pl.DataFrame
    fills: pl.DataFrame
    trades: pl.DataFrame
    metrics: PerformanceMetrics
    starting_cash: float
