"""The instrument universe: a committed YAML file of IB contract fields and the bar specs to fetch.

A bad entry fails at load with the file, the entry and the field named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_UNIVERSE_PATH = Path(__file__).resolve().parents[2] / "data" / "universe.yaml"

BarAggregation = Literal["MINUTE", "HOUR", "DAY"]
_IB_BAR_SIZES = {("MINUTE", 1): "1 min", ("MINUTE", 5): "5 mins", ("HOUR", 1): "1 hour", ("DAY", 1): "1 day"}


class UniverseError(ValueError):
    """The universe file is missing, unreadable or has an invalid entry."""


class BarSpec(BaseModel):
    """A Nautilus bar specification such as `1-MINUTE-LAST` (step, aggregation, price type)."""

    model_config = ConfigDict(frozen=True)

    step: int
    aggregation: BarAggregation
    price_type: Literal["LAST", "MID"] = "LAST"

    @classmethod
    def parse(cls, text: str) -> BarSpec:
        parts = text.strip().upper().split("-")
        if len(parts) != 3 or not parts[0].isdigit():
            raise ValueError(f"bar spec {text!r} must look like 1-MINUTE-LAST or 1-DAY-LAST")
        spec = cls(step=int(parts[0]), aggregation=parts[1], price_type=parts[2])
        if (spec.aggregation, spec.step) not in _IB_BAR_SIZES:
            raise ValueError(
                f"bar spec {text!r} is not supported; use one of {sorted(supported_bar_specs())}"
            )
        return spec

    def __str__(self) -> str:
        return f"{self.step}-{self.aggregation}-{self.price_type}"

    @property
    def ib_bar_size(self) -> str:
        return _IB_BAR_SIZES[(self.aggregation, self.step)]

    @property
    def ib_what_to_show(self) -> str:
        return "TRADES" if self.price_type == "LAST" else "MIDPOINT"

    @property
    def is_intraday(self) -> bool:
        return self.aggregation != "DAY"

    def bar_type(self, instrument_id: str) -> str:
        """The Nautilus BarType string for this spec on an instrument (IB bars are EXTERNAL)."""
        return f"{instrument_id}-{self}-EXTERNAL"


def supported_bar_specs() -> list[str]:
    return [f"{step}-{agg}-LAST" for agg, step in _IB_BAR_SIZES]


class InstrumentSpec(BaseModel):
    """IB contract fields for one instrument; `instrument_id` is the Nautilus id (SYMBOL.PRIMARY)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str = Field(min_length=1, pattern=r"^[A-Z0-9.]+$")
    sec_type: Literal["STK"] = "STK"
    exchange: str = "SMART"
    primary_exchange: str = Field(min_length=1, pattern=r"^[A-Z]+$")
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")

    @property
    def instrument_id(self) -> str:
        return f"{self.symbol}.{self.primary_exchange}"


class Universe(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    instruments: tuple[InstrumentSpec, ...] = Field(min_length=1)
    bar_specs: tuple[BarSpec, ...] = Field(min_length=1)

    @field_validator("bar_specs", mode="before")
    @classmethod
    def _parse_bar_specs(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            return tuple(BarSpec.parse(v) if isinstance(v, str) else v for v in value)
        return value

    @field_validator("instruments")
    @classmethod
    def _unique_ids(cls, value: tuple[InstrumentSpec, ...]) -> tuple[InstrumentSpec, ...]:
        seen: set[str] = set()
        for spec in value:
            if spec.instrument_id in seen:
                raise ValueError(f"instrument {spec.instrument_id} is listed twice")
            seen.add(spec.instrument_id)
        return value

    @property
    def instrument_ids(self) -> list[str]:
        return [spec.instrument_id for spec in self.instruments]

    def instrument(self, instrument_id: str) -> InstrumentSpec:
        for spec in self.instruments:
            if spec.instrument_id == instrument_id:
                return spec
        raise UniverseError(
            f"instrument {instrument_id!r} is not in the universe; known: {', '.join(self.instrument_ids)}"
        )


def _describe(error: dict, raw: dict) -> str:
    loc = list(error["loc"])
    where = ".".join(str(p) for p in loc)
    if len(loc) >= 2 and loc[0] == "instruments" and isinstance(loc[1], int):
        entries = raw.get("instruments") or []
        entry = entries[loc[1]] if loc[1] < len(entries) else {}
        symbol = entry.get("symbol", "?") if isinstance(entry, dict) else "?"
        field = ".".join(str(p) for p in loc[2:]) or "(entry)"
        where = f"instruments[{loc[1]}] (symbol {symbol}), field {field}"
    return f"{where}: {error['msg']}"


def load_universe(path: Path | str = DEFAULT_UNIVERSE_PATH) -> Universe:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise UniverseError(
            f"universe file {path} does not exist; set NTRADER_UNIVERSE to a YAML file"
        ) from exc
    except yaml.YAMLError as exc:
        raise UniverseError(f"universe file {path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise UniverseError(f"universe file {path} must be a mapping with 'instruments' and 'bar_specs'")
    try:
        return Universe.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_describe(e, raw) for e in exc.errors())
        raise UniverseError(f"universe file {path} is invalid: {problems}") from exc
