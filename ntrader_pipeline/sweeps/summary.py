"""A stored sweep's headline: its best point and, when declared, the walk-forward's out-of-sample result."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ntrader_pipeline.sweeps.results import SUMMARY_JSON, results_directory
from ntrader_pipeline.sweeps.walk_forward import WALK_FORWARD_JSON


@dataclass(frozen=True)
class SweepSummary:
    sweep: str
    instrument_id: str
    metric: str
    points: int
    best_label: str
    best_value: float | None
    oos_value: float | None  # the stitched out-of-sample curve's value of `metric`; None without walk-forward
    mean_degradation: float | None  # out-of-sample minus in-sample `degradation_metric`, mean over folds
    deflated_sharpe: float | None
    pbo: float | None  # None when not computable, or undefined (`identical_trials`)
    degradation_metric: str | None = None  # the annualized metric the degradation compares
    identical_trials: bool = False  # every point's returns are the same: PBO is undefined


def read_sweep_summary(artifacts: Path, sweep: str, instrument_id: str) -> SweepSummary:
    directory = results_directory(artifacts, sweep, instrument_id)
    summary = json.loads((directory / SUMMARY_JSON).read_text())
    metric = summary["metric"]
    walk_forward = directory / WALK_FORWARD_JSON
    document = json.loads(walk_forward.read_text()) if walk_forward.exists() else {}
    overfitting = summary["overfitting"]
    return SweepSummary(
        sweep=summary["sweep"],
        instrument_id=summary["instrument_id"],
        metric=metric,
        points=summary["points"],
        best_label=summary["best_label"],
        best_value=summary["best"].get(metric),
        oos_value=document.get("oos_metrics", {}).get(metric),
        mean_degradation=document.get("mean_degradation"),
        deflated_sharpe=overfitting.get("deflated_sharpe_ratio"),
        pbo=overfitting.get("pbo"),
        degradation_metric=document.get("degradation_metric"),
        identical_trials=bool(overfitting.get("identical_trials", False)),
    )
