"""One sweep point: the point's backtest on inputs already read, its metrics and its session-close curve.

A point stores what the results table, the walk-forward and the overfitting statistics need, not a full
backtest's artefacts: `point.json` (parameters, metrics, versions) and `daily.parquet` (equity and position
at each session's last bar). Layout: `<artifacts>/sweeps/<sweep>/<instrument>/points/<key>/`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ntrader_pipeline.analytics.curves import session_last_rows
from ntrader_pipeline.analytics.metrics import PerformanceMetrics, compute_metrics
from ntrader_pipeline.atomic_files import atomic_target, write_text_atomically
from ntrader_pipeline.backtest.result import BacktestResult
from ntrader_pipeline.backtest.run import (
    BacktestInputs,
    declared_code_version,
    effective_config,
    run_strategy,
)
from ntrader_pipeline.backtest.versions import config_hash
from ntrader_pipeline.sweeps.declarations import SweepDeclaration, SweepPoint

POINT_JSON = "point.json"
DAILY_PARQUET = "daily.parquet"
SWEEPS_DIR = "sweeps"


def sweep_directory(artifacts: Path, sweep: str, instrument_id: str) -> Path:
    return Path(artifacts) / SWEEPS_DIR / sweep / instrument_id


def point_directory(artifacts: Path, sweep: str, instrument_id: str, key: str) -> Path:
    return sweep_directory(artifacts, sweep, instrument_id) / "points" / key


@dataclass(frozen=True)
class PointRun:
    point: SweepPoint
    metrics: PerformanceMetrics
    daily: pl.DataFrame
    config_hash: str
    code_version: str
    data_version: str
    directory: Path


def run_point(
    sweep: SweepDeclaration, point: SweepPoint, inputs: BacktestInputs, artifacts: Path
) -> PointRun:
    """Run `point` of `sweep` on `inputs` (one instrument's gated bars) and write its files."""
    declaration = sweep.point_declaration(point)
    result = run_strategy(declaration, inputs)
    metrics = compute_metrics(result.equity, result.trades, result.fills, result.starting_cash)
    run = PointRun(
        point=point,
        metrics=metrics,
        daily=session_closes(result),
        config_hash=config_hash(effective_config(declaration, inputs.instrument_id)),
        code_version=declared_code_version(declaration),
        data_version=inputs.data_version,
        directory=point_directory(artifacts, sweep.name, inputs.instrument_id, point.key),
    )
    document = {
        "sweep": sweep.name,
        "point": point.key,
        "parameters": point.parameters,
        "instrument_id": inputs.instrument_id,
        "starting_cash": result.starting_cash,
        "metrics": {k: _json_safe(v) for k, v in metrics.as_dict().items()},
        "config_hash": run.config_hash,
        "code_version": run.code_version,
        "data_version": run.data_version,
    }
    write_text_atomically(run.directory / POINT_JSON, json.dumps(document, indent=2, sort_keys=True) + "\n")
    with atomic_target(run.directory / DAILY_PARQUET) as temp:
        run.daily.write_parquet(temp)
    return run


def session_closes(result: BacktestResult) -> pl.DataFrame:
    """ts, equity and position at each session's last bar (what daily returns are computed from)."""
    _, last_rows = session_last_rows(result.equity["ts"])
    return result.equity[last_rows].select("ts", "equity", "position_qty")


def read_point(directory: Path) -> tuple[dict, pl.DataFrame]:
    """A stored point's document and session-close curve; FileNotFoundError names what to materialize."""
    document_path = directory / POINT_JSON
    if not document_path.exists():
        raise FileNotFoundError(f"sweep point {directory.name} has no results at {directory}")
    return json.loads(document_path.read_text()), pl.read_parquet(directory / DAILY_PARQUET)


def _json_safe(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
