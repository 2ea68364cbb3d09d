"""The sweep report's data model: what a sweep hands the report, its checks, and the ranking of points.

Sharpe and Sortino ratios are annualized (x √252 on daily session returns) everywhere in the report, and
their labels say so; the overfitting statistics carry per-session values (what the formulas take) beside
the annualized ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from ntrader_pipeline.reports.comparison import LOWER_IS_BETTER, METRIC_LABELS, best_first
from ntrader_pipeline.reports.sweep_figures import value_label

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
    "compared",
    "is_compared",
    "oos_compared",
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
    is_metric, oos_metric (the selection metric), compared (the annualized metric the degradation
    compares), is_compared, oos_compared, degradation (= oos_compared - is_compared), oos_return, and
    optionally oos_fills. `oos_equity`: ts (UTC), equity, fold. `overfitting`: see
    `sweeps.results.overfitting_statistics` (None = not computable)."""

    mode: str
    metric: str
    folds: pl.DataFrame
    oos_equity: pl.DataFrame
    oos_metrics: Mapping[str, float | None]
    overfitting: Mapping[str, float | int | bool | None]

    @property
    def degradation_metric(self) -> str:
        compared = self.folds["compared"].drop_nulls()
        return str(compared[0]) if compared.len() else self.metric


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
            raise SweepReportError(
                f"walk-forward folds lack the column(s) {lacking}; rematerialize the sweep's walk-forward"
            )
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


def metric_label(name: str) -> tuple[str, str]:
    """(label, format kind) of a metric (`formatting.METRIC_ROWS`: annualized ratios say so)."""
    return METRIC_LABELS.get(name, (name, "ratio"))


def direction(metric: str) -> str:
    return "lower is better" if metric in LOWER_IS_BETTER else "higher is better"
