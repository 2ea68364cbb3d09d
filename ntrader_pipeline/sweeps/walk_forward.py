"""Walk-forward validation of a sweep: pick in sample, judge out of sample, stitch the judged runs.

Per fold (`sweeps.folds`): every point's in-sample metric is measured on its full-window run's session
closes over the fold's in-sample sessions (the value at the close before them as the start), and the
point with the highest one wins (undefined values never win; ties go to the earlier point).

The winner then runs out of sample, warmed up: the engine replays every bar of the window before the fold
with the strategy told not to trade before the fold's first session (`trade_from`, ns, a config field every
packaged strategy honours), then trades the fold. Indicators are therefore as warm at the fold's first bar
as the window allows (a 200-bar lookback trades from the first bar of a fold preceded by 200 bars), and the
fold's equity and metrics count from the fold's start only. Positions do not carry across folds: each
out-of-sample run starts flat with the sweep's starting cash, so a strategy whose entry is an event (a
crossover) waits for the next event in the fold, while one whose entry is a state (momentum above a
threshold) enters on the fold's first bar.

Degradation compares annualized metrics, so folds of different lengths compare like with like: the
selection metric when it is annualized (Sharpe, Sortino, CAGR), else CAGR (for total return, which grows
with the window's length, and Calmar, whose max drawdown deepens with it). Degradation = out-of-sample
minus in-sample value. The stitched curve chains the out-of-sample runs, each scaled to start where the
previous one ended.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl

from ntrader_pipeline.analytics.session_metrics import curve_metrics
from ntrader_pipeline.atomic_files import atomic_target, write_text_atomically
from ntrader_pipeline.backtest.result import BacktestResult
from ntrader_pipeline.backtest.run import BacktestInputs, run_strategy
from ntrader_pipeline.catalog.store import session_bounds_ns
from ntrader_pipeline.sweeps.declarations import SweepDeclaration, SweepPoint
from ntrader_pipeline.sweeps.folds import Fold, walk_forward_folds
from ntrader_pipeline.sweeps.results import PointCurves

FOLDS_PARQUET = "walk_forward_folds.parquet"
OOS_EQUITY_PARQUET = "walk_forward_equity.parquet"
WALK_FORWARD_JSON = "walk_forward.json"
TRADE_FROM_FIELD = "trade_from"
# Metrics that scale with the window's length, and the annualized one degradation compares instead.
ANNUALIZED_COUNTERPART: dict[str, str] = {"total_return": "cagr", "calmar": "cagr"}


class WalkForwardError(ValueError):
    """The walk-forward cannot run as declared (a strategy that cannot be warmed up, a fold without bars)."""


@dataclass(frozen=True)
class WalkForwardResult:
    folds: pl.DataFrame
    oos_equity: pl.DataFrame
    oos_metrics: dict[str, float]
    mean_degradation: float
    degradation_metric: str


def degradation_metric(metric: str) -> str:
    """The annualized metric a fold's degradation compares for selection metric `metric`."""
    return ANNUALIZED_COUNTERPART.get(metric, metric)


def fold_degradation(
    metric: str, in_sample: Mapping[str, float], out_of_sample: Mapping[str, float]
) -> tuple[float, float, float]:
    """(in-sample value, out-of-sample value, degradation = OOS - IS) of `degradation_metric(metric)`,
    from two `curve_metrics` results."""
    compared = degradation_metric(metric)
    before, after = in_sample[compared], out_of_sample[compared]
    return before, after, after - before


def run_walk_forward(
    sweep: SweepDeclaration, inputs: BacktestInputs, curves: PointCurves
) -> WalkForwardResult:
    """Folds over `inputs.sessions`, in-sample choice from `curves`, warmed out-of-sample runs on `inputs`."""
    if sweep.walk_forward is None:
        raise ValueError(f"sweep {sweep.name} declares no walk_forward")
    wf = sweep.walk_forward
    metric = sweep.metric.value
    dates = [s.date for s in inputs.sessions]
    folds = walk_forward_folds(dates, wf.folds, wf.mode, wf.out_of_sample_sessions, wf.in_sample_sessions)
    curve_dates = _session_dates(curves.ts.dt.epoch("ns").to_list(), inputs)
    rows, pieces = [], []
    stitched_end = curves.starting_cash
    for fold in folds:
        scores = [_in_sample_metrics(curves, curve_dates, j, fold) for j in range(len(curves.points))]
        chosen = _best([score[metric] for score in scores])
        point = curves.points[chosen]
        daily, starting_cash = warmed_out_of_sample_run(sweep, point, inputs, fold)
        oos = curve_metrics(daily["equity"].to_numpy(), starting_cash)
        is_value, oos_value, degradation = fold_degradation(metric, scores[chosen], oos)
        scale = stitched_end / starting_cash
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
                "is_metric": scores[chosen][metric],
                "oos_metric": oos[metric],
                "compared": degradation_metric(metric),
                "is_compared": is_value,
                "oos_compared": oos_value,
                "degradation": degradation,
                "oos_return": float(daily["equity"][-1]) / starting_cash - 1.0,
                "oos_fills": int(daily["fills"].sum()),
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
        degradation_metric=degradation_metric(metric),
    )


