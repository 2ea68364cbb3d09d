"""Everything one report shows, as plain data: no engine objects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from ntrader_pipeline.analytics import PerformanceMetrics

BENCHMARK_COLUMNS: tuple[str, ...] = ("ts", "instrument_equity", "index_equity")


@dataclass(frozen=True, slots=True, eq=False)
class ReportInputs:
    """One backtest's report content; frames use the backtest runner's equity/fills/trades schemas.

    Optional content (a report without it leaves the matching part out or falls back):
    - `benchmarks`: benchmarks.parquet — `ts` equal to the equity frame's, `instrument_equity` (buy and
      hold of the instrument) and optionally `index_equity` (buy and hold of `index_instrument_id`), both
      from the same starting cash. Without it the equity chart derives buy and hold from the close.
    - `config_hash`, `code_version`, `data_version`: shown in the header, to tell runs apart.
    - `provenance`: the data-quality and provenance panel, e.g. {"sessions": 61, "bars": 23790,
      "quality": {"sessions_checked": 61, "failing": 0, "empty": 0}, "catalog_files": [{"path": ...,
      "bytes": ..., "sha256": ...}]}. Scalars become rows, mappings sub-tables, lists of mappings tables.
    - `drawdowns`: the worst-drawdowns table (`analytics.drawdown_table`); computed when absent.
    - `adjustment`: how the bars were adjusted for splits/dividends (none | splits | splits_and_dividends),
      stated in the header; `corporate_actions`: (date, label) pairs, e.g. (2024-03-15, "split 4:1"),
      listed in the header and marked on the price chart.
    """

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
    benchmarks: pl.DataFrame | None = None
    index_instrument_id: str | None = None
    config_hash: str | None = None
    code_version: str | None = None
    data_version: str | None = None
    provenance: Mapping[str, object] | None = None
    drawdowns: pl.DataFrame | None = None
    adjustment: str | None = None
    corporate_actions: tuple[tuple[dt.date, str], ...] = ()

    def __post_init__(self) -> None:
        if self.benchmarks is None:
            return
        missing = [name for name in BENCHMARK_COLUMNS[:2] if name not in self.benchmarks.columns]
        if missing:
            raise ValueError(
                f"benchmarks frame of {self.instrument_id} lacks columns {missing}; "
                f"benchmarks.parquet must have {list(BENCHMARK_COLUMNS)}"
            )
        if self.benchmarks.height != self.equity.height:
            raise ValueError(
                f"benchmarks frame of {self.instrument_id} has {self.benchmarks.height} rows but the equity "
                f"curve has {self.equity.height}: benchmarks.parquet must have one row per equity bar"
            )
