"""Declared sweeps: the `sweeps:` mapping of the backtests file → models and their points.

A sweep is a backtest declaration whose strategy parameters vary over a grid: each parameter is a list of
values or an inclusive range `{start, stop, step}`; the points are the grid's cartesian product in the
order the parameters are written, optionally a seeded random sample of it. Each point keeps its grid
index as its key (`p007`), so sampling again with the same grid and seed gives the same points and keys.
Every point's config is built at load, so a bad combination (e.g. fast_period ≥ slow_period) fails the
load naming the sweep, the point and the field.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from ntrader_pipeline.backtest.declarations import BacktestDeclaration, FieldError, checked_entry
from ntrader_pipeline.backtest.versions import config_hash
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline.markets.universe import Universe
from ntrader_pipeline.strategies.registry import StrategyLookupError
from ntrader_pipeline.sweeps.folds import WalkForwardMode, walk_forward_folds
from ntrader_pipeline.yaml_files import read_yaml

# Each point is an asset in the code location: past a few hundred the UI and the load slow down.
MAX_POINTS = 200
Scalar = bool | int | float | str


class SweepDeclarationError(ValueError):
    """A sweep declaration that is invalid (the message names file, sweep and field)."""


class SweepMetric(StrEnum):
    """What picks the best point: equity-curve metrics where higher is better."""

    SHARPE = "sharpe"
    SORTINO = "sortino"
    TOTAL_RETURN = "total_return"
    CAGR = "cagr"
    CALMAR = "calmar"


class ParameterRange(BaseModel):
    """Inclusive range: start, start+step, ... up to stop (decimal steps, so 0.1 steps stay exact)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: int | float
    stop: int | float
    step: int | float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> ParameterRange:
        if self.start > self.stop:
            raise ValueError(f"start {self.start} is after stop {self.stop}")
        return self

    def values(self) -> list[int | float]:
        start, stop, step = (Decimal(str(v)) for v in (self.start, self.stop, self.step))
        count = int((stop - start) / step) + 1
        as_int = all(isinstance(v, int) for v in (self.start, self.stop, self.step))
        return [int(start + i * step) if as_int else float(start + i * step) for i in range(count)]


