import dataclasses

import plotly.graph_objects as go
import polars as pl
import pytest

from ntrader_pipeline.analytics import compute_metrics, daily_returns, drawdown_table
from ntrader_pipeline.analytics.periods import monthly_returns
from ntrader_pipeline.reports import (
    ReportConfig,
    drawdowns_table,
    equity_vs_benchmark,
    metrics_vs_benchmark_table,
    monthly_returns_heatmap,
    render_report_html,
    return_distribution,
    rolling_sharpe_chart,
    yearly_returns_chart,
)
from ntrader_pipeline.reports.sections import benchmark_metrics
from ntrader_pipeline_tests.analytics.sample_backtest import (
    STARTING_CASH,
    empty_fills,
    empty_trades,
    random_equity,
    sample_equity,
)
from ntrader_pipeline_tests.reports.sample_report import benchmarks_for, full_inputs


def _trace(figure: go.Figure, name: str) -> go.Scatter:
    return next(trace for trace in figure.data if trace.name == name)


@pytest.fixture(scope="module")
def year_curve() -> pl.DataFrame:
    return random_equity(6000, seed=9, bars_per_session=20, bar_minutes=15)  # 300 sessions


def test_equity_vs_benchmark_plots_three_curves_and_toggles_log_scale() -> None:
    equity = sample_equity()
    benchmarks = benchmarks_for(equity)

    figure = equity_vs_benchmark(equity, benchmarks, instrument="SPY.ARCA", index="QQQ.NASDAQ")

    names = [trace.name for trace in figure.data]
    assert names == ["Strategy", "Buy and hold SPY.ARCA", "Index QQQ.NASDAQ"]
    assert list(_trace(figure, "Index QQQ.NASDAQ").y) == benchmarks["index_equity"].to_list()
    buttons = figure.layout.updatemenus[0].buttons
    assert [button.args[0]["yaxis.type"] for button in buttons] == ["linear", "log"]


def test_equity_vs_benchmark_without_index_column_has_two_curves() -> None:
    equity = sample_equity()

    figure = equity_vs_benchmark(equity, benchmarks_for(equity).drop("index_equity"), instrument="SPY.ARCA")

    assert len(figure.data) == 2


def test_monthly_heatmap_places_each_month_in_its_cell(year_curve: pl.DataFrame) -> None:
    daily = daily_returns(year_curve, STARTING_CASH)
    monthly = monthly_returns(daily)

    (heatmap,) = monthly_returns_heatmap(daily).data

    assert list(heatmap.y) == ["2024", "2025"]
    for year, month, value in monthly.iter_rows():
        assert heatmap.z[list(heatmap.y).index(str(year))][month - 1] == pytest.approx(value)
    assert heatmap.z[0][0] is None  # January 2024 has no session: an empty cell, not 0 %


def test_yearly_and_distribution_show_the_benchmark_beside_the_strategy(year_curve: pl.DataFrame) -> None:
    daily = daily_returns(year_curve, STARTING_CASH)
    bench = daily_returns(benchmarks_for(year_curve).select("ts", equity="instrument_equity"), STARTING_CASH)

    yearly = yearly_returns_chart(daily, bench)
    distribution = return_distribution(daily, bench)

    assert [bar.name for bar in yearly.data] == ["Strategy", "Benchmark"]
    assert list(yearly.data[0].x) == ["2024", "2025"]
    assert len(distribution.data[0].x) == daily.height == 300


def test_rolling_sharpe_starts_after_a_full_window(year_curve: pl.DataFrame) -> None:
    daily = daily_returns(year_curve, STARTING_CASH)

    (line,) = rolling_sharpe_chart(daily, window=126).data

    assert len(line.y) == daily.height - 125
    short = rolling_sharpe_chart(daily.head(50), window=126)
    assert len(short.data[0].y) == 0
    assert "needs more than 126 sessions" in short.layout.title.text


