"""Figure factories of the sweep report: polars frames of sweep results in, plotly Figures out.

`results` has one row per parameter point, a column per parameter and a column per metric. Parameter
axes are categorical (one evenly sized cell or tick per value the sweep ran, in value order), so uneven
grids (5, 10, 20, 50) and non-numeric parameters read the same way. `best` maps each parameter to the
best point's value; the "others at best" slices hold every parameter not drawn at that value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from ntrader_pipeline.reports.comparison import as_number, format_cell
from ntrader_pipeline.reports.figures import equity_lines_figure, time_line

_BEST_MARKER = {"symbol": "star", "size": 16, "color": "#111111", "line": {"width": 1, "color": "#ffffff"}}
_IS_COLOR, _OOS_COLOR = "#7f7f7f", "#1f77b4"
MAX_OOS_POINTS = 4_000


def value_label(value: object) -> str:
    """A parameter value as an axis label: 0.5 not 0.500000, 10 not 10.0 for an integral float."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def axis_values(frame: pl.DataFrame, parameter: str) -> list[object]:
    """The distinct values `parameter` takes in `frame`, in value order (nulls left out)."""
    return frame.get_column(parameter).drop_nulls().unique().sort().to_list()


def others_at_best(
    results: pl.DataFrame, parameters: Sequence[str], best: Mapping[str, object], free: Sequence[str]
) -> pl.DataFrame:
    """The points whose parameters other than `free` all equal the best point's values."""
    fixed = [pl.col(name) == best[name] for name in parameters if name not in free]
    return results.filter(*fixed) if fixed else results


def heatmap_grid(
    results: pl.DataFrame,
    parameters: Sequence[str],
    best: Mapping[str, object],
    x: str,
    y: str,
    metric: str,
) -> tuple[list[object], list[object], list[list[float | None]]]:
    """(x values, y values, z rows): z[i][j] is `metric` at x = x values[j], y = y values[i] with the
    other parameters at the best point's values; None where no point ran there or the metric is
    undefined. The axes hold the values that occur in that slice."""
    frame = others_at_best(results, parameters, best, (x, y))
    xs, ys = axis_values(frame, x), axis_values(frame, y)
    cells: dict[tuple[object, object], float | None] = {}
    for row in frame.select(x, y, metric).iter_rows():
        value = as_number(row[2])
        cells.setdefault((row[0], row[1]), None if math.isnan(value) else value)
    return xs, ys, [[cells.get((i, j)) for i in xs] for j in ys]


def parameter_heatmap(
    results: pl.DataFrame,
    parameters: Sequence[str],
    best: Mapping[str, object],
    x: str,
    y: str,
    metric: str,
    *,
    label: str,
    kind: str = "ratio",
    lower_is_better: bool = False,
) -> go.Figure | None:
    """`metric` over `x` by `y`, the other parameters at the best point's values, the best cell starred;
    None when the slice has fewer than 2 values on an axis (nothing to compare). Green is better, so the
    colour scale is reversed for a metric where lower is better."""
    xs, ys, z = heatmap_grid(results, parameters, best, x, y, metric)
    if len(xs) < 2 or len(ys) < 2:
        return None
    x_labels, y_labels = [value_label(v) for v in xs], [value_label(v) for v in ys]
    text = [["" if cell is None else format_cell(cell, kind) for cell in row] for row in z]
    figure = go.Figure(
        go.Heatmap(
            x=x_labels,
            y=y_labels,
            z=z,
            text=text,
            texttemplate="%{text}" if len(xs) * len(ys) <= 400 else None,
            colorscale="RdYlGn",
            reversescale=lower_is_better,
            colorbar={"title": {"text": label}},
            hoverongaps=False,
            hovertemplate=f"{x} = %{{x}}<br>{y} = %{{y}}<br>{label} %{{text}}<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[value_label(best[x])],
            y=[value_label(best[y])],
            mode="markers",
            marker=_BEST_MARKER,
            name="Best point",
            hoverinfo="skip",
            showlegend=False,
        )
    )
    category = {"type": "category", "categoryorder": "array"}
    figure.update_layout(
        title=f"{label} by {x} and {y}" + _fixed_note(parameters, best, (x, y)),
        xaxis={"title": x, "categoryarray": x_labels, **category},
        yaxis={"title": y, "categoryarray": y_labels, **category},
    )
    return figure


