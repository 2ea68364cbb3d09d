"""Declared backtests: the committed YAML file (`data/backtests.yaml`, or `NTRADER_BACKTESTS`) → models.

Every declaration is checked when the code location loads: the strategy imports, its config accepts the
parameters, the instruments are in the universe, the bar spec parses, the window has sessions. A bad one
fails the load with the file, the backtest and the field named.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    ValidationError,
    field_validator,
    model_validator,
)

from ntrader_pipeline.adjustments.modes import Adjustment
from ntrader_pipeline.backtest.costs import Costs, RiskCaps
from ntrader_pipeline.markets.universe import BarSpec, Universe
from ntrader_pipeline.strategies.registry import StrategyClasses, StrategyLookupError, resolve_strategy
from ntrader_pipeline.strategies.sizing import Sizing
from ntrader_pipeline.yaml_files import read_yaml

DEFAULT_INDEX = "SPY.ARCA"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class BacktestDeclarationError(ValueError):
    """A declarations file that cannot be read, or a declaration in it that is invalid."""


class Window(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self


class PositionSizing(BaseModel):
    """`method`: fixed_shares / fixed_notional / percent_of_equity; `size`: shares, notional or percent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Sizing = Sizing.FIXED_SHARES
    size: Decimal = Field(default=Decimal(100), gt=0)


class BacktestDeclaration(BaseModel):
    """One declared backtest: run for each of `instruments` over `window` on `bar_spec` bars."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    strategy: str
    config: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    instruments: list[str] = Field(min_length=1)
    bar_spec: str = "1-MINUTE-LAST"
    window: Window
    starting_cash: PositiveFloat = 100_000.0
    sizing: PositionSizing = PositionSizing()
    costs: Costs = Costs()
    risk: RiskCaps = RiskCaps()
    index_instrument: str = DEFAULT_INDEX
    # none | splits | splits_and_dividends: applied to the bars when the backtest reads them, from the
    # factors stored per instrument (IB's ADJUSTED_LAST daily closes ÷ TRADES closes); files stay as fetched.
    adjustment: Adjustment = Adjustment.NONE

    @model_validator(mode="after")
    def _name_is_asset_safe(self) -> BacktestDeclaration:
        if not _NAME.match(self.name):
            raise ValueError(f"name {self.name!r} must be lower-case letters, digits and '_' (asset names)")
        return self

    @field_validator("bar_spec")
    @classmethod
    def _bar_spec_parses(cls, value: str) -> str:
        try:
            BarSpec.parse(value)
        except (ValidationError, ValueError) as exc:
            first = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            raise ValueError(f"{value!r} is not a bar spec like 1-MINUTE-LAST ({first})") from None
        return value

    @property
    def spec(self) -> BarSpec:
        return BarSpec.parse(self.bar_spec)

    def strategy_classes(self) -> StrategyClasses:
        return resolve_strategy(self.strategy, self.config)

    def strategy_values(self, classes: StrategyClasses, instrument_id: str) -> dict[str, Any]:
        """The config values for one instrument: ids, the sizing and caps the config has fields for,
        then the declared parameters."""
        fields = classes.fields
        values: dict[str, Any] = {
            "instrument_id": instrument_id,
            "bar_type": str(self.spec.bar_type(instrument_id)),
        }
        optional = {
            "sizing": self.sizing.method.value,
            "trade_size": str(self.sizing.size),
            "max_gross_exposure": (
                None if self.risk.max_gross_exposure is None else str(self.risk.max_gross_exposure)
            ),
        }
        values.update({key: value for key, value in optional.items() if key in fields})
        values.update(self.parameters)
        return values

    def check(self, universe: Universe) -> None:
        """Cross-checks a model cannot do alone; raises ValueError naming the field."""
        for field, ids in (("instruments", self.instruments), ("index_instrument", [self.index_instrument])):
            for instrument_id in ids:
                if instrument_id not in universe.instrument_ids:
                    raise FieldError(
                        field,
                        f"{instrument_id!r} is not in the universe ({', '.join(universe.instrument_ids)}); "
                        "declare only universe instruments, or point NTRADER_BACKTESTS at a backtests file "
                        "written for this universe",
                    )
        if self.adjustment is not Adjustment.NONE:
            for instrument_id in self.instruments:
                problem = adjustment_source_problem(universe, instrument_id)
                if problem:
                    raise FieldError("adjustment", f"{self.adjustment.value} for {instrument_id}: {problem}")
        try:
            classes = self.strategy_classes()
        except StrategyLookupError as exc:
            raise FieldError("config" if self.config else "strategy", str(exc)) from exc
        unknown = sorted(set(self.parameters) - set(classes.fields))
        if unknown:
            raise FieldError(
                f"parameters.{unknown[0]}",
                f"{classes.config_path} has no field {unknown[0]!r}; it has {', '.join(classes.fields)}",
            )
        try:
            classes.build(self.strategy_values(classes, self.instruments[0]))
        except (StrategyLookupError, ValueError) as exc:
            raise FieldError("parameters", str(exc)) from exc


def adjustment_source_problem(universe: Universe, instrument_id: str) -> str | None:
    """Why `instrument_id` cannot be adjusted with this universe (None when it can): factors come from its
    daily TRADES bars and the daily ADJUSTED_LAST bars of its `adjusted: true` twin."""
    instrument = universe.instrument(instrument_id)
    daily = BarSpec.parse("1-DAY-LAST")
    if instrument.sec_type != "STK" or instrument.adjusted or instrument.from_files:
        return "only IB stocks (STK, not adjusted themselves) have split/dividend factors"
    if daily not in universe.bar_specs:
        return (
            "the universe fetches no 1-DAY-LAST bars, which the factors are computed from; "
            "add it to bar_specs"
        )
    if adjusted_twin(universe, instrument_id) is None:
        return (
            f"the universe has no adjusted series for it; add an entry with symbol {instrument.symbol}, "
            f"primary_exchange {instrument.primary_exchange} and adjusted: true"
        )
    return None


def adjusted_twin(universe: Universe, instrument_id: str) -> str | None:
    """The id of the `adjusted: true` entry for the same contract (SYMBOL-ADJ.EXCHANGE), if any."""
    instrument = universe.instrument(instrument_id)
    for other in universe.instruments:
        if other.adjusted and other.ib_instrument_id == instrument.ib_instrument_id:
            return other.instrument_id
    return None


class FieldError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def field_problems(exc: ValidationError, whole: str) -> str:
    """Pydantic's errors as `field a.b: message; ...` (`whole` names a problem of the entry itself)."""
    return "; ".join(f"field {'.'.join(str(p) for p in e['loc']) or whole}: {e['msg']}" for e in exc.errors())


