"""Engine-free performance analytics of a backtest equity curve (polars/numpy only)."""

from ntrader_pipeline.analytics.curves import (
    EquityCurveError,
    daily_returns,
    drawdown_series,
    max_drawdown_duration_days,
    session_last_rows,
)
from ntrader_pipeline.analytics.drawdowns import (
    DRAWDOWN_SCHEMA,
    DrawdownEpisodes,
    drawdown_episodes,
    drawdown_table,
)
from ntrader_pipeline.analytics.metrics import PerformanceMetrics, compute_metrics
from ntrader_pipeline.analytics.storage import (
    DRAWDOWNS_PARQUET,
    METRICS_JSON,
    METRICS_PARQUET,
    load_metrics,
    save_metrics,
)

__all__ = [
    "DRAWDOWNS_PARQUET",
    "DRAWDOWN_SCHEMA",
    "METRICS_JSON",
    "METRICS_PARQUET",
    "DrawdownEpisodes",
    "EquityCurveError",
    "PerformanceMetrics",
    "compute_metrics",
    "daily_returns",
    "drawdown_episodes",
    "drawdown_series",
    "drawdown_table",
    "load_metrics",
    "max_drawdown_duration_days",
    "save_metrics",
    "session_last_rows",
]
