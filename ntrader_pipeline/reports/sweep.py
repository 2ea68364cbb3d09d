"""The sweep report: one strategy on one instrument at many parameter points, ranked, mapped, and checked
for robustness and (when walk-forward validation ran) for overfitting.

The page leads with the result like the other reports: the best point's headline numbers (and the
walk-forward verdict), then every point in a table sortable by any column (plain HTML and a few lines of
inline script), the metric over each pair of parameters with the others held at the best point's values,
the metric around the best point one parameter at a time with its grid neighbours ("plateau or spike"),
the walk-forward folds, the stitched out-of-sample equity and the overfitting statistics, how the numbers
are computed, and the provenance collapsed. plotly.js is the shared file of `reports.assets`.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

import plotly.graph_objects as go
import polars as pl

from ntrader_pipeline.atomic_files import write_text_atomically
from ntrader_pipeline.reports.comparison import (
    LOWER_IS_BETTER,
    METRIC_LABELS,
    as_number,
    best_first,
    format_cell,
)
from ntrader_pipeline.reports.config import ReportConfig
from ntrader_pipeline.reports.headline import Card, cards_html, conventions_note, tone
from ntrader_pipeline.reports.html import figure_section, html_page, provenance_details, shared_plotly_js
from ntrader_pipeline.reports.sweep_figures import (
    MAX_OOS_POINTS,
    axis_values,
    is_vs_oos_chart,
    oos_equity_chart,
    parameter_heatmap,
    robustness_chart,
    value_label,
)

# The per-point metrics the table shows (those present), after the ranking metric.
SWEEP_METRICS: tuple[str, ...] = (
    "sharpe",
    "sortino",
    "total_return",
    "cagr",
    "annual_volatility",
    "max_drawdown",
    "calmar",
    "trade_count",
    "win_rate",
    "profit_factor",
    "exposure",
    "fees",
    "final_equity",
)
FOLD_COLUMNS: tuple[str, ...] = (
    "fold",
    "is_start",
    "is_end",
    "oos_start",
    "oos_end",
    "point",
    "parameters",
    "is_metric",
    "oos_metric",
    "degradation",
    "oos_return",
)
DSR_THRESHOLD = 0.95  # a deflated Sharpe ratio below this is not significant at 5 %
PBO_THRESHOLD = 0.5  # a PBO above this: the in-sample best is more often than not below the OOS median


class SweepReportError(ValueError):
    """The sweep report cannot be built from the inputs given (no points, a missing column)."""


@dataclass(frozen=True)
class WalkForwardSummary:
    """Walk-forward validation of the sweep: per fold the best in-sample point judged out of sample.

    `folds`: fold (0-based), is_start, is_end, oos_start, oos_end (dates), point, parameters (text),
    is_metric, oos_metric, degradation (= oos - is), oos_return. `oos_equity`: ts (UTC), equity, fold.
    `overfitting`: deflated_sharpe_ratio, probabilistic_sharpe_ratio, expected_max_sharpe,
    observed_sharpe, trials, pbo, pbo_combinations, probability_of_loss, degradation_slope (None = not
    computable)."""

    mode: str
    metric: str
    folds: pl.DataFrame
    oos_equity: pl.DataFrame
    oos_metrics: Mapping[str, float | None]
    overfitting: Mapping[str, float | int | None]


@dataclass(frozen=True)
class SweepReportInputs:
    """One sweep: `results` has a row per point ("point" key, a column per name in `parameters`, metric
    columns named as `PerformanceMetrics` fields, null = undefined), ranked by `metric`."""

    sweep: str
    instrument_id: str
    strategy: str
    metric: str
    parameters: tuple[str, ...]
    results: pl.DataFrame
    walk_forward: WalkForwardSummary | None = None
    provenance: Mapping[str, object] | None = None


def validate(inputs: SweepReportInputs) -> None:
    """Raise `SweepReportError` naming what is missing."""
    results = inputs.results
    if results.height == 0:
        raise SweepReportError(f"sweep {inputs.sweep!r} has no results: nothing to report")
    if not inputs.parameters:
        raise SweepReportError(f"sweep {inputs.sweep!r} names no parameters")
    if "point" not in results.columns:
        raise SweepReportError(f"sweep results lack the 'point' key column; columns: {results.columns}")
    if inputs.metric not in results.columns:
        available = [name for name in results.columns if name in METRIC_LABELS]
        raise SweepReportError(
            f"sweep results lack the metric column {inputs.metric!r}; rank by one of {available}"
        )
    missing = [name for name in inputs.parameters if name not in results.columns]
    if missing:
        raise SweepReportError(
            f"sweep results lack the parameter column(s) {missing}; columns: {results.columns}"
        )
    if inputs.walk_forward is not None:
        lacking = [name for name in FOLD_COLUMNS if name not in inputs.walk_forward.folds.columns]
        if lacking:
            raise SweepReportError(f"walk-forward folds lack the column(s) {lacking}")
        lacking = [c for c in ("ts", "equity", "fold") if c not in inputs.walk_forward.oos_equity.columns]
        if lacking:
            raise SweepReportError(f"walk-forward out-of-sample equity lacks the column(s) {lacking}")


def rank_points(results: pl.DataFrame, metric: str) -> pl.DataFrame:
    """`results` best first by `metric` (see `comparison.best_first`), with a 1-based `rank` column."""
    order = best_first(results.get_column(metric).to_list(), metric)
    return results[order].with_row_index("rank", offset=1).with_columns(pl.col("rank").cast(pl.Int64))


def parameters_text(point: Mapping[str, object], parameters: Sequence[str]) -> str:
    """ "fast_period=10, slow_period=30" (the form of the walk-forward folds' `parameters`)."""
    return ", ".join(f"{name}={value_label(point[name])}" for name in parameters)


def grid_neighbours(
    results: pl.DataFrame, parameters: Sequence[str], best: Mapping[str, object]
) -> pl.DataFrame:
    """The points that differ from `best` in exactly one parameter, by one step of that parameter's grid
    (the next lower or higher value the sweep ran for it), with `parameter` and `step` (-1 or +1)."""
    frames = []
    for name in parameters:
        values = axis_values(results, name)
        if best[name] not in values:  # a null parameter value has no grid position
            continue
        position = values.index(best[name])
        others = [pl.col(other) == best[other] for other in parameters if other != name]
        for step in (-1, 1):
            if 0 <= position + step < len(values):
                found = results.filter(pl.col(name) == values[position + step], *others)
                frames.append(found.with_columns(parameter=pl.lit(name), step=pl.lit(step)))
    if not frames:
        return results.clear().with_columns(parameter=pl.lit("", pl.String), step=pl.lit(0))
    return pl.concat(frames, how="vertical_relaxed")


@dataclass(frozen=True)
class Robustness:
    """The best point's metric against its grid neighbours': mean and worst (min, max where lower is
    better) of those defined."""

    best: float
    neighbours: int
    defined: int
    mean: float
    worst: float


def robustness(inputs: SweepReportInputs, best: Mapping[str, object]) -> Robustness:
    neighbours = grid_neighbours(inputs.results, inputs.parameters, best)
    values = [v for v in (as_number(item) for item in neighbours[inputs.metric]) if not math.isnan(v)]
    lower = inputs.metric in LOWER_IS_BETTER
    return Robustness(
        best=as_number(best[inputs.metric]),
        neighbours=neighbours.height,
        defined=len(values),
        mean=sum(values) / len(values) if values else math.nan,
        worst=(max(values) if lower else min(values)) if values else math.nan,
    )


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
        _points_section(inputs, ranked),
        _heatmaps_section(inputs, best, figures),
        _robustness_section(inputs, best, figures),
    ]
    if inputs.walk_forward is not None:
        parts.append(_walk_forward_section(inputs.walk_forward, figures))
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
    label, kind = _metric(inputs.metric)
    cards = [
        Card(
            f"Best {label}",
            format_cell(best[inputs.metric], kind),
            parameters_text(best, inputs.parameters),
            hint=f"the point ranked first by {label} ({_direction(inputs.metric)})",
        )
    ]
    for name in ("total_return", "max_drawdown", "sharpe"):
        if name in best and name != inputs.metric:
            name_label, name_kind = _metric(name)
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
        cards.extend(_walk_forward_cards(inputs.walk_forward))
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
    label, _ = _metric(inputs.metric)
    strategy = inputs.strategy.rsplit(":", 1)[-1].rsplit(".", 1)[-1]
    summary = " · ".join(
        [
            f'<span title="{escape(inputs.strategy)}">{escape(strategy)}</span>',
            escape(inputs.instrument_id),
            f"{ranked.height:,} parameter points over {escape(', '.join(inputs.parameters))}",
            f"ranked by {escape(label)} ({_direction(inputs.metric)}); undefined values rank last",
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


_TABLE_STYLE = """<style>
div.table-scroll { max-height: 520px; overflow: auto; border: 1px solid #ddd; margin: 6px 0; }
table.data { border-collapse: collapse; font-size: 0.9em; width: 100%; }
table.data th, table.data td { border-bottom: 1px solid #eee; padding: 3px 8px; white-space: nowrap; }
table.data th { background: #f5f5f5; position: sticky; top: 0; text-align: left; }
table.data td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort="ascending"]::after { content: " \\25B2"; }
table.sortable th[aria-sort="descending"]::after { content: " \\25BC"; }
table.data tr.best td { background: #fff4c2; font-weight: 600; }
p.note { color: #555; font-size: 0.9em; margin: 4px 0; }
</style>"""

# Sorts a table.sortable's body by the clicked column: numbers (data-type="number") numerically, text
# alphabetically; cells with an empty data-sort (undefined) last in either direction; a new column
# starts ascending, the same column toggles. Rows of equal value keep their order (stable sort).
_SORT_SCRIPT = """<script>
(function () {
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    headers.forEach(function (th, column) {
      th.addEventListener("click", function () {
        var numeric = th.getAttribute("data-type") === "number";
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[column].getAttribute("data-sort"), y = b.cells[column].getAttribute("data-sort");
          if (x === "" || y === "") { return (x === "" ? 1 : 0) - (y === "" ? 1 : 0); }
          var order = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
        headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      });
    });
  });
})();
</script>"""


def _points_section(inputs: SweepReportInputs, ranked: pl.DataFrame) -> str:
    metrics = [inputs.metric, *(n for n in SWEEP_METRICS if n != inputs.metric and n in ranked.columns)]
    numeric = {name: ranked.schema[name].is_numeric() for name in inputs.parameters}
    header = ['<th data-type="number">#</th>', '<th data-type="text">Point</th>']
    header += [
        f'<th data-type="{"number" if numeric[name] else "text"}">{escape(name)}</th>'
        for name in inputs.parameters
    ]
    for name in metrics:
        sort = ' aria-sort="{}"'.format("ascending" if name in LOWER_IS_BETTER else "descending")
        shown = f"<b>{escape(_metric(name)[0])}</b>" if name == inputs.metric else escape(_metric(name)[0])
        header.append(f'<th data-type="number"{sort if name == inputs.metric else ""}>{shown}</th>')
    rows = []
    for row in ranked.iter_rows(named=True):
        cells = [_number_cell(row["rank"], str(row["rank"])), _text_cell(str(row["point"]), mono=True)]
        for name in inputs.parameters:
            value = row[name]
            cells.append(
                _number_cell(value, value_label(value))
                if numeric[name]
                else _text_cell(value_label(value) if value is not None else "")
            )
        cells += [_number_cell(row[name], format_cell(row[name], _metric(name)[1])) for name in metrics]
        css = ' class="best"' if row["rank"] == 1 else ""
        rows.append(f'<tr{css} data-point="{escape(str(row["point"]))}">{"".join(cells)}</tr>')
    label = _metric(inputs.metric)[0]
    return "\n".join(
        [
            '<section id="points">',
            "<h2>Every point</h2>",
            _TABLE_STYLE,
            f'<p class="note">{ranked.height:,} points, best {escape(label)} first (highlighted); click a '
            "column heading to sort by it, again to reverse; undefined values sort last.</p>",
            '<div class="table-scroll"><table class="data sortable" id="points-table">',
            f"<thead><tr>{''.join(header)}</tr></thead>",
            "<tbody>",
            *rows,
            "</tbody></table></div>",
            _SORT_SCRIPT,
            "</section>",
        ]
    )


def _heatmaps_section(
    inputs: SweepReportInputs, best: Mapping[str, object], figures: Callable[..., str]
) -> str:
    if len(inputs.parameters) < 2:
        return ""
    label, kind = _metric(inputs.metric)
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
    label, kind = _metric(inputs.metric)
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


_OVERFITTING_ROWS: tuple[tuple[str, str, str, str], ...] = (
    (
        "deflated_sharpe_ratio",
        "Deflated Sharpe ratio (DSR)",
        "percent",
        "Bailey & López de Prado (2014): the probability that the best point's true Sharpe ratio is above "
        "the best Sharpe that this many trials would show by luck alone, adjusted for the returns' skew "
        f"and kurtosis and the sample length; below {DSR_THRESHOLD:.0%} the best is not significant.",
    ),
    (
        "probabilistic_sharpe_ratio",
        "Probabilistic Sharpe ratio (PSR)",
        "percent",
        "The probability that the observed Sharpe ratio is above 0, given skew, kurtosis and sample "
        "length (the DSR without the multiple-trials deflation).",
    ),
    (
        "expected_max_sharpe",
        "Expected maximum Sharpe by luck",
        "ratio",
        "The Sharpe ratio the best of this many independent trials of a strategy without skill would "
        "show: the benchmark the DSR compares against.",
    ),
    ("observed_sharpe", "Observed Sharpe", "ratio", "The best point's Sharpe ratio that is being deflated."),
    ("trials", "Trials", "count", "The number of parameter points tried (N in the deflation)."),
    (
        "pbo",
        "Probability of backtest overfitting (PBO)",
        "percent",
        "Bailey, Borwein, López de Prado & Zhu (2017): the share of combinatorially-symmetric "
        "cross-validation splits in which the in-sample best point ranks below the median out of sample; "
        f"above {PBO_THRESHOLD:.0%} picking the in-sample best is worse than picking at random.",
    ),
    (
        "pbo_combinations",
        "CSCV splits",
        "count",
        "The number of in-sample/out-of-sample splits the PBO counts.",
    ),
    (
        "probability_of_loss",
        "Probability of out-of-sample loss",
        "percent",
        "The share of those splits in which the in-sample best point loses (metric below 0) out of sample.",
    ),
    (
        "degradation_slope",
        "Degradation slope",
        "ratio",
        "The slope of the out-of-sample metric regressed on the in-sample one across splits: near 1 the "
        "in-sample ranking carries over, near or below 0 it does not.",
    ),
)


def _walk_forward_cards(walk_forward: WalkForwardSummary) -> list[Card]:
    oos = walk_forward.oos_metrics
    overfitting = walk_forward.overfitting
    sharpe, total = as_number(oos.get("sharpe")), as_number(oos.get("total_return"))
    degradation = walk_forward.folds["degradation"].drop_nulls().drop_nans()
    mean_degradation = float(degradation.mean()) if degradation.len() else math.nan
    dsr, pbo = as_number(overfitting.get("deflated_sharpe_ratio")), as_number(overfitting.get("pbo"))
    folds = walk_forward.folds.height
    return [
        Card(
            "OOS Sharpe",
            format_cell(sharpe, "ratio"),
            f"stitched over {folds} {walk_forward.mode} folds",
            tone(sharpe),
            "Sharpe ratio of the out-of-sample runs stitched end to end",
        ),
        Card("OOS total return", format_cell(total, "percent"), "stitched out of sample", tone(total)),
        Card(
            "Mean degradation",
            format_cell(mean_degradation, _metric(walk_forward.metric)[1]),
            f"OOS - IS {_metric(walk_forward.metric)[0]}, per fold",
            tone(mean_degradation),
            "mean over folds of the out-of-sample metric minus the in-sample metric of the chosen point",
        ),
        Card(
            "Deflated Sharpe",
            format_cell(dsr, "percent"),
            "not computable" if math.isnan(dsr) else f"{'≥' if dsr >= DSR_THRESHOLD else '<'} 95 % needed",
            "" if math.isnan(dsr) else ("good" if dsr >= DSR_THRESHOLD else "bad"),
            "probability the best Sharpe beats the best of N trials by luck (Bailey & López de Prado 2014)",
        ),
        Card(
            "PBO",
            format_cell(pbo, "percent"),
            "not computable" if math.isnan(pbo) else "probability of backtest overfitting",
            "" if math.isnan(pbo) else ("bad" if pbo > PBO_THRESHOLD else "good"),
            "share of CSCV splits where the in-sample best ranks below the OOS median (Bailey et al. 2017)",
        ),
    ]


def _walk_forward_section(walk_forward: WalkForwardSummary, figures: Callable[..., str]) -> str:
    label, kind = _metric(walk_forward.metric)
    folds = walk_forward.folds.sort("fold")
    header = [
        "Fold",
        "In sample",
        "Out of sample",
        "Chosen parameters",
        f"IS {label}",
        f"OOS {label}",
        "Degradation",
        "OOS return",
    ]
    rows = []
    for fold in folds.iter_rows(named=True):
        cells = [
            f'<td class="num">{int(fold["fold"]) + 1}</td>',
            f"<td>{fold['is_start']} to {fold['is_end']}</td>",
            f"<td>{fold['oos_start']} to {fold['oos_end']}</td>",
            f'<td title="point {escape(str(fold["point"]))}">{escape(str(fold["parameters"]))}</td>',
            *(
                f'<td class="num">{format_cell(fold[name], k)}</td>'
                for name, k in (
                    ("is_metric", kind),
                    ("oos_metric", kind),
                    ("degradation", kind),
                    ("oos_return", "percent"),
                )
            ),
        ]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    fold_table = (
        '<table class="data" id="folds-table"><thead><tr>'
        + "".join(f"<th>{escape(name)}</th>" for name in header)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )
    oos_rows = "".join(
        f'<tr><th>{escape(_metric(name)[0])}</th><td class="num">{format_cell(value, _metric(name)[1])}'
        "</td></tr>"
        for name, value in walk_forward.oos_metrics.items()
    )
    overfitting = walk_forward.overfitting
    stat_rows = "".join(
        f'<tr><th>{escape(title)}</th><td class="num">'
        f"{_statistic(overfitting.get(key), k)}"
        f"</td><td>{escape(explanation)}</td></tr>"
        for key, title, k, explanation in _OVERFITTING_ROWS
        if key in overfitting
    )
    parameters = dict(zip(folds["fold"].to_list(), folds["parameters"].to_list(), strict=True))
    return "\n".join(
        [
            '<section id="walk-forward">',
            f"<h2>Walk-forward validation ({escape(walk_forward.mode)}, selecting by {escape(label)})</h2>",
            '<p class="note">Each fold picks the point with the best in-sample metric and runs it on the '
            "following out-of-sample window; degradation = out-of-sample minus in-sample metric.</p>",
            fold_table,
            figures(
                "oos-equity",
                "Out-of-sample equity",
                oos_equity_chart(walk_forward.oos_equity, parameters),
            ),
            figures("is-vs-oos", "In sample vs out of sample", is_vs_oos_chart(folds, label=label)),
            "<h2>Stitched out-of-sample metrics</h2>",
            f'<table class="data" id="oos-metrics-table" style="width:auto">{oos_rows}</table>',
            "<h2>Overfitting statistics</h2>",
            f'<table class="data" id="overfitting-table"><thead><tr><th>Statistic</th><th>Value</th>'
            f"<th>What it means</th></tr></thead><tbody>{stat_rows}</tbody></table>",
            "</section>",
        ]
    )


def _sweep_conventions(inputs: SweepReportInputs) -> list[str]:
    label = escape(_metric(inputs.metric)[0])
    items = [
        f"<b>Sweep ranking</b>: every point is one backtest with the metrics above; points rank by {label} "
        f"({_direction(inputs.metric)}), undefined values last, ties in the sweep's order.",
        "<b>Heatmaps and robustness hold the other parameters at the best point's values</b>; grid "
        "neighbours differ from the best point in one parameter by one step among the values the sweep "
        "ran for it. A point the sweep did not run leaves a blank cell or a missing neighbour.",
    ]
    if inputs.walk_forward is not None:
        items.append(
            "<b>Walk-forward</b>: rolling folds move a fixed-length in-sample window forward, anchored "
            "folds grow it from the first bar; each fold's out-of-sample run starts from the in-sample "
            "end, and the out-of-sample equity chains the folds' runs end to end. The deflated Sharpe "
            "ratio and the PBO are probabilities (shown in percent)."
        )
    return items


def _statistic(value: object, kind: str) -> str:
    return "n/a (not computable)" if value is None else format_cell(value, kind)


def _metric(name: str) -> tuple[str, str]:
    return METRIC_LABELS.get(name, (name, "ratio"))


def _direction(metric: str) -> str:
    return "lower is better" if metric in LOWER_IS_BETTER else "higher is better"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name)


def _sort_value(value: object) -> str:
    """A cell's `data-sort`: empty for undefined, a number JavaScript's parseFloat reads otherwise."""
    number = float(value) if isinstance(value, bool) else as_number(value)
    if math.isnan(number):
        return ""
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return repr(number)


def _number_cell(value: object, shown: str) -> str:
    return f'<td class="num" data-sort="{_sort_value(value)}">{shown}</td>'


def _text_cell(text: str, *, mono: bool = False) -> str:
    css = ' class="mono"' if mono else ""
    return f'<td{css} data-sort="{escape(text)}">{escape(text)}</td>'
