"""Human-readable metric values: percent for returns, two decimals for ratios, exchange time for stamps."""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE

_EXCHANGE_ZONE = ZoneInfo(EXCHANGE_TIMEZONE)

# Metric field → (label, format kind), in display order.
METRIC_ROWS: tuple[tuple[str, str, str], ...] = (
    ("total_return", "Total return", "percent"),
    ("cagr", "CAGR", "percent"),
    ("annual_volatility", "Annual volatility", "percent"),
    ("sharpe", "Sharpe (annualized)", "ratio"),
    ("sortino", "Sortino (annualized)", "ratio"),
    ("calmar", "Calmar ratio", "ratio"),
    ("max_drawdown", "Max drawdown", "percent"),
    ("max_drawdown_start", "Max drawdown peak", "timestamp"),
    ("max_drawdown_trough", "Max drawdown trough", "timestamp"),
    ("max_drawdown_recovery", "Max drawdown recovery", "timestamp"),
    ("max_drawdown_episode_days", "Max drawdown length (days)", "days"),
    ("max_drawdown_duration_days", "Longest drawdown (days)", "days"),
    ("benchmark_total_return", "Benchmark total return", "percent"),
    ("alpha", "Alpha (annualized)", "percent"),
    ("beta", "Beta", "ratio"),
    ("information_ratio", "Information ratio (annualized)", "ratio"),
    ("trade_count", "Closed trades", "count"),
    ("win_rate", "Win rate", "percent"),
    ("profit_factor", "Profit factor", "ratio"),
    ("expectancy", "Expectancy (per trade)", "money"),
    ("average_win", "Average win", "money"),
    ("average_loss", "Average loss", "money"),
    ("best_trade", "Best trade", "money"),
    ("worst_trade", "Worst trade", "money"),
    ("exposure", "Time in market (bars)", "percent"),
    ("turnover", "Turnover (x mean equity)", "ratio"),
    ("fees", "Fees", "money"),
    ("starting_cash", "Starting cash", "money"),
    ("final_equity", "Final equity", "money"),
    ("start", "First bar", "timestamp"),
    ("end", "Last bar", "timestamp"),
    ("bar_count", "Bars", "count"),
    ("session_count", "Sessions", "count"),
)

# Metrics that describe a curve alone, so they can be shown for a buy-and-hold benchmark too.
CURVE_METRICS: frozenset[str] = frozenset(
    {
        "total_return",
        "cagr",
        "annual_volatility",
        "sharpe",
        "sortino",
        "calmar",
        "max_drawdown",
        "max_drawdown_start",
        "max_drawdown_trough",
        "max_drawdown_recovery",
        "max_drawdown_episode_days",
        "max_drawdown_duration_days",
        "final_equity",
        "starting_cash",
        "start",
        "end",
        "bar_count",
        "session_count",
    }
)


def format_value(value: float | int | dt.datetime | None, kind: str) -> str:
    """NaN (undefined) shows as "n/a" and infinity as "∞", whatever the kind; None (a drawdown that has
    not recovered, or has no episode) as "—"."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return value.astimezone(_EXCHANGE_ZONE).strftime("%Y-%m-%d %H:%M %Z")
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    formats = {"percent": "{:.2%}", "ratio": "{:.2f}", "days": "{:.1f}", "money": "{:,.2f}", "count": "{:,}"}
    return formats[kind].format(value)


def drawdown_length(days: float, *, recovered: bool) -> str:
    """A drawdown's length in calendar days that says whether it is over: "12.0 days peak to recovery",
    or "not recovered, 12.0 days so far" for one still under water at the last bar."""
    if days == 0:
        return "no drawdown"
    length = format_value(days, "days")
    return f"{length} days peak to recovery" if recovered else f"not recovered, {length} days so far"


def metric_text(metrics: object, field: str, kind: str) -> str:
    """`format_value` of one metric of `metrics` (a `PerformanceMetrics`); the max drawdown's length says
    "so far" while that drawdown has not recovered."""
    value = getattr(metrics, field)
    text = format_value(value, kind)
    unrecovered = getattr(metrics, "max_drawdown_recovery", None) is None
    if field == "max_drawdown_episode_days" and unrecovered and value:
        return f"{text} so far (not recovered)"
    return text
