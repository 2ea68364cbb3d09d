"""The sweep's results: every point's metrics in one table, its hash, and the overfitting statistics.

The table has one row per point in grid order: `point`, one column per grid parameter, then the metrics
of `RESULT_METRICS` (null = undefined, e.g. Sharpe of a flat curve). Its hash is a SHA-256 of the rows as
canonical JSON, so the same sweep on the same bars gives the same hash on any executor. All points must
have run on the same catalog data: a point left from older bars fails the table, naming it.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from ntrader_pipeline.analytics.overfitting import (
    deflated_sharpe_ratio,
    effective_trials,
    probability_of_backtest_overfitting,
    suggest_splits,
)
from ntrader_pipeline.analytics.session_metrics import session_returns
from ntrader_pipeline.atomic_files import atomic_target, write_text_atomically
from ntrader_pipeline.backtest.versions import canonical_json
from ntrader_pipeline.reports.sweep import SWEEP_METRICS
from ntrader_pipeline.sweeps.declarations import SweepDeclaration, SweepPoint
from ntrader_pipeline.sweeps.points import point_directory, read_point, sweep_directory

# The metrics of each point the table keeps: those the sweep report shows.
RESULT_METRICS = SWEEP_METRICS
RESULTS_PARQUET = "results.parquet"
SUMMARY_JSON = "summary.json"


class SweepResultsError(ValueError):
    """Points missing or run on different data: the message names them and what to materialize."""


@dataclass(frozen=True)
class PointCurves:
    """Every point's session-close equity on the same sessions: columns in point order."""

    points: list[SweepPoint]
    ts: pl.Series
    equity: np.ndarray  # sessions x points
    starting_cash: float

    def returns(self) -> np.ndarray:
        return np.column_stack(
            [session_returns(self.equity[:, j], self.starting_cash) for j in range(len(self.points))]
        )


@dataclass(frozen=True)
class SweepResults:
    table: pl.DataFrame
    results_hash: str
    best: dict[str, object]
    data_version: str
    overfitting: dict[str, float | int | bool | None]


def collect_results(
    sweep: SweepDeclaration, instrument_id: str, artifacts: Path, asset_hint: str
) -> tuple[SweepResults, PointCurves]:
    """Read every point of `sweep` for `instrument_id`, check they ran on the same data, table them."""
    points = sweep.points()
    documents, curves, missing = [], [], []
    for point in points:
        try:
            document, daily = read_point(point_directory(artifacts, sweep.name, instrument_id, point.key))
        except FileNotFoundError:
            missing.append(point.key)
            continue
        documents.append(document)
        curves.append(daily)
    if missing:
        raise SweepResultsError(
            f"sweep {sweep.name} on {instrument_id}: points {', '.join(missing)} have not run; "
            f"materialize {asset_hint} for partition {instrument_id} (the whole sweep job runs them all)"
        )
    versions = {d["data_version"] for d in documents}
    if len(versions) > 1:
        newest = documents[-1]["data_version"]
        stale = [d["point"] for d in documents if d["data_version"] != newest]
        raise SweepResultsError(
            f"sweep {sweep.name} on {instrument_id}: points {', '.join(stale)} ran on other catalog data "
            f"than the rest ({len(versions)} data versions); rematerialize the sweep's stale points"
        )
    table = results_table(sweep, documents)
    curve = PointCurves(points, curves[0]["ts"], _equity_matrix(sweep, curves), documents[0]["starting_cash"])
    return (
        SweepResults(
            table=table,
            results_hash=results_hash(table),
            best=best_row(table, sweep.metric.value),
            data_version=versions.pop(),
            overfitting=overfitting_statistics(table, curve, sweep.metric.value),
        ),
        curve,
    )


def results_table(sweep: SweepDeclaration, documents: list[dict]) -> pl.DataFrame:
    rows = [
        {
            "point": d["point"],
            **d["parameters"],
            **{m: d["metrics"].get(m) for m in RESULT_METRICS},
        }
        for d in documents
    ]
    schema = {"point": pl.String} | {m: pl.Float64 for m in RESULT_METRICS} | {"trade_count": pl.Int64}
    return pl.DataFrame(rows, infer_schema_length=None).cast(schema)


def results_hash(table: pl.DataFrame) -> str:
    """SHA-256 of the rows (sorted by point) as canonical JSON: NaN and inf as text, floats exact."""
    rows = table.sort("point").to_dicts()
    cleaned = [{k: _hashable(v) for k, v in row.items()} for row in rows]
    return hashlib.sha256(canonical_json(cleaned).encode()).hexdigest()


def best_row(table: pl.DataFrame, metric: str) -> dict[str, object]:
    """The row with the highest `metric` (undefined values never win; ties: the earlier point)."""
    values = table[metric].fill_nan(None)
    if values.null_count() == table.height:
        return table.row(0, named=True)
    return table.row(int(values.arg_max()), named=True)


SESSIONS_PER_YEAR = 252  # annualizes the per-session Sharpe ratios, as every report's metrics do
OVERFITTING_KEYS: tuple[str, ...] = (
    "deflated_sharpe_ratio",
    "probabilistic_sharpe_ratio",
    "observed_sharpe",
    "observed_sharpe_annualized",
    "expected_max_sharpe",
    "expected_max_sharpe_annualized",
    "dsr_trials",
    "effective_trials",
    "average_correlation",
    "pbo",
    "pbo_combinations",
    "probability_of_loss",
    "degradation_slope",
)


