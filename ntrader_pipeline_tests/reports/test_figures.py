import datetime as dt

import plotly.graph_objects as go
import polars as pl
import pytest

from ntrader_pipeline.analytics import compute_metrics
from ntrader_pipeline.reports import (
    drawdown_chart,
    metrics_vs_benchmark_table,
    price_with_trades,
    trades_table,
)
from ntrader_pipeline.reports.downsample import downsample_extremes
from ntrader_pipeline_tests.analytics.sample_backtest import (
    STARTING_CASH,
    empty_fills,
    empty_trades,
    fills_frame,
    random_equity,
    sample_equity,
    sample_fills,
    sample_trades,
)


def _trace(figure: go.Figure, name: str) -> go.Scatter:
    return next(trace for trace in figure.data if trace.name == name)


def test_drawdown_chart_plots_the_under_water_curve() -> None:
    figure = drawdown_chart(sample_equity(), STARTING_CASH)

    (trace,) = figure.data
    assert min(trace.y) == pytest.approx(-121 / 10098)
    assert trace.y[1] == 0.0


def test_price_with_trades_has_one_marker_per_fill_by_side() -> None:
    figure = price_with_trades(sample_equity(), sample_fills())

    assert [trace.name for trace in figure.data] == ["Close", "Entries (BUY)", "Exits (SELL)"]
    assert list(_trace(figure, "Entries (BUY)").y) == [100.0, 108.0]
    assert list(_trace(figure, "Exits (SELL)").y) == [110.0, 104.0]


def test_price_with_trades_and_empty_fills_keeps_empty_marker_traces() -> None:
    figure = price_with_trades(sample_equity(), empty_fills())

    assert len(_trace(figure, "Entries (BUY)").y) == 0
    assert len(_trace(figure, "Exits (SELL)").y) == 0
    assert len(_trace(figure, "Close").y) == 9


def test_long_price_lines_are_downsampled_but_every_fill_marker_stays() -> None:
    equity = random_equity(60_000, seed=11)
    every_fill_bar = equity.gather_every(7)
    fills = fills_frame(
        every_fill_bar["ts"].to_list(),
        ["BUY", "SELL"] * (every_fill_bar.height // 2) + ["BUY"] * (every_fill_bar.height % 2),
        [1.0] * every_fill_bar.height,
        every_fill_bar["close"].to_list(),
        [0.5] * every_fill_bar.height,
    )

    figure = price_with_trades(equity, fills, max_points=2_000)

    close = _trace(figure, "Close")
    assert len(close.y) <= 2_002
    assert max(close.y) == equity["close"].max()  # extremes survive downsampling
    assert min(close.y) == equity["close"].min()
    assert "downsampled" in figure.layout.title.text
    markers = len(_trace(figure, "Entries (BUY)").y) + len(_trace(figure, "Exits (SELL)").y)
    assert markers == fills.height


def test_downsample_keeps_order_endpoints_and_one_row_per_extreme_on_flat_stretches() -> None:
    flat = pl.DataFrame({"ts": range(10_000), "value": [1.0] * 10_000})

    shown = downsample_extremes(flat, ("value",), max_points=100)

    assert shown.height <= 102
    assert shown["ts"][0] == 0 and shown["ts"][-1] == 9_999
    assert shown["ts"].is_sorted()


def test_metrics_table_without_benchmarks_formats_percentages_ratios_and_undefined_values() -> None:
    metrics = compute_metrics(sample_equity(), empty_trades(), empty_fills(), STARTING_CASH)

    figure = metrics_vs_benchmark_table(metrics, {})
    (table,) = figure.data
    labels, values = table.cells.values
    shown = dict(zip(labels, values, strict=True))

    assert shown["Total return"] == "0.56%"
    assert shown["Sharpe (annualized)"] == "3.31"
    assert shown["Max drawdown"] == "1.20%"
    assert metrics.max_drawdown_recovery is None  # still under water at the last bar
    assert shown["Max drawdown length (days)"] == "2.0 so far (not recovered)"
    assert shown["Profit factor"] == "n/a"  # no trades
    assert shown["Closed trades"] == "0"
    assert shown["First bar"] == "2024-01-02 10:00 EST"
    assert figure.layout.title.text == "Performance metrics"


def test_metrics_table_shows_infinity_for_a_profit_factor_without_losses() -> None:
    winners = sample_trades().filter(pl.col("pnl") > 0)
    metrics = compute_metrics(sample_equity(), winners, sample_fills(), STARTING_CASH)

    labels, values = metrics_vs_benchmark_table(metrics, {}).data[0].cells.values

    assert dict(zip(labels, values, strict=True))["Profit factor"] == "∞"


def test_trades_table_lists_each_trade_with_exchange_times() -> None:
    (table,) = trades_table(sample_trades()).data
    columns = table.cells.values

    assert list(columns[1]) == ["2024-01-02 10:00", "2024-01-03 10:00"]
    assert list(columns[7]) == ["98.00", "-42.00"]
    assert len(columns[0]) == 2


def test_trades_table_stops_at_the_limit_and_says_so() -> None:
    many = pl.concat([sample_trades()] * 150)

    figure = trades_table(many, limit=200)

    assert len(figure.data[0].cells.values[0]) == 200
    assert "first 200 of 300" in figure.layout.title.text


def test_trades_table_with_no_trades_is_an_empty_table() -> None:
    figure = trades_table(empty_trades())

    assert all(len(column) == 0 for column in figure.data[0].cells.values)


def test_factories_show_times_in_the_exchange_zone_across_dst() -> None:
    summer = sample_equity().with_columns(pl.col("ts").dt.offset_by("182d"))  # July: UTC-4

    figure = price_with_trades(summer, sample_fills().head(0))

    assert _trace(figure, "Close").x[0] == (dt.datetime(2024, 7, 2, 11)).strftime("%Y-%m-%d %H:%M:%S")
