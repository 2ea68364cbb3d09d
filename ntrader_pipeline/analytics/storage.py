"""Metrics on disk beside a backtest's frames: `metrics.json` (for people and tools) and Parquet (exact).

metrics.json is strict JSON (RFC 8259 has no NaN or Infinity): an undefined ratio (NaN) and an unbounded
one (±inf, e.g. profit factor with no losing trade) are both written as null, and read back as NaN.
`metrics.parquet` keeps NaN and ±inf exactly; `load_metrics` reads it. The worst drawdowns are in
`drawdowns.parquet` and, as a list of rows, under the `worst_drawdowns` key of metrics.json.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import polars as pl

from ntrader_pipeline.analytics.drawdowns import DRAWDOWN_SCHEMA
from ntrader_pipeline.analytics.metrics import PerformanceMetrics
from ntrader_pipeline.atomic_files import atomic_target, write_text_atomically

METRICS_JSON = "metrics.json"
METRICS_PARQUET = "metrics.parquet"
DRAWDOWNS_PARQUET = "drawdowns.parquet"


def save_metrics(metrics: PerformanceMetrics, drawdowns: pl.DataFrame, directory: Path) -> dict[str, Path]:
    """Write the three files atomically (each replaces its previous version); returns them by name."""
    directory = Path(directory)
    values = metrics.as_dict()
    rows = [
        {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in row.items()}
        for row in drawdowns.to_dicts()
    ]  # same ISO form as the metrics' own timestamps
    document = {k: _json_safe(v) for k, v in values.items()} | {
        "worst_drawdowns": [{k: _json_safe(v) for k, v in row.items()} for row in rows]
    }
    paths = {
        METRICS_JSON: write_text_atomically(
            directory / METRICS_JSON, json.dumps(document, indent=2, sort_keys=True, allow_nan=False) + "\n"
        )
    }
    for name, frame in ((METRICS_PARQUET, _metrics_frame(values)), (DRAWDOWNS_PARQUET, drawdowns)):
        with atomic_target(directory / name) as temp:
            frame.write_parquet(temp)
        paths[name] = directory / name
    return paths


def load_metrics(directory: Path) -> tuple[PerformanceMetrics, pl.DataFrame]:
    """Metrics (exact, from Parquet) and the worst-drawdowns table saved by `save_metrics`."""
    directory = Path(directory)
    path = directory / METRICS_PARQUET
    if not path.exists():
        raise FileNotFoundError(f"metrics file {path} is missing; materialize the metrics asset first")
    metrics = PerformanceMetrics.from_dict(pl.read_parquet(path).row(0, named=True))
    drawdowns_path = directory / DRAWDOWNS_PARQUET
    drawdowns = (
        pl.read_parquet(drawdowns_path) if drawdowns_path.exists() else pl.DataFrame(schema=DRAWDOWN_SCHEMA)
    )
    return metrics, drawdowns


def _metrics_frame(values: dict[str, float | int | str | None]) -> pl.DataFrame:
    """One row; string columns for timestamps (ISO, lossless through `from_dict`), typed even when None."""
    schema = {name: _column_type(value) for name, value in values.items()}
    return pl.DataFrame([values], schema=schema, orient="row")


def _column_type(value: object) -> type[pl.DataType]:
    if value is None or isinstance(value, str):
        return pl.String
    return pl.Int64 if type(value) is int else pl.Float64


def _json_safe(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