def warmed_out_of_sample_run(
    sweep: SweepDeclaration, point: SweepPoint, inputs: BacktestInputs, fold: Fold
) -> tuple[pl.DataFrame, float]:
    """Run `point` on every bar of the window up to the fold's end, trading only from the fold's first
    session; the fold's session closes (ts, equity, fills that session) and its starting cash."""
    declaration = sweep.point_declaration(point)
    classes = declaration.strategy_classes()
    if TRADE_FROM_FIELD not in classes.fields:
        raise WalkForwardError(
            f"sweep {sweep.name}: strategy {classes.strategy_path} cannot be warmed up out of sample: its "
            f"config {classes.config_path} has no `{TRADE_FROM_FIELD}` field. Derive the config from "
            "ntrader_pipeline.strategies.long_only.LongOnlyConfig (and the strategy from LongOnlyStrategy), "
            f"or add `{TRADE_FROM_FIELD}: int | None = None` and place no order on a bar before it"
        )
    trade_from, warm = _warm_inputs(inputs, fold)
    parameters = {**declaration.parameters, TRADE_FROM_FIELD: trade_from}
    result = run_strategy(declaration.model_copy(update={"parameters": parameters}), warm)
    early = result.fills.filter(pl.col("ts").dt.epoch("ns") < trade_from)
    if early.height:
        raise WalkForwardError(
            f"sweep {sweep.name}, fold {fold.index}: strategy {classes.strategy_path} traded at "
            f"{early['ts'][0]}, before its `{TRADE_FROM_FIELD}` ({fold.out_of_sample[0]}); it must place "
            "no order on a bar before that time"
        )
    return _fold_session_closes(result, trade_from), result.starting_cash


def _warm_inputs(inputs: BacktestInputs, fold: Fold) -> tuple[int, BacktestInputs]:
    """The fold's start (ns) and the inputs cut to every bar up to the fold's end (bars in time order)."""
    sessions = [s for s in inputs.sessions if s.date <= fold.out_of_sample[1]]
    in_fold = [s for s in sessions if s.date >= fold.out_of_sample[0]]
    if not in_fold:
        raise WalkForwardError(
            f"fold {fold.index}: no sessions between {fold.out_of_sample[0]} and {fold.out_of_sample[1]}"
        )
    start, _ = session_bounds_ns(in_fold[0])
    _, end = session_bounds_ns(in_fold[-1])
    bar_ts = [bar.ts_init for bar in inputs.bars]
    first, last = bisect.bisect_left(bar_ts, start), bisect.bisect_right(bar_ts, end)
    if last <= first:
        raise WalkForwardError(
            f"fold {fold.index}: no bars between {fold.out_of_sample[0]} and {fold.out_of_sample[1]}; "
            "shorten the out-of-sample blocks or widen the window"
        )
    return start, replace(inputs, bars=inputs.bars[:last], sessions=sessions)


def _fold_session_closes(result: BacktestResult, trade_from: int) -> pl.DataFrame:
    """ts and equity at the last bar of each session from `trade_from` on, and that session's fills."""
    equity = result.equity.filter(pl.col("ts").dt.epoch("ns") >= trade_from)
    session = pl.col("ts").dt.convert_time_zone("UTC").dt.date().alias("session")
    closes = equity.group_by(session, maintain_order=True).agg(pl.col("ts").last(), pl.col("equity").last())
    fills = result.fills.group_by(session).agg(pl.len().alias("fills"))
    return (
        closes.join(fills, on="session", how="left")
        .select("ts", "equity", pl.col("fills").fill_null(0).cast(pl.Int64))
        .sort("ts")
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
        "degradation_metric": result.degradation_metric,
        "oos_metrics": {k: _json_float(v) for k, v in result.oos_metrics.items()},
        "mean_degradation": _json_float(result.mean_degradation),
    }
    path = write_text_atomically(
        directory / WALK_FORWARD_JSON, json.dumps(document, indent=2, sort_keys=True) + "\n"
    )
    return {"folds": directory / FOLDS_PARQUET, "equity": directory / OOS_EQUITY_PARQUET, "summary": path}


def _session_dates(ts_ns: list[int], inputs: BacktestInputs) -> list:
    """The session date of each timestamp: the session whose UTC day holds it (`session_bounds_ns`), so a
    daily bar stamped 00:00 UTC belongs to its own session, not to the New York date before."""
    starts = [session_bounds_ns(s)[0] for s in inputs.sessions]
    return [inputs.sessions[max(bisect.bisect_right(starts, ts) - 1, 0)].date for ts in ts_ns]


def _in_sample_metrics(curves: PointCurves, dates: list, column: int, fold: Fold) -> dict[str, float]:
    first = bisect.bisect_left(dates, fold.in_sample[0])
    last = bisect.bisect_right(dates, fold.in_sample[1])
    equity = curves.equity[:, column]
    if last <= first:
        return curve_metrics(equity[:0], curves.starting_cash)
    start = float(equity[first - 1]) if first > 0 else curves.starting_cash
    return curve_metrics(equity[first:last], start)


def _best(scores: list[float]) -> int:
    """Index of the highest defined score; the first point when none is defined."""
    defined = np.array([s if math.isfinite(s) else -np.inf for s in scores])
    return int(np.argmax(defined)) if np.isfinite(defined).any() else 0


def _json_float(value: float) -> float | None:
    return value if math.isfinite(value) else None
