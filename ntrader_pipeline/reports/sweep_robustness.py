"""Robustness of a sweep's best point: its metric against its grid neighbours' ("plateau or spike")."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from ntrader_pipeline.reports.comparison import LOWER_IS_BETTER, as_number
from ntrader_pipeline.reports.sweep_figures import axis_values
from ntrader_pipeline.reports.sweep_model import SweepReportInputs


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
