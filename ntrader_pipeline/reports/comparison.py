"""The comparison report: every backtest x instrument ranked by one metric, with their equity overlaid.

Rows are plain dicts — `backtest`, `instrument` (or `instrument_id`) and metric values as in
`PerformanceMetrics.as_dict()` or metrics.json (null = undefined). Equity curves are keyed by
`comparison_key(backtest, instrument)` = "backtest / instrument" (that is the label shown); each is drawn
normalized to its first value (growth of 1), downsampled, in ranking order (curves under other keys
follow). Rows whose metric is undefined rank last; ties keep the order given.

The page leads with the result like a backtest report: the best row's headline numbers, the ranking, the
overlay (its time axis skips periods where no curve has a bar), how the numbers are computed, and an
optional provenance panel collapsed behind a one-line summary; plotly.js is the shared file of
`reports.assets`."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

import plotly.graph_objects as go
import polars as pl

from ntrader_pipeline.atomic_files import write_text_atomically
from ntrader_pipeline.reports.config import ReportConfig
from ntrader_pipeline.reports.figures import equity_lines_figure, table_figure, time_line
from ntrader_pipeline.reports.formatting import METRIC_ROWS, format_value
from ntrader_pipeline.reports.headline import Card, cards_html, conventions_note, tone
from ntrader_pipeline.reports.html import figure_section, html_page, provenance_details, shared_plotly_js

# Metrics where a smaller value ranks higher.
LOWER_IS_BETTER: frozenset[str] = frozenset(
    {
        "annual_volatility",
        "max_drawdown",
        "max_drawdown_duration_days",
        "max_drawdown_episode_days",
        "fees",
        "turnover",
    }
)
COMPARED_METRICS: tuple[str, ...] = (
    "total_return",
    "cagr",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown",
    "annual_volatility",
    "alpha",
    "beta",
    "information_ratio",
    "trade_count",
    "win_rate",
    "profit_factor",
    "fees",
)
# Metric field -> (label, format kind); a field not listed shows under its own name.
METRIC_LABELS: dict[str, tuple[str, str]] = {field: (label, kind) for field, label, kind in METRIC_ROWS}
# Several curves share one chart: 2,000 points each (extremes kept) still draws each line as the full one.
MAX_POINTS_PER_CURVE = 2_000


class ComparisonError(ValueError):
    """The comparison cannot be built from the rows given (unknown metric, missing identity)."""


def comparison_key(backtest: str, instrument: str) -> str:
    return f"{backtest} / {instrument}"


def rank_rows(rows: Sequence[Mapping[str, object]], rank_by: str = "sharpe") -> list[dict[str, object]]:
    """Rows sorted best first by `rank_by`, each with its 1-based `rank`."""
    if not rows:
        return []
    rows = [_with_instrument(position, row) for position, row in enumerate(rows)]
    if not any(rank_by in row for row in rows):
        available = sorted({key for row in rows for key in row} - {"backtest", "instrument"})
        raise ComparisonError(f"cannot rank by {rank_by!r}: no row has it; rank by one of {available}")
    order = best_first([row.get(rank_by) for row in rows], rank_by)
    return [{"rank": rank, **rows[position]} for rank, position in enumerate(order, start=1)]


def best_first(values: Sequence[object], metric: str) -> list[int]:
    """The positions of `values` (of `metric`) best first: descending, ascending for `LOWER_IS_BETTER`;
    undefined values (None, NaN, non-numbers) last; ties keep the order given."""
    sign = 1.0 if metric in LOWER_IS_BETTER else -1.0

    def sort_key(position: int) -> tuple[bool, float, int]:
        value = as_number(values[position])
        return (math.isnan(value), sign * value if not math.isnan(value) else 0.0, position)

    return sorted(range(len(values)), key=sort_key)


def ranking_table(ranked: Sequence[Mapping[str, object]], rank_by: str) -> go.Figure:
    metrics = [rank_by, *(name for name in COMPARED_METRICS if name != rank_by)]
    columns: list[list[str]] = [
        [str(row["rank"]) for row in ranked],
        [str(row["backtest"]) for row in ranked],
        [str(row["instrument"]) for row in ranked],
    ]
    for name in metrics:
        kind = METRIC_LABELS.get(name, (name, "ratio"))[1]
        columns.append([format_cell(row.get(name), kind) for row in ranked])
    header = ["#", "Backtest", "Instrument", *(METRIC_LABELS.get(name, (name, ""))[0] for name in metrics)]
    header[3] = f"<b>{header[3]}</b>"
    figure = table_figure(
        f"Ranked by {METRIC_LABELS.get(rank_by, (rank_by, ''))[0]}",
        header=header,
        columns=columns,
        align=["right", "left", "left", *["right"] * len(metrics)],
        column_widths=[0.4, 1.6, 1.3, *[1.0] * len(metrics)],
    )
    figure.update_layout(margin={"l": 10, "r": 10})
    return figure


def equity_overlay(
    ranked: Sequence[Mapping[str, object]],
    equity_curves: Mapping[str, pl.DataFrame],
    *,
    max_points: int = MAX_POINTS_PER_CURVE,
    skip_closed_hours: bool = True,
) -> go.Figure:
    """Each curve divided by its first equity; ranked rows first, then any other curve given. The time
    axis skips the periods where no curve has a bar (`reports.timeaxis`)."""
    ordered = [comparison_key(str(row["backtest"]), str(row["instrument"])) for row in ranked]
    keys = [key for key in ordered if key in equity_curves]
    keys += [key for key in equity_curves if key not in keys]
    traces, times = [], []
    for key in keys:
        curve = equity_curves[key]
        if "ts" not in curve.columns or "equity" not in curve.columns:
            raise ComparisonError(f"equity curve {key!r} lacks `ts`/`equity` columns: {curve.columns}")
        if curve.height == 0:
            continue
        times.append(curve["ts"])
        normalized = curve.select("ts", growth=pl.col("equity") / pl.col("equity").first())
        traces.append(time_line(normalized, "growth", key, max_points))
    return equity_lines_figure(
        traces,
        times,
        title="Equity, normalized to 1 at the first bar",
        yaxis_title="Growth of 1",
        skip_closed_hours=skip_closed_hours,
    )


def render_comparison_html(
    rows: Sequence[Mapping[str, object]],
    equity_curves: Mapping[str, pl.DataFrame],
    rank_by: str = "sharpe",
    *,
    height: int = 550,
    template: str = "plotly_white",
    plotly_js: str | None = None,
    provenance: Mapping[str, object] | None = None,
) -> str:
    """The comparison page; `plotly_js` as in `render_report_html` (None embeds plotly.js), `provenance`
    (e.g. each result's config hash and data version) shown collapsed at the end when given."""
    ranked = rank_rows(rows, rank_by)
    table = ranking_table(ranked, rank_by).update_layout(template=template)
    overlay = equity_overlay(ranked, equity_curves).update_layout(template=template, height=height)
    label = METRIC_LABELS.get(rank_by, (rank_by, ""))[0]
    direction = "lower is better" if rank_by in LOWER_IS_BETTER else "higher is better"
    parts = [
        "<header>\n<h1>Backtest comparison</h1>\n"
        f'<p class="summary">{len(ranked)} backtest x instrument results ranked by {escape(label)} '
        f"({direction}); undefined values rank last.</p>\n{best_cards(ranked, rank_by)}\n"
        '<a class="conventions" href="#conventions">How these are computed</a>\n</header>',
        figure_section("ranking", "Ranking", table, first=True, plotly_js=plotly_js),
        figure_section("overlay", "Equity overlay", overlay, first=False),
        conventions_note(ReportConfig(max_line_points=MAX_POINTS_PER_CURVE)),
    ]
    if provenance is not None:
        parts.append(provenance_details(provenance, empty="No provenance recorded."))
    return html_page(
        "Backtest comparison",
        parts,
        footer="Each row is one backtest of one instrument; metrics as in its own report. n/a marks an "
        "undefined ratio.",
    )


def best_cards(ranked: Sequence[Mapping[str, object]], rank_by: str) -> str:
    """The headline numbers of the first-ranked result."""
    if not ranked:
        return "<p>No results to compare.</p>"
    best = ranked[0]
    label, kind = METRIC_LABELS.get(rank_by, (rank_by, "ratio"))
    detail = f"{label} {format_cell(best.get(rank_by), kind)}"
    if "trade_count" in best:
        detail += f" · {format_cell(best.get('trade_count'), 'count')} trades"
    cards = [Card(f"Best by {label}", comparison_key(str(best["backtest"]), str(best["instrument"])), detail)]
    for name in ("total_return", "cagr", "sharpe", "max_drawdown"):
        if name in best:
            metric_label, metric_kind = METRIC_LABELS[name]
            cards.append(Card(metric_label, format_cell(best.get(name), metric_kind)))
    strategy, benchmark = as_number(best.get("total_return")), as_number(best.get("benchmark_total_return"))
    if not math.isnan(strategy) and not math.isnan(benchmark):
        cards.append(
            Card(
                "vs buy and hold",
                f"{(strategy - benchmark) * 100:+.2f} pts",
                f"buy and hold {format_value(benchmark, 'percent')}",
                tone(strategy - benchmark),
                hint="total return minus that of buy and hold of the instrument, in percentage points",
            )
        )
    return cards_html(cards)


def write_comparison_report(
    rows: list[dict[str, object]],
    equity_curves: dict[str, pl.DataFrame],
    path: str | os.PathLike[str],
    rank_by: str = "sharpe",
    *,
    assets_dir: str | os.PathLike[str] | None = None,
    provenance: Mapping[str, object] | None = None,
) -> Path:
    """Write plotly.js once to `assets_dir` (default `assets/` beside the page) and the page referencing
    it, atomically; the same inputs give the same bytes."""
    path = Path(path)
    plotly_js = shared_plotly_js(path, assets_dir)
    page = render_comparison_html(rows, equity_curves, rank_by, plotly_js=plotly_js, provenance=provenance)
    return write_text_atomically(path, page)


def _with_instrument(position: int, row: Mapping[str, object]) -> dict[str, object]:
    """`instrument_id` is accepted for `instrument`."""
    named = dict(row)
    if "instrument" not in named and "instrument_id" in named:
        named["instrument"] = named.pop("instrument_id")
    missing = [name for name in ("backtest", "instrument") if name not in named]
    if missing:
        raise ComparisonError(f"comparison row {position} lacks {missing}; every row names both")
    return named


def as_number(value: object) -> float:
    """A metric value as a float: NaN for None, booleans and non-numbers (undefined ranks last)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def format_cell(value: object, kind: str) -> str:
    """A table cell, HTML-escaped: numbers by `format_value(value, kind)`, None as "n/a", anything else
    as its text."""
    if value is None:
        return "n/a"
    if isinstance(value, int | float):
        return format_value(value, kind)
    return escape(str(value))
