"""Engine-free performance analytics of a backtest equity curve (polars/numpy only)."""

from ntrader_pipeline.analytics.curves import (
    EquityCurveError,
    daily_returns,
    drawdown_series,
    max_drawdown_duration_days,
)
from ntrader_pipeline.analytics.metrics import PerformanceMetrics, compute_metrics

__all__ = [
    "EquityCurveError",
    "PerformanceMetrics",
    "compute_metrics",
    "daily_returns",
    "drawdown_series",
    "max_drawdown_duration_days",
]
