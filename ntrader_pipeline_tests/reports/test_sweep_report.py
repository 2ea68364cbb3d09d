"""The sweep report: every point in a sortable table best first, a heatmap per pair of parameters with the
others at the best point, the best point against its grid neighbours, the walk-forward folds and the
overfitting statistics, offline with the shared plotly.js; and, in a real headless Chromium, the table
re-sorting on a click and the heatmaps drawn."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import replace
from itertools import combinations
from pathlib import Path

import polars as pl
import pytest
from plotly.offline import get_plotlyjs

from ntrader_pipeline.reports import (
    SweepReportError,
    SweepReportInputs,
    plotly_js_name,
    render_sweep_html,
    write_sweep_report,
)
from ntrader_pipeline.reports.formatting import format_value
from ntrader_pipeline.reports.sweep import grid_neighbours, rank_points, robustness
from ntrader_pipeline.reports.sweep_figures import heatmap_grid, parameter_heatmap
from ntrader_pipeline_tests.reports.sample_sweep import (
    BASE_SHARPE,
    FOLDS,
    GRID_NEIGHBOURS_MEAN,
    GRID_NEIGHBOURS_MIN,
    GRID_SHARPE,
    grid_inputs,
    sampled_inputs,
    sampled_sharpe,
    walk_forward_summary,
)

SCRIPT_SRC = re.compile(r'<script[^>]*\bsrc="([^"]+)"')
TABLE_ROW = re.compile(r'<tr( class="best")? data-point="([^"]+)">')
CHROMIUM = Path("/usr/bin/chromium")


def _rows(page: str) -> list[tuple[bool, str]]:
    table = page[page.index('id="points-table"') : page.index("</table>", page.index('id="points-table"'))]
    return [(bool(best), point) for best, point in TABLE_ROW.findall(table)]


def _best_row(frame: pl.DataFrame, **values: object) -> dict[str, object]:
    return frame.filter(*(pl.col(name) == value for name, value in values.items())).row(0, named=True)


def test_table_lists_every_point_best_first_with_the_best_highlighted() -> None:
    inputs = grid_inputs()

    page = render_sweep_html(inputs)
    rows = _rows(page)

    defined = sorted((v, k) for k, v in GRID_SHARPE.items() if v is not None)
    expected = [f"g{list(GRID_SHARPE).index(key):02d}" for _, key in reversed(defined)]
    expected.append(f"g{list(GRID_SHARPE).index((20, 30)):02d}")  # the undefined Sharpe ranks last
    assert [point for _, point in rows] == expected
    assert len(rows) == inputs.results.height == 12
    assert [best for best, _ in rows] == [True] + [False] * 11
    assert rows[0][1] == "g04"  # fast 10, slow 40
    assert '<th data-type="number" aria-sort="descending"><b>Sharpe (annualized)</b></th>' in page
    assert 'data-sort="">n/a</td>' in page  # undefined Sharpe: empty sort key, sorts last
    assert 'data-sort="Infinity">∞</td>' in page  # an unbounded profit factor sorts as a number
    assert "<script>" in page and "table.sortable" in page


def test_a_lower_is_better_metric_ranks_ascending() -> None:
    inputs = grid_inputs(metric="max_drawdown")

    page = render_sweep_html(inputs)

    drawdowns = dict(zip(inputs.results["point"], inputs.results["max_drawdown"], strict=True))
    shown = [drawdowns[point] for _, point in _rows(page)]
    assert shown == sorted(shown)
    assert '<th data-type="number" aria-sort="ascending"><b>Max drawdown</b></th>' in page
    assert "ranked by Max drawdown (lower is better)" in page


def test_one_heatmap_per_pair_of_parameters() -> None:
    sampled = render_sweep_html(sampled_inputs())
    grid = render_sweep_html(grid_inputs())
    single = render_sweep_html(grid_inputs(parameters=("fast_period",)))

    assert sampled.count('id="figure-heatmap-') == math.comb(3, 2) == 3
    for x, y in combinations(("fast_period", "slow_period", "ma"), 2):
        assert f'id="figure-heatmap-{x}-{y}"' in sampled
    # trade_size is held at one value: its two pairs get a note instead of an empty map
    assert grid.count('id="figure-heatmap-') == 1
    assert "fast_period × trade_size: with the other parameters" in grid
    assert "slow_period × trade_size: with the other parameters" in grid
    assert 'id="heatmaps"' not in single and "figure-heatmap-" not in single


def test_heatmap_holds_the_other_parameters_at_the_best_point() -> None:
    inputs = sampled_inputs()
    best = _best_row(inputs.results, fast_period=10, slow_period=60, ma="ema")
    assert rank_points(inputs.results, "sharpe").row(0, named=True) == {"rank": 1, **best}

    figure = parameter_heatmap(
        inputs.results,
        inputs.parameters,
        best,
        "fast_period",
        "slow_period",
        "sharpe",
        label="Sharpe (annualized)",
    )

    heatmap, marker = figure.data
    assert list(heatmap.x) == ["5", "10", "20"] and list(heatmap.y) == ["30", "60", "90"]
    expected = [
        [None if (fast, slow) == (20, 90) else sampled_sharpe(fast, slow, "ema") for fast in (5, 10, 20)]
        for slow in (30, 60, 90)
    ]  # (20, 90, ema) was not sampled: a blank cell
    assert [list(row) for row in heatmap.z] == expected
    assert (list(marker.x), list(marker.y)) == (["10"], ["60"])
    assert figure.layout.xaxis.type == "category"


def test_heatmap_of_categorical_parameters_and_the_z_values_in_the_page() -> None:
    inputs = sampled_inputs()
    best = _best_row(inputs.results, fast_period=10, slow_period=60, ma="ema")

    xs, ys, z = heatmap_grid(inputs.results, inputs.parameters, best, "fast_period", "ma", "sharpe")
    page = render_sweep_html(inputs)

    assert (xs, ys) == ([5, 10, 20], ["ema", "sma"])
    assert z == [
        [sampled_sharpe(5, 60, "ema"), sampled_sharpe(10, 60, "ema"), sampled_sharpe(20, 60, "ema")],
        [BASE_SHARPE[5, 60], BASE_SHARPE[10, 60], None],  # (20, 60, sma) was not sampled
    ]
    grid_best = _best_row(grid_inputs().results, fast_period=10, slow_period=40)
    _, _, grid_z = heatmap_grid(
        grid_inputs().results, grid_inputs().parameters, grid_best, "fast_period", "slow_period", "sharpe"
    )
    assert grid_z == [[GRID_SHARPE[fast, slow] for fast in (5, 10, 15, 20)] for slow in (30, 40, 50)]
    call = re.search(r'Plotly\.newPlot\(\s*"figure-heatmap-fast_period-ma",\s*', page)
    traces, _ = json.JSONDecoder().raw_decode(page, call.end())  # the figure's data as the page holds it
    assert traces[0]["type"] == "heatmap" and traces[0]["z"] == z


def test_robustness_compares_the_best_with_its_grid_neighbours() -> None:
    inputs = grid_inputs()
    best = _best_row(inputs.results, fast_period=10, slow_period=40)

    stats = robustness(inputs, best)
    page = render_sweep_html(inputs)

    assert stats.best == 1.40
    assert (stats.neighbours, stats.defined) == (4, 4)  # trade_size has a single value: no neighbour
    assert stats.mean == pytest.approx(GRID_NEIGHBOURS_MEAN) == pytest.approx(0.775)
    assert stats.worst == GRID_NEIGHBOURS_MIN
    section = page[page.index('id="robustness"') : page.index('id="figure-robustness"')]
    assert format_value(stats.mean, "ratio") in section and "0.50" in section
    assert "A <b>spike</b>" in section and "overfitting" in section


def test_neighbours_missing_from_a_sampled_grid_are_left_out() -> None:
    inputs = sampled_inputs()
    best = _best_row(inputs.results, fast_period=10, slow_period=60, ma="ema")

    neighbours = grid_neighbours(inputs.results, inputs.parameters, best)
    stats = robustness(inputs, best)
    holed = inputs.results.filter(~((pl.col("fast_period") == 20) & (pl.col("slow_period") == 60)))

    assert sorted(zip(neighbours["parameter"], neighbours["step"], strict=True)) == [
        ("fast_period", -1),
        ("fast_period", 1),
        ("ma", 1),
        ("slow_period", -1),
        ("slow_period", 1),
    ]
    assert stats.mean == pytest.approx((0.9 + 1.1 + 0.8 + 1.0 + 1.3) / 5)
    assert stats.worst == pytest.approx(0.8)
    assert grid_neighbours(holed, inputs.parameters, best).height == 4


def test_walk_forward_folds_and_overfitting_statistics_are_shown() -> None:
    page = render_sweep_html(sampled_inputs())

    folds = page[page.index('id="folds-table"') : page.index("</table>", page.index('id="folds-table"'))]
    for fold in FOLDS.iter_rows(named=True):
        assert f"<td>{fold['is_start']} to {fold['is_end']}</td>" in folds
        assert f"<td>{fold['oos_start']} to {fold['oos_end']}</td>" in folds
        assert fold["parameters"] in folds
        for name in ("is_metric", "oos_metric", "degradation"):
            assert f'<td class="num">{format_value(fold[name], "ratio")}</td>' in folds
        assert f'<td class="num">{format_value(fold["oos_return"], "percent")}</td>' in folds
    assert "-1.59" in folds  # fold 2: -0.24 - 1.35
    assert 'id="figure-oos-equity"' in page and 'id="figure-is-vs-oos"' in page
    overfitting = page[page.index('id="overfitting-table"') :]
    for shown in ("62.34%", "97.12%", "1.10", "57.14%", "31.43%", ">14<", ">70<", "n/a (not computable)"):
        assert shown in overfitting
    assert "Bailey &amp; López de Prado (2014)" in overfitting
    assert "Bailey, Borwein, López de Prado &amp; Zhu (2017)" in overfitting


def test_headline_cards_lead_with_the_best_point_and_the_walk_forward_verdict() -> None:
    page = render_sweep_html(sampled_inputs())
    header = page[: page.index('id="points"')]

    assert '<div class="label">Best Sharpe (annualized)</div><div class="value">1.50</div>' in header
    assert "fast_period=10, slow_period=60, ma=ema" in header
    assert '<div class="label">Points</div><div class="value">14</div>' in header
    assert "sampled from a grid of 18" in header
    assert '<div class="value good">0.43</div>' in header  # stitched OOS Sharpe
    mean_degradation = format_value(FOLDS["degradation"].mean(), "ratio")
    assert f'<div class="value bad">{mean_degradation}</div>' in header
    assert '<div class="label">Deflated Sharpe</div><div class="value bad">62.34%</div>' in header
    assert '<div class="label">PBO</div><div class="value bad">57.14%</div>' in header
    without = render_sweep_html(grid_inputs())
    assert "PBO" not in without[: without.index('id="points"')] and 'id="walk-forward"' not in without
    assert "full grid of 12" in without


def test_bad_inputs_are_named() -> None:
    inputs = grid_inputs()

    with pytest.raises(SweepReportError, match="sweep 'sma_grid' has no results"):
        render_sweep_html(grid_inputs(results=inputs.results.clear()))
    with pytest.raises(SweepReportError, match=r"lack the metric column 'sharpe'.*'sortino'"):
        render_sweep_html(grid_inputs(results=inputs.results.drop("sharpe")))
    with pytest.raises(SweepReportError, match=r"lack the parameter column\(s\) \['slow_period'\]"):
        render_sweep_html(grid_inputs(results=inputs.results.drop("slow_period")))
    assert issubclass(SweepReportError, ValueError)


def test_page_is_offline_deterministic_ordered_and_shares_plotly_js(tmp_path: Path) -> None:
    inputs = sampled_inputs()
    reports = tmp_path / "reports"

    path = write_sweep_report(inputs, reports / "sweeps" / "ma_sampled.html", reports / "assets")
    page = path.read_text()

    assert SCRIPT_SRC.findall(page) == [f"../assets/{plotly_js_name()}"]
    assert (path.parent / SCRIPT_SRC.findall(page)[0]).resolve().read_text() == get_plotlyjs()
    assert get_plotlyjs() not in page and not re.search(r"https?://", page)
    assert page == render_sweep_html(inputs, plotly_js=f"../assets/{plotly_js_name()}")
    parts = (
        "headline",
        "points-table",
        "heatmaps",
        "robustness",
        "walk-forward",
        "conventions",
        "provenance",
    )
    order = [page.index(f'id="{part}"' if part != "headline" else 'class="headline"') for part in parts]
    assert order == sorted(order)
    assert '<details id="provenance">' in page and "config hash abc123" in page
    assert "Walk-forward</b>: rolling folds" in page
    assert sorted(p.name for p in reports.iterdir()) == ["assets", "sweeps"]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("no system Chromium at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        chromium.close()


ROW_ORDER = "() => [...document.querySelectorAll('#points-table tbody tr')].map(row => row.dataset.point)"
RENDERED = """(selector) => [...document.querySelectorAll(selector)]
    .filter(graph => graph.classList.contains('js-plotly-plot') && graph.querySelector('.main-svg')).length"""


def test_chromium_sorts_the_table_on_a_click_and_draws_the_heatmaps(browser: object, tmp_path: Path) -> None:
    inputs: SweepReportInputs = sampled_inputs()
    path = write_sweep_report(inputs, tmp_path / "sweep.html", tmp_path / "assets")
    ranked = rank_points(inputs.results, "sharpe")
    slow = dict(zip(ranked["point"], ranked["slow_period"], strict=True))
    best_first = ranked["point"].to_list()
    ascending = sorted(best_first, key=lambda point: slow[point])  # stable: ties keep the ranking
    descending = sorted(ascending, key=lambda point: -slow[point])
    errors: list[str] = []
    requests: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("request", lambda request: requests.append(request.url))

    page.goto(path.as_uri())
    page.wait_for_function(f"() => ({RENDERED})('[id^=\"figure-\"]') >= 6", timeout=60_000)
    heatmaps = page.evaluate(RENDERED, '[id^="figure-heatmap-"]')
    initial = page.evaluate(ROW_ORDER)
    page.locator("#points-table th", has_text="slow_period").click()
    after_one_click = page.evaluate(ROW_ORDER)
    page.locator("#points-table th", has_text="slow_period").click()
    after_two_clicks = page.evaluate(ROW_ORDER)
    page.close()

    assert heatmaps == 3
    assert initial == best_first
    assert after_one_click == ascending != initial
    assert after_two_clicks == descending
    assert errors == []
    assert requests == [path.as_uri(), (tmp_path / "assets" / plotly_js_name()).as_uri()]


def test_a_slope_near_minus_one_with_pbo_zero_is_not_read_as_overfitting() -> None:
    # A persistently skilled trial (analytics test: 20 runs, PBO 0, mean slope -0.998): the old text said
    # "near 1 the in-sample ranking carries over, near or below 0 it does not".
    summary = walk_forward_summary()
    overfitting = {**summary.overfitting, "pbo": 0.0, "degradation_slope": -0.99}
    page = render_sweep_html(sampled_inputs(walk_forward=replace(summary, overfitting=overfitting)))
    table = page[page.index('id="overfitting-table"') :]
    row = table[table.index("<th>Degradation slope</th>") :]
    row = row[: row.index("</tr>")]

    assert '<td class="num">-0.99</td>' in row
    assert "persistent skill gives a slope near -1" in row
    assert "no evidence of overfitting by itself" in row
    assert "it does not" not in row
    assert '<div class="label">PBO</div><div class="value good">0.00%</div>' in page
