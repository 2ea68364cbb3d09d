import math
import re
from pathlib import Path

import polars as pl
import pytest
from plotly.offline import get_plotlyjs

from ntrader_pipeline.reports import (
    ComparisonError,
    comparison_key,
    plotly_js_name,
    rank_rows,
    render_comparison_html,
    write_comparison_report,
)
from ntrader_pipeline.reports.comparison import equity_overlay, ranking_table
from ntrader_pipeline_tests.reports.sample_comparison import comparison_inputs

ROWS = [
    {"backtest": "a", "instrument": "X", "sharpe": 0.5, "max_drawdown": 0.10},
    {"backtest": "b", "instrument": "X", "sharpe": None, "max_drawdown": 0.05},  # null from metrics.json
    {"backtest": "c", "instrument": "Y", "sharpe": 1.5, "max_drawdown": 0.20},
    {"backtest": "d", "instrument": "Y", "sharpe": math.nan, "max_drawdown": 0.10},
    {"backtest": "e", "instrument": "Z", "sharpe": -0.2, "max_drawdown": 0.30},
]


def test_higher_is_better_ranks_descending_and_undefined_last() -> None:
    ranked = rank_rows(ROWS, "sharpe")

    assert [row["backtest"] for row in ranked] == ["c", "a", "e", "b", "d"]
    assert [row["rank"] for row in ranked] == [1, 2, 3, 4, 5]


def test_drawdown_ranks_ascending_and_ties_keep_the_given_order() -> None:
    ranked = rank_rows(ROWS, "max_drawdown")

    assert [row["backtest"] for row in ranked] == ["b", "a", "d", "c", "e"]


def test_ranking_by_a_metric_nobody_has_lists_the_available_ones() -> None:
    with pytest.raises(ComparisonError, match=r"cannot rank by 'shrpe'.*'max_drawdown', 'sharpe'"):
        rank_rows(ROWS, "shrpe")
    with pytest.raises(ComparisonError, match=r"row 0 lacks \['instrument'\]"):
        rank_rows([{"backtest": "a", "sharpe": 1.0}])


def test_rows_may_name_the_instrument_as_instrument_id() -> None:
    rows = [{"backtest": "a", "instrument_id": "X", "sharpe": 1.0}, {"backtest": "b", "instrument_id": "Y"}]

    ranked = rank_rows(rows)

    assert [(row["backtest"], row["instrument"]) for row in ranked] == [("a", "X"), ("b", "Y")]


def test_ranking_table_leads_with_the_chosen_metric() -> None:
    rows, _ = comparison_inputs(800)
    ranked = rank_rows(rows, "total_return")

    (table,) = ranking_table(ranked, "total_return").data

    assert table.header.values[3] == "<b>Total return</b>"
    returns = [row["total_return"] for row in ranked]
    assert list(table.cells.values[3]) == [f"{value:.2%}" for value in returns]
    assert returns == sorted(returns, reverse=True)


def test_overlay_normalizes_each_curve_and_follows_the_ranking() -> None:
    rows, curves = comparison_inputs(800)
    ranked = rank_rows(rows, "sharpe")

    figure = equity_overlay(ranked, curves)

    expected_order = [comparison_key(row["backtest"], row["instrument"]) for row in ranked]
    assert [trace.name for trace in figure.data] == expected_order
    for trace in figure.data:
        curve = curves[trace.name]
        assert trace.y[0] == pytest.approx(1.0)
        assert list(trace.y) == pytest.approx((curve["equity"] / curve["equity"][0]).to_list())


def test_overlay_downsamples_long_curves_and_rejects_frames_without_equity() -> None:
    rows, curves = comparison_inputs(30_000)

    figure = equity_overlay(rank_rows(rows), curves, max_points=1_000)

    assert all(len(trace.y) <= 1_002 for trace in figure.data)
    with pytest.raises(ComparisonError, match="lacks `ts`/`equity`"):
        equity_overlay([], {"broken": pl.DataFrame({"ts": [1]})})


def test_comparison_page_is_offline_deterministic_and_written_atomically(tmp_path: Path) -> None:
    rows, curves = comparison_inputs(800)
    src = f"assets/{plotly_js_name()}"

    page = render_comparison_html(rows, curves, "calmar", plotly_js=src)
    path = write_comparison_report(rows, curves, tmp_path / "comparison.html", rank_by="calmar")

    assert path.read_text() == page == render_comparison_html(rows, curves, "calmar", plotly_js=src)
    assert get_plotlyjs() not in page
    assert page.count(f'src="{src}"') == 1
    assert not re.search(r"https?://", page)
    assert 'id="figure-ranking"' in page and 'id="figure-overlay"' in page
    assert "ranked by Calmar ratio (higher is better)" in page
    assert sorted(p.name for p in tmp_path.iterdir()) == ["assets", "comparison.html"]
    assert (tmp_path / "assets" / plotly_js_name()).read_text() == get_plotlyjs()


def test_comparison_leads_with_the_best_result_and_collapses_provenance() -> None:
    rows, curves = comparison_inputs(800)
    provenance = {"results": [{"result": key, "config_hash": "abc123"} for key in curves]}

    page = render_comparison_html(rows, curves, "sharpe", provenance=provenance)
    best = rank_rows(rows, "sharpe")[0]

    assert "Best by Sharpe (annualized)" in page
    header = page[: page.index("figure-ranking")]
    assert comparison_key(str(best["backtest"]), str(best["instrument"])) in header
    order = [page.index(f'id="{part}"') for part in ("figure-ranking", "figure-overlay", "provenance")]
    assert order == sorted(order)
    assert '<summary>Data quality and provenance: <span class="brief">3 results</span></summary>' in page
    assert 'id="conventions"' in page


def test_overlay_skips_the_hours_no_curve_has_bars() -> None:
    rows, curves = comparison_inputs(800)

    figure = equity_overlay(rank_rows(rows), curves)

    breaks = figure.layout.xaxis.rangebreaks
    assert breaks and all(item.dvalue >= 3_600_000 for item in breaks)
