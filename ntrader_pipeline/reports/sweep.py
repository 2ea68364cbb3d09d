"""The sweep report: one strategy on one instrument at many parameter points, ranked, mapped, and checked
for robustness and (when walk-forward validation ran) for overfitting.

The page leads with the result like the other reports: the best point's headline numbers (and the
walk-forward verdict), then every point in a table sortable by any column (plain HTML and a few lines of
inline script), the metric over each pair of parameters with the others held at the best point's values,
the metric around the best point one parameter at a time with its grid neighbours ("plateau or spike"),
the walk-forward folds, the stitched out-of-sample equity and the overfitting statistics, how the numbers
are computed, and the provenance collapsed. plotly.js is the shared file of `reports.assets`.

The page is assembled here; the data model is `sweep_model`, the robustness analysis `sweep_robustness`,
the points table (HTML, CSS, JavaScript) `sweep_table`, the walk-forward and overfitting parts
`sweep_walk_forward`, and the figures `sweep_figures`.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Callable, Mapping
from html import escape
from pathlib import Path

import plotly.graph_objects as go
import polars as pl

from ntrader_pipeline.atomic_files import write_text_atomically
from ntrader_pipeline.reports.comparison import LOWER_IS_BETTER, as_number, format_cell
from ntrader_pipeline.reports.config import ReportConfig
from ntrader_pipeline.reports.headline import Card, cards_html, conventions_note, tone
from ntrader_pipeline.reports.html import figure_section, html_page, provenance_details, shared_plotly_js
from ntrader_pipeline.reports.sweep_figures import (
    MAX_OOS_POINTS,
    axis_values,
    parameter_heatmap,
    robustness_chart,
)
from ntrader_pipeline.reports.sweep_model import (
    DSR_THRESHOLD,
    FOLD_COLUMNS,
    PBO_THRESHOLD,
    SWEEP_METRICS,
    SweepReportError,
    SweepReportInputs,
    WalkForwardSummary,
    direction,
    metric_label,
    parameters_text,
    rank_points,
    validate,
)
from ntrader_pipeline.reports.sweep_robustness import Robustness, grid_neighbours, robustness
from ntrader_pipeline.reports.sweep_table import points_section
from ntrader_pipeline.reports.sweep_walk_forward import walk_forward_cards, walk_forward_section

__all__ = [
    "DSR_THRESHOLD",
    "FOLD_COLUMNS",
    "PBO_THRESHOLD",
    "SWEEP_METRICS",
    "Robustness",
    "SweepReportError",
    "SweepReportInputs",
    "WalkForwardSummary",
    "grid_neighbours",
    "parameters_text",
    "rank_points",
    "render_sweep_html",
    "robustness",
    "sweep_cards",
    "validate",
    "write_sweep_report",
]


def render_sweep_html(
    inputs: SweepReportInputs,
    *,
    height: int = 450,
    template: str = "plotly_white",
    plotly_js: str | None = None,
) -> str:
    """The sweep page; `plotly_js` as in `render_report_html` (the URL of the shared plotly.js, None
    embeds it)."""
    validate(inputs)
    ranked = rank_points(inputs.results, inputs.metric)
    best = ranked.row(0, named=True)
    figures = _FigureSections(plotly_js, template, height)
    parts = [
        _header(inputs, ranked, best),
        points_section(inputs, ranked),
        _heatmaps_section(inputs, best, figures),
        _robustness_section(inputs, best, figures),
    ]
    if inputs.walk_forward is not None:
        parts.append(walk_forward_section(inputs.walk_forward, figures))
    parts.append(
        conventions_note(ReportConfig(max_line_points=MAX_OOS_POINTS), extra=_sweep_conventions(inputs))
    )
    parts.append(provenance_details(inputs.provenance, empty="No provenance recorded for this sweep."))
    return html_page(
        f"Sweep {inputs.sweep}",
        parts,
        footer=f"Each point is one backtest of {escape(inputs.instrument_id)}; metrics as in its own "
        "report. n/a marks an undefined value.",
    )


def write_sweep_report(
    inputs: SweepReportInputs,
    path: str | os.PathLike[str],
    assets_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Write plotly.js once to `assets_dir` (default `assets/` beside the page) and the page referencing
    it, atomically; the same inputs give the same bytes."""
    path = Path(path)
    plotly_js = shared_plotly_js(path, assets_dir)
    return write_text_atomically(path, render_sweep_html(inputs, plotly_js=plotly_js))


