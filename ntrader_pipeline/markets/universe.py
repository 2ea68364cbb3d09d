"""The instrument universe: a committed YAML file of instruments and the bar specs to fetch.

An instrument's bars come from IB (its contract fields) or, with a `source`, from CSV/Parquet files.
IB contract types: STK (SMART + primary exchange, NYSE sessions), CASH (FX on IDEALPRO, MIDPOINT bars,
24×5 sessions), FUT (with its contract month) and CONTFUT (IB's continuous future), both on the CME
calendar. A bad entry fails at load with the file, the entry and the field named.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ntrader_pipeline.markets.bar_specs import BarSpec
from ntrader_pipeline.markets.calendars import CME, FX_24X5, NYSE, SessionCalendar, get_session_calendar
from ntrader_pipeline.markets.file_source import FileSource
from ntrader_pipeline.markets.trading_session import TradingSession, to_date
from ntrader_pipeline.yaml_files import read_yaml

SecType = Literal["STK", "CASH", "FUT", "CONTFUT"]
_FUTURES_EXCHANGES = frozenset({"CME", "CBOT", "COMEX", "NYMEX"})  # Nautilus names futures by these venues
_MONTH_CODES = "FGHJKMNQUVXZ"


class UniverseError(ValueError):
    """The universe file is missing, unreadable or has an invalid entry."""


class InstrumentSpec(BaseModel):
    """One instrument: IB contract fields, or a file `source`. `instrument_id` is the Nautilus id the IB
    adapter gives the contract: SYMBOL.PRIMARY_EXCHANGE (STK), BASE/QUOTE.IDEALPRO (CASH), ESH4.CME (FUT:
    root, month code, last digit of the year), ES.CME (CONTFUT); SYMBOL.VENUE from files.

    `adjusted: true` (STK) fetches split/dividend adjusted daily bars (IB ADJUSTED_LAST) under their own
    id SYMBOL-ADJ.PRIMARY_EXCHANGE, so they never mix with the unadjusted bars of SYMBOL.PRIMARY_EXCHANGE
    (Nautilus bar types have no "adjusted" price type; a separate id keeps catalog directories, quality
    checks and backtests apart, and both can be in one universe).

    `max_missing_fraction` (0..1) makes the gaps rule blocking for this instrument: a stored session with
    a larger share of its expected bars missing fails the `bar_quality` check and the backtest gate.
    Without it, missing bars (IB sends none for a minute without a trade) are reported as a warning."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str = Field(min_length=1, pattern=r"^[A-Z0-9.]+$")
    sec_type: SecType = "STK"
    exchange: str = "SMART"
    primary_exchange: str | None = Field(default=None, min_length=1, pattern=r"^[A-Z]+$")
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    last_trade_date_or_contract_month: str | None = Field(default=None, pattern=r"^\d{6}(\d{2})?$")
    multiplier: str | None = Field(default=None, pattern=r"^\d+(\.\d+)?$")
    adjusted: bool = False
    source: FileSource | None = None
    max_missing_fraction: float | None = Field(default=None, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _fields_fit_the_type(self) -> InstrumentSpec:
        if self.source is not None:
            return self
        if self.sec_type == "STK":
            if self.primary_exchange is None:
                raise ValueError(
                    "primary_exchange is required for an IB instrument (or give a file `source`)"
                )
            self._refuse("last_trade_date_or_contract_month", "multiplier")
        elif self.sec_type == "CASH":
            if not re.fullmatch(r"[A-Z]{3}", self.symbol):
                raise ValueError(f"symbol {self.symbol!r} of a CASH pair must be the 3-letter base currency")
            if self.exchange != "IDEALPRO":
                raise ValueError(f"exchange {self.exchange!r}: FX (CASH) is served on IDEALPRO")
            self._refuse("primary_exchange", "last_trade_date_or_contract_month", "multiplier", "adjusted")
        else:
            if self.exchange not in _FUTURES_EXCHANGES:
                raise ValueError(
                    f"exchange {self.exchange!r}: a {self.sec_type} needs its futures exchange, one of "
                    f"{', '.join(sorted(_FUTURES_EXCHANGES))}"
                )
            if self.sec_type == "FUT" and self.last_trade_date_or_contract_month is None:
                raise ValueError('last_trade_date_or_contract_month (e.g. "202403") is required for a FUT')
            refused = ["primary_exchange", "adjusted"]
            if self.sec_type == "CONTFUT":
                refused.append("last_trade_date_or_contract_month")
            self._refuse(*refused)
        return self

    def _refuse(self, *fields: str) -> None:
        for name in fields:
            if getattr(self, name) not in (None, False):
                raise ValueError(f"{name} does not apply to a {self.sec_type} contract; remove it")

    @property
    def instrument_id(self) -> str:
        if self.adjusted:
            symbol, _, venue = self.ib_instrument_id.rpartition(".")
            return f"{symbol}-ADJ.{venue}"
        return self.ib_instrument_id

    @property
    def ib_instrument_id(self) -> str:
        """The id Nautilus' IB adapter gives the contract (the adjusted series' source)."""
        if self.source is not None:
            return f"{self.symbol}.{self.source.venue}"
        if self.sec_type == "CASH":
            return f"{self.symbol}/{self.currency}.{self.exchange}"
        if self.sec_type == "FUT":
            month = self.last_trade_date_or_contract_month or ""
            return f"{self.symbol}{_MONTH_CODES[int(month[4:6]) - 1]}{month[3]}.{self.exchange}"
        if self.sec_type == "CONTFUT":
            return f"{self.symbol}.{self.exchange}"
        return f"{self.symbol}.{self.primary_exchange}"

    @property
    def from_files(self) -> bool:
        return self.source is not None

    @property
    def calendar_name(self) -> str:
        return {"CASH": FX_24X5, "FUT": CME, "CONTFUT": CME}.get(self.sec_type, NYSE)

    @property
    def calendar(self) -> SessionCalendar:
        """The sessions this instrument trades: NYSE (STK, files), FX 24×5 (CASH), CME Globex (futures)."""
        return get_session_calendar(self.calendar_name)

    @property
    def use_rth(self) -> bool:
        """Equities are fetched in regular trading hours; FX and futures over their whole session."""
        return self.sec_type == "STK"

    def ib_bar_spec(self, spec: BarSpec) -> BarSpec:
        """The bar spec as fetched for this instrument: FX has no trades, so MID (IB MIDPOINT) bars."""
        return spec.for_instrument(self.instrument_id)

    def bar_type(self, spec: BarSpec) -> str:
        return spec.bar_type(self.instrument_id)


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
    def max_missing_fractions(self) -> dict[str, float | None]:
        """Each instrument's threshold of missing bars above which a session blocks its backtests."""
        return {spec.instrument_id: spec.max_missing_fraction for spec in self.instruments}

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
        if instrument.adjusted and spec.is_intraday:
            return False  # adjusted bars are daily (what the pipeline asks IB's ADJUSTED_LAST for)
        return spec in self.bar_specs

    def instrument(self, instrument_id: str) -> InstrumentSpec:
        for spec in self.instruments:
            if spec.instrument_id == instrument_id:
                return spec
        raise UniverseError(
            f"instrument {instrument_id!r} is not in the universe; known: {', '.join(self.instrument_ids)}"
        )

    def split_sessions(
        self, instrument_id: str, dates: Iterable[str]
    ) -> tuple[list[TradingSession], list[str]]:
        """The instrument's sessions on `dates` (its own calendar), and the dates its calendar is closed."""
        calendar = self.instrument(instrument_id).calendar
        sessions, closed = [], []
        for date in dates:
            if calendar.is_session(to_date(date)):
                sessions.append(calendar.session(date))
            else:
                closed.append(date)
        return sessions, closed

    def closed_reason(self, instrument_id: str, date: str) -> str:
        calendar = self.instrument(instrument_id).calendar.name
        return f"{instrument_id} does not trade on {date} (no {calendar} session): nothing to fetch or check"


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


def load_universe(path: Path | str) -> Universe:
    path = Path(path)
    raw = read_yaml(path, "universe file", "NTRADER_UNIVERSE", UniverseError)
    if not isinstance(raw, dict):
        raise UniverseError(f"universe file {path} must be a mapping with 'instruments' and 'bar_specs'")
    try:
        return Universe.model_validate({**raw, "base_dir": path.resolve().parent})
    except ValidationError as exc:
        problems = "; ".join(_describe(e, raw) for e in exc.errors())
        raise UniverseError(f"universe file {path} is invalid: {problems}") from exc