def test_drawdowns_table_marks_the_unrecovered_episode() -> None:
    (table,) = drawdowns_table(drawdown_table(sample_equity(), STARTING_CASH)).data
    columns = table.cells.values

    assert list(columns[0]) == ["1", "2"]
    assert columns[3][0] == "not recovered"
    assert columns[5][0] == "2.0 so far"  # peak to the last bar, still under water
    assert columns[5][1] == "0.1"  # recovered: peak to recovery
    assert columns[4][0] == "1.20%"
    assert columns[1][0] == "2024-01-02 16:00 EST"


def test_metrics_vs_benchmark_leaves_trade_metrics_blank_for_buy_and_hold() -> None:
    inputs = full_inputs()
    benchmarks = benchmark_metrics(inputs, ReportConfig())

    (table,) = metrics_vs_benchmark_table(inputs.metrics, benchmarks).data
    header = list(table.header.values)
    rows = {label: tuple(row) for label, *row in zip(*table.cells.values, strict=True)}

    assert header == ["Metric", "Strategy", "Buy and hold SPY.ARCA", "Index QQQ.NASDAQ"]
    assert rows["Closed trades"] == ("2", "", "")
    instrument_return = 103 / 100 - 1  # last close / first close
    assert rows["Total return"] == ("0.56%", f"{instrument_return:.2%}", "0.32%")  # index: 8 x 0.04 %
    assert rows["Beta"][0] != "n/a" and rows["Beta"][1] == ""


def test_benchmark_metrics_equal_metrics_of_the_buy_and_hold_curve() -> None:
    inputs = full_inputs()
    curve = inputs.benchmarks.select("ts", position_qty=pl.lit(1.0), equity="instrument_equity")

    got = benchmark_metrics(inputs, ReportConfig())["Buy and hold SPY.ARCA"]

    expected = compute_metrics(curve, empty_trades(), empty_fills(), STARTING_CASH)
    assert got.sharpe == pytest.approx(expected.sharpe)
    assert got.max_drawdown == pytest.approx(expected.max_drawdown)


def test_full_report_has_header_versions_provenance_and_every_section() -> None:
    page = render_report_html(full_inputs())

    for text in (
        "3f9a2c71d0e4",
        "0.4.0+g1a2b3c4",
        "catalog-7d41",
        "QQQ.NASDAQ",
        "Data quality and provenance",
    ):
        assert text in page
    assert "&lt;2024-01-02&gt;.parquet" in page  # file names are escaped
    assert "ab" * 32 in page and "20,480" in page and "sessions_checked" in page
    for section in ReportConfig().sections:
        assert f'id="figure-{section}"' in page
    # the result first; the provenance panel last, collapsed behind its one-line summary
    order = [page.index(f'id="{part}"') for part in ("figure-equity", "figure-metrics", "provenance")]
    assert order == sorted(order)
    assert '<details id="provenance">' in page
    assert "3 sessions · 9 bars · quality: sessions checked 3, failing 0, empty 0 · 2 catalog files" in page


def test_report_without_provenance_says_so() -> None:
    page = render_report_html(dataclasses.replace(full_inputs(), provenance=None, benchmarks=None))

    assert "No provenance recorded" in page
    assert '"Buy and hold SPY.ARCA"' in page  # derived from the close when benchmarks.parquet is absent


def test_full_report_is_deterministic() -> None:
    assert render_report_html(full_inputs()) == render_report_html(full_inputs())


def test_benchmarks_frame_must_match_the_equity_rows() -> None:
    inputs = full_inputs()

    with pytest.raises(
        ValueError, match=r"benchmarks frame of SPY\.ARCA has 8 rows but the equity curve has 9"
    ):
        dataclasses.replace(inputs, benchmarks=inputs.benchmarks.head(8))
    with pytest.raises(ValueError, match=r"lacks columns \['instrument_equity'\]"):
        dataclasses.replace(inputs, benchmarks=inputs.benchmarks.drop("instrument_equity"))