def overfitting_statistics(
    table: pl.DataFrame, curves: PointCurves, metric: str
) -> dict[str, float | int | bool | None]:
    """The deflated Sharpe ratio of the best point among all trials, and the CSCV probability of backtest
    overfitting over the points' daily returns (`analytics.overfitting`); None when not computable (fewer
    than two points, or too few sessions).

    Sharpe ratios come per session (what the formulas take) and annualized (x √252, as the report's other
    Sharpe ratios). The DSR counts the trials that trade (a point whose equity never moves is no try) and
    uses the effective number of independent trials N̂ = r̄ + (1 - r̄)·M of those when it is smaller.
    PBO is None with `identical_trials` True when every point's returns are the same."""
    returns = curves.returns()
    stats: dict[str, float | int | bool | None] = dict.fromkeys(OVERFITTING_KEYS)
    traded = np.ptp(returns, axis=0) > 0.0 if returns.shape[0] else np.zeros(returns.shape[1], bool)
    stats |= {
        "trials": returns.shape[1],
        "trials_traded": int(traded.sum()),
        "periods_per_year": SESSIONS_PER_YEAR,
        "identical_trials": False,
    }
    best = table["point"].to_list().index(best_row(table, metric)["point"])
    stats |= _deflated_sharpe(returns, traded, best)
    try:
        overfit = probability_of_backtest_overfitting(returns, suggest_splits(returns.shape[0]))
        identical = math.isnan(overfit.pbo)
        stats |= {
            "pbo": None if identical else overfit.pbo,
            "identical_trials": identical,
            "pbo_combinations": overfit.combinations,
            "probability_of_loss": overfit.probability_of_loss,
            "degradation_slope": _finite_or_none(overfit.performance_degradation.slope),
        }
    except ValueError:
        pass  # fewer than two points or too few sessions for a split
    return stats


def _deflated_sharpe(returns: np.ndarray, traded: np.ndarray, best: int) -> dict[str, float | None]:
    """DSR ingredients over the trials that trade, N = min(traded trials, effective trials)."""
    if not traded[best] or returns.shape[0] < 3:
        return {}  # a flat best curve: no Sharpe to deflate
    columns = returns[:, traded]
    effective = effective_trials(columns)
    trials = min(float(columns.shape[1]), effective.effective)
    trial_sharpes = [_period_sharpe(columns[:, j]) for j in range(columns.shape[1])]
    try:
        deflated = deflated_sharpe_ratio(returns[:, best], trial_sharpes, trials=trials)
    except ValueError:
        return {}
    annualizer = math.sqrt(SESSIONS_PER_YEAR)
    return {
        "deflated_sharpe_ratio": deflated.dsr,
        "probabilistic_sharpe_ratio": deflated.probabilistic_sharpe,
        "observed_sharpe": deflated.observed_sharpe,
        "observed_sharpe_annualized": deflated.observed_sharpe * annualizer,
        "expected_max_sharpe": deflated.expected_max_sharpe,
        "expected_max_sharpe_annualized": deflated.expected_max_sharpe * annualizer,
        "dsr_trials": trials,
        "effective_trials": effective.effective,
        "average_correlation": _finite_or_none(effective.average_correlation),
    }


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def write_results(
    results: SweepResults, sweep: SweepDeclaration, instrument_id: str, directory: Path
) -> dict[str, Path]:
    with atomic_target(directory / RESULTS_PARQUET) as temp:
        results.table.write_parquet(temp)
    best = sweep.point(str(results.best["point"]))
    summary = {
        "sweep": sweep.name,
        "instrument_id": instrument_id,
        "metric": sweep.metric.value,
        "points": results.table.height,
        "best_label": best.label,
        "results_hash": results.results_hash,
        "sweep_hash": sweep.sweep_hash(instrument_id),
        "data_version": results.data_version,
        "best": {k: _hashable(v) for k, v in results.best.items()},
        "overfitting": {k: _hashable(v) for k, v in results.overfitting.items()},
    }
    write_text_atomically(directory / SUMMARY_JSON, json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return {"results": directory / RESULTS_PARQUET, "summary": directory / SUMMARY_JSON}


def results_directory(artifacts: Path, sweep: str, instrument_id: str) -> Path:
    return sweep_directory(artifacts, sweep, instrument_id)


def _equity_matrix(sweep: SweepDeclaration, curves: list[pl.DataFrame]) -> np.ndarray:
    first = curves[0]["ts"]
    for daily in curves[1:]:
        if not daily["ts"].equals(first):
            raise SweepResultsError(
                f"sweep {sweep.name}: points have different sessions; rematerialize the whole sweep"
            )
    return np.column_stack([daily["equity"].to_numpy() for daily in curves])


def _period_sharpe(returns: np.ndarray) -> float:
    std = float(np.std(returns, ddof=1)) if returns.size > 1 else 0.0
    return float(np.mean(returns)) / std if std > 0 else 0.0


def _hashable(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value