def sweep_cards(inputs: SweepReportInputs, ranked: pl.DataFrame, best: Mapping[str, object]) -> list[Card]:
    """The best point's metric, total return and max drawdown, the number of points, and with a
    walk-forward the stitched out-of-sample Sharpe and return, the mean degradation, DSR and PBO."""
    label, kind = metric_label(inputs.metric)
    cards = [
        Card(
            f"Best {label}",
            format_cell(best[inputs.metric], kind),
            parameters_text(best, inputs.parameters),
            hint=f"the point ranked first by {label} ({direction(inputs.metric)})",
        )
    ]
    for name in ("total_return", "max_drawdown", "sharpe"):
        if name in best and name != inputs.metric:
            name_label, name_kind = metric_label(name)
            value = as_number(best[name])
            shade = ("bad" if value > 0 else "") if name == "max_drawdown" else tone(value)
            cards.append(Card(name_label, format_cell(best[name], name_kind), "of the best point", shade))
    grid = math.prod(len(axis_values(ranked, name)) for name in inputs.parameters)
    defined = sum(not math.isnan(as_number(value)) for value in ranked[inputs.metric])
    detail = f"full grid of {grid:,}" if ranked.height == grid else f"sampled from a grid of {grid:,}"
    cards.append(
        Card("Points", f"{ranked.height:,}", f"{detail}; {defined:,} with {label} defined"),
    )
    if inputs.walk_forward is not None:
        cards.extend(walk_forward_cards(inputs.walk_forward))
    return cards


# ---------------------------------------------------------------------------------------------------------


class _FigureSections:
    """Figure sections in page order: the first one loads plotly.js."""

    def __init__(self, plotly_js: str | None, template: str, height: int) -> None:
        self.plotly_js, self.template, self.height = plotly_js, template, height
        self.count = 0

    def __call__(self, name: str, heading: str, figure: go.Figure, *, height: int | None = None) -> str:
        figure.update_layout(template=self.template)
        if height is not None or figure.layout.height is None:
            figure.update_layout(height=height or self.height)
        self.count += 1
        return figure_section(name, heading, figure, first=self.count == 1, plotly_js=self.plotly_js)


def _header(inputs: SweepReportInputs, ranked: pl.DataFrame, best: Mapping[str, object]) -> str:
    label, _ = metric_label(inputs.metric)
    strategy = inputs.strategy.rsplit(":", 1)[-1].rsplit(".", 1)[-1]
    summary = " · ".join(
        [
            f'<span title="{escape(inputs.strategy)}">{escape(strategy)}</span>',
            escape(inputs.instrument_id),
            f"{ranked.height:,} parameter points over {escape(', '.join(inputs.parameters))}",
            f"ranked by {escape(label)} ({direction(inputs.metric)}); undefined values rank last",
        ]
    )
    return "\n".join(
        [
            "<header>",
            f"<h1>Parameter sweep: {escape(inputs.sweep)}</h1>",
            f'<p class="summary">{summary}</p>',
            f'<p class="versions">Best point: {escape(parameters_text(best, inputs.parameters))} '
            f'<span class="mono">({escape(str(best["point"]))})</span></p>',
            cards_html(sweep_cards(inputs, ranked, best)),
            '<a class="conventions" href="#conventions">How these are computed</a>',
            "</header>",
        ]
    )


