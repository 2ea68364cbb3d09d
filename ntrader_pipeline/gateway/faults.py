"""Fault injection for historical-data requests, keyed by symbol and optionally one session date.

A symbol-wide fault applies to every historical request for the symbol; a dated fault only to responses
that contain bars of that session (and then only to those bars). From the CLI:

    --fault SPY:short_bars=5
    --fault SPY@2024-01-05:error=162
    --fault QQQ:error=162:Historical Market Data Service error message:HMDS query returned no data
    --fault IWM@2024-01-05:high_below_low
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ntrader_pipeline.gateway.synthetic import SyntheticBar

DEFAULT_ERROR_TEXTS: dict[int, str] = {
    162: "Historical Market Data Service error message:Historical data request pacing violation",
    200: "No security definition has been found for the request",
    321: "Error validating request",
    366: "No historical data query found for ticker id",
}

FaultKey = tuple[str, dt.date | None]


@dataclass(frozen=True, slots=True)
class Fault:
    """What to break. `short_bars` drops the last N bars due; `error` answers with (code, text) instead of
    bars; `high_below_low` corrupts one bar (the middle one) so that high < low."""

    short_bars: int = 0
    error: tuple[int, str] | None = None
    high_below_low: bool = False

    def __post_init__(self) -> None:
        if self.short_bars < 0:
            raise ValueError(f"short_bars must be >= 0, got {self.short_bars}")


@dataclass(frozen=True, slots=True)
class FaultOutcome:
    bars: list[SyntheticBar]
    error: tuple[int, str] | None = None


class GatewayFaults:
    """Thread-safe fault table; tests may change it while the gateway runs."""

    def __init__(self, faults: Mapping[str | FaultKey, Fault] | None = None) -> None:
        self._lock = threading.Lock()
        self._faults: dict[FaultKey, Fault] = {}
        for key, fault in (faults or {}).items():
            symbol, session = (key, None) if isinstance(key, str) else key
            self.set(symbol, fault, session=session)

    def set(self, symbol: str, fault: Fault, *, session: dt.date | None = None) -> None:
        with self._lock:
            self._faults[(symbol.upper(), session)] = fault

    def clear(self, symbol: str | None = None) -> None:
        with self._lock:
            if symbol is None:
                self._faults.clear()
            else:
                for key in [k for k in self._faults if k[0] == symbol.upper()]:
                    del self._faults[key]

    def for_symbol(self, symbol: str) -> list[tuple[dt.date | None, Fault]]:
        with self._lock:
            return [
                (session, fault) for (sym, session), fault in self._faults.items() if sym == symbol.upper()
            ]

    def __bool__(self) -> bool:
        with self._lock:
            return bool(self._faults)

    def add_spec(self, spec: str) -> None:
        symbol, session, fault = parse_fault_spec(spec)
        self.set(symbol, fault, session=session)

    @classmethod
    def from_specs(cls, specs: Iterable[str]) -> GatewayFaults:
        faults = cls()
        for spec in specs:
            faults.add_spec(spec)
        return faults


def parse_fault_spec(spec: str) -> tuple[str, dt.date | None, Fault]:
    """`SYMBOL[@YYYY-MM-DD]:key[=value][,...]` with short_bars=N, high_below_low, error=CODE[:TEXT] last."""
    target, sep, settings = spec.partition(":")
    if not sep or not target or not settings:
        raise ValueError(f"fault {spec!r} must look like SPY:short_bars=5 or SPY@2024-01-05:error=162")
    symbol, _, day = target.partition("@")
    try:
        session = dt.date.fromisoformat(day) if day else None
    except ValueError:
        raise ValueError(f"fault {spec!r}: session date {day!r} is not YYYY-MM-DD") from None
    # IB error texts contain colons and commas, so `error=` must come last and takes the rest verbatim
    head, _, error_value = settings.partition("error=")
    values: dict[str, object] = {}
    for item in filter(None, (part.strip() for part in head.split(","))):
        key, _, value = item.partition("=")
        if key == "short_bars":
            values["short_bars"] = int(value)
        elif key == "high_below_low":
            values["high_below_low"] = value.lower() not in ("0", "false", "no")
        else:
            raise ValueError(f"fault {spec!r}: unknown setting {key!r} (short_bars, error, high_below_low)")
    if error_value:
        code_text, _, message = error_value.partition(":")
        try:
            code = int(code_text)
        except ValueError:
            raise ValueError(f"fault {spec!r}: error code {code_text!r} is not an integer") from None
        values["error"] = (code, message or DEFAULT_ERROR_TEXTS.get(code, f"error {code}"))
    return symbol.upper(), session, Fault(**values)  # type: ignore[arg-type]


def _corrupt(bar: SyntheticBar) -> SyntheticBar:
    return dataclasses.replace(bar, high=round(bar.low - 0.01, 2), low=bar.high)


def apply_faults(faults: GatewayFaults | None, symbol: str, bars: list[SyntheticBar]) -> FaultOutcome:
    if not faults:
        return FaultOutcome(bars)
    active = faults.for_symbol(symbol)
    dates = {bar.session_date for bar in bars}
    for session, fault in active:
        if fault.error and (session is None or session in dates):
            return FaultOutcome([], fault.error)
    result = list(bars)
    for session, fault in active:
        targets = [i for i, bar in enumerate(result) if session is None or bar.session_date == session]
        if not targets:
            continue
        if fault.high_below_low:
            middle = targets[len(targets) // 2]
            result[middle] = _corrupt(result[middle])
        if fault.short_bars:
            dropped = set(targets[-fault.short_bars :])
            result = [bar for i, bar in enumerate(result) if i not in dropped]
    return FaultOutcome(result)