class Sample(BaseModel):
    """Run `size` points drawn without replacement from the grid with `seed`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    size: PositiveInt
    seed: int = 0


class WalkForward(BaseModel):
    """Folds over the window: in-sample picks the best point by the sweep's metric, out of sample judges it.

    `out_of_sample_sessions` defaults to sessions // (folds + 3); `in_sample_sessions` to everything before
    the first out-of-sample block (see `sweeps.folds`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: WalkForwardMode = WalkForwardMode.ROLLING
    folds: PositiveInt = 3
    in_sample_sessions: PositiveInt | None = None
    out_of_sample_sessions: PositiveInt | None = None


@dataclass(frozen=True)
class SweepPoint:
    index: int
    parameters: dict[str, Scalar]

    @property
    def key(self) -> str:
        return f"p{self.index:03d}"

    @property
    def label(self) -> str:
        return ", ".join(f"{name}={value}" for name, value in self.parameters.items())


class SweepDeclaration(BacktestDeclaration):
    """A backtest declaration plus a parameter grid; `parameters` holds what stays fixed."""

    grid: dict[str, list[Scalar] | ParameterRange] = Field(min_length=1)
    sample: Sample | None = None
    metric: SweepMetric = SweepMetric.SHARPE
    walk_forward: WalkForward | None = None

    @model_validator(mode="after")
    def _grid_is_usable(self) -> SweepDeclaration:
        for name, values in self.grid.items():
            if name in self.parameters:
                raise ValueError(f"grid.{name} is also a fixed parameter; keep it in one place")
            if isinstance(values, list) and not values:
                raise ValueError(f"grid.{name} has no values")
        total = self.grid_size
        if self.sample is not None and self.sample.size > total:
            raise ValueError(f"sample.size {self.sample.size} is larger than the grid's {total} points")
        if (self.sample.size if self.sample is not None else total) > MAX_POINTS:
            raise ValueError(
                f"the grid has {total} points, more than {MAX_POINTS}; add sample: {{size: N, seed: S}} "
                "or coarsen the ranges"
            )
        return self

    @property
    def grid_values(self) -> dict[str, list[Scalar]]:
        return {
            name: values.values() if isinstance(values, ParameterRange) else list(values)
            for name, values in self.grid.items()
        }

    @property
    def grid_size(self) -> int:
        size = 1
        for values in self.grid_values.values():
            size *= len(values)
        return size

    def points(self) -> list[SweepPoint]:
        """The grid in order (or its seeded sample, kept in grid order), each with its grid index."""
        grid = self.grid_values
        indices: list[int] = list(range(self.grid_size))
        if self.sample is not None:
            indices = sorted(random.Random(self.sample.seed).sample(indices, self.sample.size))
        return [SweepPoint(i, _grid_point(grid, i)) for i in indices]

    def point(self, key: str) -> SweepPoint:
        for point in self.points():
            if point.key == key:
                return point
        raise KeyError(f"sweep {self.name} has no point {key}")

    def point_declaration(self, point: SweepPoint) -> BacktestDeclaration:
        """The plain backtest one point runs: the sweep's fields with the point's parameters."""
        values = self.model_dump(exclude={"grid", "sample", "metric", "walk_forward", "name", "parameters"})
        return BacktestDeclaration.model_validate(
            {
                **values,
                "name": f"{self.name}_{point.key}",
                "parameters": {**self.parameters, **point.parameters},
            }
        )

    def sweep_hash(self, instrument_id: str) -> str:
        """Covers everything that decides the results table: grid, sample seed, window, costs, metric..."""
        return config_hash(
            {**self.model_dump(mode="json", exclude={"instruments"}), "instrument_id": instrument_id}
        )

    def check(self, universe: Universe) -> None:
        """Everything a backtest declaration checks, for every point; then the walk-forward folds fit."""
        for point in self.points():
            try:
                declaration = self.point_declaration(point)
                declaration.check(universe)
                # Building the strategy runs its own checks (e.g. SmaCross: fast_period < slow_period).
                classes = declaration.strategy_classes()
                classes.build(declaration.strategy_values(classes, self.instruments[0]))
            except FieldError as exc:
                # A parameter problem is a grid problem here (the fixed ones are checked alike).
                name = exc.field.removeprefix("parameters.")
                field = f"grid.{name}" if name in self.grid else "grid" if name == "parameters" else exc.field
                raise FieldError(field, f"point {point.key} ({point.label}): {exc}") from exc
            except (StrategyLookupError, ValueError) as exc:
                raise FieldError("grid", f"point {point.key} ({point.label}): {exc}") from exc
        if self.walk_forward is not None:
            classes = self.point_declaration(self.points()[0]).strategy_classes()
            if "trade_from" not in classes.fields:
                raise FieldError(
                    "walk_forward",
                    f"strategy {classes.strategy_path} cannot be warmed up out of sample: its config "
                    f"{classes.config_path} has no `trade_from` field (bars before it warm the strategy up "
                    "without trading); derive it from ntrader_pipeline.strategies.long_only.LongOnlyConfig "
                    "or add `trade_from: int | None = None` and honour it",
                )
            wf = self.walk_forward
            dates = [s.date for s in sessions_between(self.window.start, self.window.end)]
            try:
                walk_forward_folds(dates, wf.folds, wf.mode, wf.out_of_sample_sessions, wf.in_sample_sessions)
            except ValueError as exc:
                raise FieldError("walk_forward", str(exc)) from exc


def _grid_point(grid: Mapping[str, list[Scalar]], index: int) -> dict[str, Scalar]:
    """The `index`-th combination of the grid's cartesian product (last parameter varies fastest)."""
    values: dict[str, Scalar] = {}
    for name in reversed(list(grid)):
        index, position = divmod(index, len(grid[name]))
        values[name] = grid[name][position]
    return {name: values[name] for name in grid}


def load_sweeps(
    path: Path | str, universe: Universe, backtest_names: set[str] | None = None
) -> list[SweepDeclaration]:
    """The `sweeps:` mapping of the backtests file (absent: no sweeps); the first problem raises."""
    path = Path(path)
    raw = read_yaml(path, "backtests file", "NTRADER_BACKTESTS", SweepDeclarationError)
    entries = raw.get("sweeps") if isinstance(raw, dict) else None
    if entries is None:
        return []
    if not isinstance(entries, dict):
        raise SweepDeclarationError(f"backtests file {path}: 'sweeps' must be a mapping of name → sweep")
    return [
        _sweep(path, str(name), entry, universe, backtest_names or set()) for name, entry in entries.items()
    ]


def _sweep(
    path: Path, name: str, entry: object, universe: Universe, backtest_names: set[str]
) -> SweepDeclaration:
    where = f"backtests file {path}, sweep {name!r}"
    if not isinstance(entry, Mapping):
        raise SweepDeclarationError(f"{where}: must be a mapping of fields, got {entry!r}")
    if name in backtest_names:
        raise SweepDeclarationError(f"{where}: a backtest has the same name; rename the sweep")
    values = {**entry, "name": name}
    return checked_entry(
        SweepDeclaration.model_validate, values, universe, where, "(sweep)", error=SweepDeclarationError
    )
