"""Human-readable metric values: percent for returns, two decimals for ratios, exchange time for stamps."""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

from ntrader_pipeline.analytics import PerformanceMetrics
from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE

_EXCHANGE_ZONE = ZoneInfo(EXCHANGE_TIMEZONE)

# Metric field → (label, format kind), in display order.
METRIC_ROWS: tuple[tuple[str, str, str], ...] = (
    ("total_return", "Total return", "percent"),
    ("cagr", "CAGR", "percent"),
    ("annual_volatility", "Annual volatility", "percent"),
    ("sharpe", "Sharpe ratio", "ratio"),
    ("sortino", "Sortino ratio", "ratio"),
    ("max_drawdown", "Max drawdown", "percent"),
    ("max_drawdown_duration_days", "Longest drawdown (days)", "days"),
    ("calmar", "Calmar ratio", "ratio"),
    ("trade_count", "Closed trades", "count"),
    ("win_rate", "Win rate", "percent"),
    ("profit_factor", "Profit factor", "ratio"),
    ("exposure", "Exposure (bars in market)", "percent"),
    ("fees", "Fees", "money"),
    ("starting_cash", "Starting cash", "money"),
    ("final_equity", "Final equity", "money"),
    ("start", "First bar", "timestamp"),
    ("end", "Last bar", "timestamp"),
    ("bar_count", "Bars", "count"),
    ("session_count", "Sessions", "count"),
)


def format_value(value: float | int | dt.datetime, kind: str) -> str:
    """NaN (undefined) shows as "n/a" and infinity as "∞", whatever the kind."""
    if isinstance(value, dt.datetime):
        return value.astimezone(_EXCHANGE_ZONE).strftime("%Y-%m-%d %H:%M %Z")
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    formats = {"percent": "{:.2%}", "ratio": "{:.2f}", "days": "{:.1f}", "money": "{:,.2f}", "count": "{:,}"}
    return formats[kind].format(value)


def metric_rows(metrics: PerformanceMetrics) -> list[tuple[str, str]]:
    """(label, formatted value) for every displayed metric."""
    return [(label, format_value(getattr(metrics, field), kind)) for field, label, kind in METRIC_ROWS]