def _heatmaps_section(
    inputs: SweepReportInputs, best: Mapping[str, object], figures: Callable[..., str]
) -> str:
    if len(inputs.parameters) < 2:
        return ""
    label, kind = metric_label(inputs.metric)
    parts, notes = [], []
    for x, y in itertools.combinations(inputs.parameters, 2):
        figure = parameter_heatmap(
            inputs.results,
            inputs.parameters,
            best,
            x,
            y,
            inputs.metric,
            label=label,
            kind=kind,
            lower_is_better=inputs.metric in LOWER_IS_BETTER,
        )
        if figure is None:
            notes.append(
                f"<li>{escape(x)} × {escape(y)}: with the other parameters at the best point's values, "
                "fewer than 2 values ran on an axis, so there is no map to draw.</li>"
            )
            continue
        parts.append(figures(f"heatmap-{_slug(x)}-{_slug(y)}", f"{x} × {y}", figure))
    note = f'<ul class="note">{"".join(notes)}</ul>' if notes else ""
    return "\n".join(
        [
            '<section id="heatmaps">',
            "<h2>The metric over each pair of parameters</h2>",
            f'<p class="note">{escape(label)} as colour (green is better), the other parameters held at the '
            "best point's values, the best point starred. A blank cell is a point the sweep did not run "
            "(or whose value is undefined).</p>",
            note,
            *parts,
            "</section>",
        ]
    )


def _robustness_section(
    inputs: SweepReportInputs, best: Mapping[str, object], figures: Callable[..., str]
) -> str:
    label, kind = metric_label(inputs.metric)
    chart = robustness_chart(inputs.results, inputs.parameters, best, inputs.metric, label=label)
    stats = robustness(inputs, best)
    worst = "max" if inputs.metric in LOWER_IS_BETTER else "min"
    gap = stats.best - stats.mean
    rows = [
        (f"Best point's {label}", format_cell(stats.best, kind)),
        ("Grid neighbours (defined)", f"{stats.neighbours:,} ({stats.defined:,})"),
        (f"Mean {label} of the neighbours", format_cell(stats.mean, kind)),
        (f"Worst ({worst}) {label} of the neighbours", format_cell(stats.worst, kind)),
        ("Best minus neighbours' mean", format_cell(gap, kind)),
    ]
    table = "".join(f'<tr><th>{escape(name)}</th><td class="num">{value}</td></tr>' for name, value in rows)
    return "\n".join(
        [
            '<section id="robustness">',
            "<h2>Robustness around the best point</h2>",
            f'<table class="data" id="robustness-table" style="width:auto">{table}</table>',
            '<p class="note">Grid neighbours differ from the best point in one parameter by one step of '
            "its grid. A <b>plateau</b> — neighbours close to the best — means small changes to the "
            "parameters keep the result, so it is more likely to hold on new data. A <b>spike</b> — the "
            "best far above its neighbours — means the result depends on one exact parameter value: "
            "likely a lucky fit to this history (overfitting) that will not repeat.</p>",
            figures("robustness", "The metric around the best point", chart),
            "</section>",
        ]
    )


def _sweep_conventions(inputs: SweepReportInputs) -> list[str]:
    label = escape(metric_label(inputs.metric)[0])
    items = [
        f"<b>Sweep ranking</b>: every point is one backtest with the metrics above; points rank by {label} "
        f"({direction(inputs.metric)}), undefined values last, ties in the sweep's order.",
        "<b>Heatmaps and robustness hold the other parameters at the best point's values</b>; grid "
        "neighbours differ from the best point in one parameter by one step among the values the sweep "
        "ran for it. A point the sweep did not run leaves a blank cell or a missing neighbour.",
    ]
    if inputs.walk_forward is not None:
        compared = escape(metric_label(inputs.walk_forward.degradation_metric)[0])
        items += [
            "<b>Walk-forward</b>: rolling folds move a fixed-length in-sample window forward, anchored "
            "folds grow it from the first bar. Each out-of-sample run replays every bar of the window "
            "before its fold without trading (so indicators are warm at the fold's first bar), then "
            "trades the fold; its equity and metrics count from the fold's start. Positions do not carry "
            "across folds: each fold starts flat with the starting cash, and the out-of-sample equity "
            "chains the folds' runs end to end.",
            f"<b>Degradation compares annualized metrics</b> ({compared} here): folds of different "
            "lengths compare like with like, so a steady return shows no degradation. Total return and "
            "Calmar grow or deepen with the window's length and are compared as CAGR.",
            "<b>Sharpe ratios are annualized</b> (daily session returns x √252) wherever shown, the "
            "deflated Sharpe ratio's observed Sharpe and threshold included; per-session values are "
            "labelled so. The deflated Sharpe ratio and the PBO are probabilities (shown in percent).",
        ]
    return items


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name)
