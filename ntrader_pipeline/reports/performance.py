"""Figure factories for the performance sections: equity vs benchmark, returns by period, rolling Sharpe,
return distribution, worst drawdowns and metrics side by side with the benchmark.

Inputs are plain frames: the equity frame, `benchmarks.parquet` (`ts`, `instrument_equity`, optional
`index_equity`) and daily session returns (`analytics.daily_returns`).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
import polars as pl

from ntrader_pipeline.analytics import PerformanceMetrics
from ntrader_pipeline.analytics.periods import monthly_returns, rolling_sharpe, yearly_returns
from ntrader_pipeline.reports.downsample import downsample_extremes
from ntrader_pipeline.reports.figures import (
    MAX_LINE_POINTS,
    downsampled_title,
    equity_lines_figure,
    exchange_time_labels,
    table_figure,
)
from ntrader_pipeline.reports.formatting import CURVE_METRICS, METRIC_ROWS, format_value, metric_text
from ntrader_pipeline.reports.timeaxis import skip_closed_time

_STRATEGY_COLOR, _BENCHMARK_COLOR, _INDEX_COLOR = "#1f77b4", "#ff7f0e", "#7f7f7f"


def equity_vs_benchmark(
    equity: pl.DataFrame,
    benchmarks: pl.DataFrame,
    *,
    instrument: str,
    index: str | None = None,
    max_points: int = MAX_LINE_POINTS,
    skip_closed_hours: bool = True,
) -> go.Figure:
    """Strategy equity against buy and hold of the instrument (and of the index when `benchmarks` has
    `index_equity`), with buttons switching the y axis between linear and log. The time axis skips the
    hours without bars (`timeaxis`) unless `skip_closed_hours` is False."""
    columns = {"strategy": equity["equity"], "instrument": benchmarks["instrument_equity"]}
    if "index_equity" in benchmarks.columns and benchmarks["index_equity"].null_count() < benchmarks.height:
        columns["index"] = benchmarks["index_equity"]
    curves = pl.DataFrame({"ts": equity["ts"], **columns})
    shown = downsample_extremes(curves, tuple(columns), max_points)
    x = exchange_time_labels(shown["ts"])
    names = {"strategy": "Strategy", "instrument": f"Buy and hold {instrument}", "index": f"Index {index}"}
    styles = {
        "strategy": {"color": _STRATEGY_COLOR},
        "instrument": {"color": _BENCHMARK_COLOR, "dash": "dot"},
        "index": {"color": _INDEX_COLOR, "dash": "dash"},
    }
    return equity_lines_figure(
        [
            go.Scatter(x=x, y=shown[key].to_numpy(), name=names[key], mode="lines", line=styles[key])
            for key in columns
        ],
        curves["ts"],
        title=downsampled_title("Equity vs benchmark", shown.height, curves.height),
        yaxis_title="Equity",
        skip_closed_hours=skip_closed_hours,
    )


def monthly_returns_heatmap(daily: pl.DataFrame) -> go.Figure:
    """Year x month grid of compounded monthly returns; empty cells are months without sessions."""
    monthly = monthly_returns(daily)
    years = sorted(set(monthly["year"].to_list()))
    grid = np.full((len(years), 12), np.nan)
    for year, month, value in monthly.iter_rows():
        grid[years.index(year), month - 1] = value
    text = [["" if np.isnan(value) else f"{value:.1%}" for value in row] for row in grid]
    z = [[None if np.isnan(value) else float(value) for value in row] for row in grid]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=list(calendar.month_abbr)[1:],
            y=[str(year) for year in years],
            text=text,
            texttemplate="%{text}",
            colorscale="RdYlGn",
            zmid=0.0,
            hovertemplate="%{y} %{x}: %{z:.2%}<extra></extra>",
            colorbar={"tickformat": ".1%"},
        )
    )
    figure.update_layout(title="Monthly returns", yaxis={"autorange": "reversed", "type": "category"})
    return figure


def yearly_returns_chart(daily: pl.DataFrame, benchmark_daily: pl.DataFrame | None = None) -> go.Figure:
    """Compounded return of each calendar year, next to the benchmark's when given."""
    series = [("Strategy", daily, _STRATEGY_COLOR)]
    if benchmark_daily is not None:
        series.append(("Benchmark", benchmark_daily, _BENCHMARK_COLOR))
    bars = []
    for name, returns, color in series:
        yearly = yearly_returns(returns)
        bars.append(
            go.Bar(
                x=[str(year) for year in yearly["year"]],
                y=yearly["return"].to_numpy(),
                name=name,
                marker_color=color,
                texttemplate="%{y:.1%}",
            )
        )
    figure = go.Figure(bars)
    figure.update_layout(
        title="Yearly returns", barmode="group", xaxis={"type": "category"}, yaxis={"tickformat": ".1%"}
    )
    return figure


