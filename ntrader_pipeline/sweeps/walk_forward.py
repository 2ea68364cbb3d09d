"""Walk-forward validation of a sweep: pick in sample, judge out of sample, stitch the judged runs.

Per fold (`sweeps.folds`): every point's in-sample metric is measured on its full-window run's session
closes over the fold's in-sample sessions (the value at the close before them as the start), and the
point with the highest one wins (undefined values never win; ties go to the earlier point). The winner
then runs afresh on the fold's out-of-sample bars alone, from flat and with the sweep's starting cash:
that run is its out-of-sample result, as trading the choice would have been. Degradation is the
out-of-sample metric minus the in-sample one. The stitched curve chains the out-of-sample runs, each
scaled to start where the previous one ended.
"""

from __future__ import annotations

import bisect
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl

from ntrader_pipeline.analytics.session_metrics import curve_metrics
from ntrader_pipeline.atomic_files import atomic_target, write_text_atomically
from ntrader_pipeline.backtest.run import BacktestInputs, run_strategy
from ntrader_pipeline.catalog.store import session_bounds_ns
from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE
from ntrader_pipeline.sweeps.declarations import SweepDeclaration
from ntrader_pipeline.sweeps.folds import Fold, walk_forward_folds
from ntrader_pipeline.sweeps.points import session_closes
from ntrader_pipeline.sweeps.results import PointCurves

FOLDS_PARQUET = "walk_forward_folds.parquet"
OOS_EQUITY_PARQUET = "walk_forward_equity.parquet"
WALK_FORWARD_JSON = "walk_forward.json"


@dataclass(frozen=True)
class WalkForwardResult:
    folds: pl.DataFrame
    oos_equity: pl.DataFrame
    oos_metrics: dict[str, float]
    mean_degradation: float


def run_walk_forward(
    sweep: SweepDeclaration, inputs: BacktestInputs, curves: PointCurves
) -> WalkForwardResult:
    """Folds over `inputs.sessions`, in-sample choice from `curves`, out-of-sample runs on `inputs`."""
    if sweep.walk_forward is None:
        raise ValueError(f"sweep {sweep.name} declares no walk_forward")
    wf = sweep.walk_forward
    metric = sweep.metric.value
    dates = [s.date for s in inputs.sessions]
    folds = walk_forward_folds(dates, wf.folds, wf.mode, wf.out_of_sample_sessions, wf.in_sample_sessions)
    curve_dates = curves.ts.dt.convert_time_zone(EXCHANGE_TIMEZONE).dt.date().to_list()
    bar_ts = [bar.ts_init for bar in inputs.bars]
    rows, pieces = [], []
    stitched_end = curves.starting_cash
    for fold in folds:
        scores = [_in_sample_metric(curves, curve_dates, j, fold, metric) for j in range(len(curves.points))]
        chosen = _best(scores)
        point = curves.points[chosen]
        oos_inputs = _inputs_between(inputs, bar_ts, fold)
        result = run_strategy(sweep.point_declaration(point), oos_inputs)
        daily = session_closes(result)
        oos_value = curve_metrics(daily["equity"].to_numpy(), result.starting_cash)[metric]
        scale = stitched_end / result.starting_cash
        piece = daily.select("ts", (pl.col("equity") * scale).alias("equity")).with_columns(
            fold=pl.lit(fold.index, pl.Int64)
        )
        stitched_end = float(piece["equity"][-1])
        pieces.append(piece)
        rows.append(
            {
                "fold": fold.index,
                "is_start": fold.in_sample[0],
                "is_end": fold.in_sample[1],
                "oos_start": fold.out_of_sample[0],
                "oos_end": fold.out_of_sample[1],
                "point": point.key,
                "parameters": point.label,
                "is_metric": scores[chosen],
                "oos_metric": oos_value,
                "degradation": oos_value - scores[chosen],
                "oos_return": float(daily["equity"][-1]) / result.starting_cash - 1.0,
            }
        )
    table = pl.DataFrame(rows)
    oos_equity = pl.concat(pieces)
    degradation = table["degradation"].fill_nan(None).drop_nulls()
    return WalkForwardResult(
        folds=table,
        oos_equity=oos_equity,
        oos_metrics=curve_metrics(oos_equity["equity"].to_numpy(), curves.starting_cash),
        mean_degradation=float(degradation.mean()) if degradation.len() else math.nan,
    )


def write_walk_forward(
    result: WalkForwardResult, directory: Path, sweep: SweepDeclaration
) -> dict[str, Path]:
    for name, frame in ((FOLDS_PARQUET, result.folds), (OOS_EQUITY_PARQUET, result.oos_equity)):
        with atomic_target(directory / name) as temp:
            frame.write_parquet(temp)
    document = {
        "mode": sweep.walk_forward.mode.value if sweep.walk_forward else None,
        "metric": sweep.metric.value,
        "oos_metrics": {k: _json_float(v) for k, v in result.oos_metrics.items()},
        "mean_degradation": _json_float(result.mean_degradation),
    }
    path = write_text_atomically(
        directory / WALK_FORWARD_JSON, json.dumps(document, indent=2, sort_keys=True) + "\n"
    )
    return {"folds": directory / FOLDS_PARQUET, "equity": directory / OOS_EQUITY_PARQUET, "summary": path}


def _in_sample_metric(curves: PointCurves, dates: list, column: int, fold: Fold, metric: str) -> float:
    first = bisect.bisect_left(dates, fold.in_sample[0])
    last = bisect.bisect_right(dates, fold.in_sample[1])
    if last <= first:
        return math.nan
    equity = curves.equity[:, column]
    start = float(equity[first - 1]) if first > 0 else curves.starting_cash
    return curve_metrics(equity[first:last], start)[metric]


def _best(scores: list[float]) -> int:
    """Index of the highest defined score; the first point when none is defined."""
    defined = np.array([s if math.isfinite(s) else -np.inf for s in scores])
    return int(np.argmax(defined)) if np.isfinite(defined).any() else 0


def _inputs_between(inputs: BacktestInputs, bar_ts: list[int], fold: Fold) -> BacktestInputs:
    """The inputs cut to the fold's out-of-sample sessions (bars are in time order)."""
    sessions = [s for s in inputs.sessions if fold.out_of_sample[0] <= s.date <= fold.out_of_sample[1]]
    if not sessions:
        raise ValueError(
            f"fold {fold.index}: no sessions between {fold.out_of_sample[0]} and {fold.out_of_sample[1]}"
        )
    start, _ = session_bounds_ns(sessions[0])
    _, end = session_bounds_ns(sessions[-1])
    first, last = bisect.bisect_left(bar_ts, start), bisect.bisect_right(bar_ts, end)
    if last <= first:
        raise ValueError(
            f"fold {fold.index}: no bars between {fold.out_of_sample[0]} and {fold.out_of_sample[1]}; "
            "shorten the out-of-sample blocks or widen the window"
        )
    return replace(inputs, bars=inputs.bars[first:last], sessions=sessions)


def _json_float(value: float) -> float | None:
    return value if math.isfinite(value) else None
