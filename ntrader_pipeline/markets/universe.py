"""The instrument universe: a committed YAML file of instruments and the bar specs to fetch.

An instrument's bars come from IB (its contract fields) or, with a `source`, from CSV/Parquet files.
A bad entry fails at load with the file, the entry and the field named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ntrader_pipeline.markets.bar_specs import BarSpec
from ntrader_pipeline.markets.file_source import FileSource

DEFAULT_UNIVERSE_PATH = Path(__file__).resolve().parents[2] / "data" / "universe.yaml"


class UniverseError(ValueError):
    """The universe file is missing, unreadable or has an invalid entry."""


class InstrumentSpec(BaseModel):
    """One instrument: IB contract fields, or a file `source`. `instrument_id` is the Nautilus id:
    SYMBOL.PRIMARY_EXCHANGE from IB, SYMBOL.VENUE from files."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str = Field(min_length=1, pattern=r"^[A-Z0-9.]+$")
    sec_type: Literal["STK"] = "STK"
    exchange: str = "SMART"
    primary_exchange: str | None = Field(default=None, min_length=1, pattern=r"^[A-Z]+$")
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    source: FileSource | None = None

    @model_validator(mode="after")
    def _has_a_source(self) -> InstrumentSpec:
        if self.source is None and self.primary_exchange is None:
            raise ValueError("primary_exchange is required for an IB instrument (or give a file `source`)")
        return self

    @property
    def instrument_id(self) -> str:
        venue = self.source.venue if self.source else self.primary_exchange
        return f"{self.symbol}.{venue}"

    @property
    def from_files(self) -> bool:
        return self.source is not None


class Universe(BaseModel):
    """`bar_specs` are fetched from IB for IB instruments; a file source brings its own bar spec.
    `base_dir` (the universe file's directory) anchors relative file-source paths."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instruments: tuple[InstrumentSpec, ...] = Field(min_length=1)
    bar_specs: tuple[BarSpec, ...] = Field(min_length=1)
    base_dir: Path = Path()

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

    @property
    def all_bar_specs(self) -> list[BarSpec]:
        """Every bar spec some instrument provides: the IB list, then file sources' own."""
        specs = list(self.bar_specs)
        for spec in self.instruments:
            if spec.source is not None and (file_spec := BarSpec.parse(spec.source.bar_spec)) not in specs:
                specs.append(file_spec)
        return specs

    def provides(self, instrument: InstrumentSpec, spec: BarSpec) -> bool:
        if instrument.source is not None:
            return BarSpec.parse(instrument.source.bar_spec) == spec
        return spec in self.bar_specs

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
        return Universe.model_validate({**raw, "base_dir": path.resolve().parent})
    except ValidationError as exc:
        problems = "; ".join(_describe(e, raw) for e in exc.errors())
        raise UniverseError(f"universe file {path} is invalid: {problems}") from exc