def robustness_chart(
    results: pl.DataFrame,
    parameters: Sequence[str],
    best: Mapping[str, object],
    metric: str,
    *,
    label: str,
    columns: int = 3,
) -> go.Figure:
    """One panel per parameter: `metric` as that parameter varies, the others at the best point's
    values (line and markers, undefined values as gaps), the best point starred."""
    cols = min(columns, len(parameters))
    rows = math.ceil(len(parameters) / cols)
    figure = make_subplots(rows=rows, cols=cols, subplot_titles=list(parameters), horizontal_spacing=0.08)
    for index, name in enumerate(parameters):
        row, col = index // cols + 1, index % cols + 1
        frame = others_at_best(results, parameters, best, (name,)).sort(name)
        labels = [value_label(value) for value in frame[name]]
        values = [None if math.isnan(v := as_number(item)) else v for item in frame[metric]]
        figure.add_trace(
            go.Scatter(
                x=labels,
                y=values,
                mode="lines+markers",
                name=name,
                showlegend=False,
                line={"color": _OOS_COLOR},
                hovertemplate=f"{name} = %{{x}}<br>{label} %{{y:.3f}}<extra></extra>",
            ),
            row=row,
            col=col,
        )
        best_value = as_number(
            frame.filter(pl.col(name) == best[name])[metric].first() if frame.height else None
        )
        figure.add_trace(
            go.Scatter(
                x=[value_label(best[name])],
                y=[None if math.isnan(best_value) else best_value],
                mode="markers",
                marker=_BEST_MARKER,
                name="Best point",
                showlegend=False,
                hoverinfo="skip",
            ),
            row=row,
            col=col,
        )
        figure.update_xaxes(
            type="category", categoryorder="array", categoryarray=labels, title_text=name, row=row, col=col
        )
        figure.update_yaxes(title_text=label if col == 1 else None, row=row, col=col)
    figure.update_layout(
        title=f"{label} around the best point, one parameter at a time", height=120 + 300 * rows
    )
    return figure


def oos_equity_chart(
    oos_equity: pl.DataFrame,
    fold_parameters: Mapping[int, str] | None = None,
    *,
    max_points: int = MAX_OOS_POINTS,
    skip_closed_hours: bool = True,
) -> go.Figure:
    """The stitched out-of-sample equity, one colour per fold (named "Fold n" 1-based, with the
    parameters it traded when given), downsampled keeping extremes; the time axis skips closed hours."""
    folds = oos_equity.get_column("fold").unique(maintain_order=True).to_list()
    per_fold = max(4, max_points // max(1, len(folds)))
    traces = []
    for fold in folds:
        curve = oos_equity.filter(pl.col("fold") == fold).select("ts", "equity")
        name = f"Fold {int(fold) + 1}"
        if fold_parameters and fold in fold_parameters:
            name += f" ({fold_parameters[fold]})"
        traces.append(time_line(curve, "equity", name, per_fold))
    return equity_lines_figure(
        traces,
        oos_equity["ts"],
        title="Out-of-sample equity, folds stitched end to end",
        yaxis_title="Equity",
        skip_closed_hours=skip_closed_hours,
    )


def is_vs_oos_chart(folds: pl.DataFrame, *, label: str) -> go.Figure:
    """The selection metric per fold: in sample (the best point's) beside out of sample."""
    names = [f"Fold {int(fold) + 1}" for fold in folds["fold"]]
    hover = [str(value) for value in folds["parameters"]]
    figure = go.Figure(
        [
            _fold_bars(names, folds["is_metric"], "In sample", _IS_COLOR, hover),
            _fold_bars(names, folds["oos_metric"], "Out of sample", _OOS_COLOR, hover),
        ]
    )
    figure.update_layout(
        title=f"{label} in sample vs out of sample, per fold", barmode="group", yaxis_title=label
    )
    return figure


def _fold_bars(names: list[str], values: pl.Series, sample: str, color: str, hover: list[str]) -> go.Bar:
    """One bar per fold of the metric in one sample (in or out), each hover naming the fold's point."""
    return go.Bar(
        x=names,
        y=values.to_list(),
        name=sample,
        marker_color=color,
        customdata=hover,
        hovertemplate=f"%{{x}} {sample.lower()}<br>%{{customdata}}<br>%{{y:.3f}}<extra></extra>",
    )


def _fixed_note(parameters: Sequence[str], best: Mapping[str, object], free: Sequence[str]) -> str:
    fixed = [f"{name} = {value_label(best[name])}" for name in parameters if name not in free]
    return f"<br><sup>others at the best point: {', '.join(fixed)}</sup>" if fixed else ""