def rolling_sharpe_chart(
    daily: pl.DataFrame, *, window: int = 126, periods_per_year: int = 252, skip_closed_days: bool = True
) -> go.Figure:
    """Sharpe ratio over the last `window` sessions (126 ≈ 6 months), from the first full window on; the
    date axis skips weekends and holidays unless `skip_closed_days` is False."""
    rolling = rolling_sharpe(daily, window, periods_per_year=periods_per_year).drop_nulls()
    figure = go.Figure(
        go.Scatter(
            x=[day.isoformat() for day in rolling["session_date"]],
            y=rolling["rolling_sharpe"].to_numpy(),
            name="Rolling Sharpe",
            mode="lines",
            line={"color": _STRATEGY_COLOR},
        )
    )
    title = f"Rolling Sharpe ratio ({window} sessions, annualized)"
    if rolling.height == 0:
        title += f" <sup>(needs more than {window} sessions; this backtest has {daily.height})</sup>"
    figure.update_layout(title=title, xaxis_title="Session", yaxis_title="Sharpe (annualized)")
    return skip_closed_time(figure, rolling["session_date"], enabled=skip_closed_days)


def return_distribution(daily: pl.DataFrame, benchmark_daily: pl.DataFrame | None = None) -> go.Figure:
    """Histogram of daily session returns, overlaid with the benchmark's when given."""
    series = [("Strategy", daily, _STRATEGY_COLOR)]
    if benchmark_daily is not None:
        series.append(("Benchmark", benchmark_daily, _BENCHMARK_COLOR))
    figure = go.Figure(
        [
            go.Histogram(
                x=returns["daily_return"].to_numpy(), name=name, marker_color=color, opacity=0.6, nbinsx=60
            )
            for name, returns, color in series
        ]
    )
    figure.update_layout(
        title="Distribution of daily returns",
        barmode="overlay",
        xaxis={"title": "Daily return", "tickformat": ".1%"},
        yaxis_title="Sessions",
    )
    return figure


def drawdowns_table(drawdowns: pl.DataFrame) -> go.Figure:
    """Worst drawdown episodes (`analytics.drawdown_table`): peak, trough, recovery, depth, length."""
    moments = [
        [format_value(value, "timestamp") for value in drawdowns[column].to_list()]
        for column in ("start", "trough", "recovery")
    ]
    moments[2] = [value if value != "—" else "not recovered" for value in moments[2]]
    return table_figure(
        "Worst drawdowns",
        header=["#", "Peak", "Trough", "Recovery", "Depth", "Length (days)"],
        columns=[
            [str(rank) for rank in drawdowns["rank"]],
            *moments,
            [f"{value:.2%}" for value in drawdowns["depth"]],
            [
                f"{days:.1f}" if recovery is not None else f"{days:.1f} so far"
                for days, recovery in zip(drawdowns["duration_days"], drawdowns["recovery"], strict=True)
            ],
        ],
        align=["right", "left", "left", "left", "right", "right"],
    )


def metrics_vs_benchmark_table(
    metrics: PerformanceMetrics, benchmarks: Mapping[str, PerformanceMetrics]
) -> go.Figure:
    """Every metric of the strategy, with the same curve metrics of each benchmark in its own column
    (trade metrics do not apply to buy and hold and stay blank)."""
    header = ["Metric", "Strategy", *benchmarks]
    columns: list[list[str]] = [[] for _ in header]
    for field, label, kind in METRIC_ROWS:
        columns[0].append(label)
        columns[1].append(metric_text(metrics, field, kind))
        for position, benchmark in enumerate(benchmarks.values(), start=2):
            shown = field in CURVE_METRICS
            columns[position].append(metric_text(benchmark, field, kind) if shown else "")
    return table_figure(
        "Metrics vs benchmark" if benchmarks else "Performance metrics",
        header=header,
        columns=columns,
        align=["left", *["right"] * (len(header) - 1)],
    )