class Checkable(Protocol):
    def check(self, universe: Universe) -> None: ...


def checked_entry[D: Checkable](
    validate: Callable[[dict[str, Any]], D],
    values: dict[str, Any],
    universe: Universe,
    where: str,
    whole: str,
    error: type[Exception] = BacktestDeclarationError,
) -> D:
    """One file entry (a backtest or a sweep) validated, then checked against the universe; either
    problem raises `error` as `<where>: field <name>: <message>` (`whole` as for `field_problems`)."""
    try:
        declared = validate(values)
    except ValidationError as exc:
        raise error(f"{where}: {field_problems(exc, whole)}") from exc
    try:
        declared.check(universe)
    except FieldError as exc:
        raise error(f"{where}: field {exc.field}: {exc}") from exc
    return declared


def load_declarations(path: Path | str, universe: Universe) -> list[BacktestDeclaration]:
    """Read and check every declaration of `path`; the first problem raises BacktestDeclarationError."""
    path = Path(path)
    raw = read_yaml(path, "backtests file", "NTRADER_BACKTESTS", BacktestDeclarationError)
    entries = raw.get("backtests") if isinstance(raw, dict) else None
    if not isinstance(entries, dict) or not entries:
        raise BacktestDeclarationError(
            f"backtests file {path} must have a 'backtests' mapping of name → declaration"
        )
    declarations = []
    for name, entry in entries.items():
        declarations.append(_declaration(path, str(name), entry, universe))
    return declarations


def declaration_from(
    path: Path | str, name: str, values: dict[str, Any], universe: Universe
) -> BacktestDeclaration:
    """Validate one declaration's values (e.g. with launchpad overrides) with the load-time messages."""
    return _declaration(Path(path), name, values, universe)


def _declaration(path: Path, name: str, entry: object, universe: Universe) -> BacktestDeclaration:
    where = f"backtests file {path}, backtest {name!r}"
    if not isinstance(entry, dict):
        raise BacktestDeclarationError(f"{where}: must be a mapping of fields, got {entry!r}")
    values = {**entry, "name": name}
    return checked_entry(BacktestDeclaration.model_validate, values, universe, where, "(declaration)")
