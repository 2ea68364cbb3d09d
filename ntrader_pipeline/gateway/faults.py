"""Scriptable faults for historical-data requests, keyed by symbol and optionally one session date.

A symbol-wide fault applies to every historical request for the symbol; a dated fault only to responses
that contain bars of that session (and then only to those bars). `times=N` makes a fault apply to the
first N matching requests only, so a test can script "fails twice, then succeeds". From the CLI:

    --fault SPY:short_bars=5
    --fault SPY@2024-01-05:error=162
    --fault QQQ:error=162:Historical Market Data Service error message:HMDS query returned no data
    --fault IWM@2024-01-05:high_below_low
    --fault SPY:pacing,times=2          (162 pacing violation for the next two requests)
    --fault SPY:no_data | SPY:connectivity=1100 | SPY:drop | SPY:delay=2.5 | SPY:malformed

From Python: `gateway.faults.script("SPY", Fault(pacing=True), times=2)`, `gateway.faults.clear()`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ntrader_pipeline.gateway.synthetic import SyntheticBar

HMDS_PREFIX = "Historical Market Data Service error message:"
PACING_VIOLATION: tuple[int, str] = (162, HMDS_PREFIX + "Historical data request pacing violation")
DEFAULT_ERROR_TEXTS: dict[int, str] = {
    162: PACING_VIOLATION[1],
    200: "No security definition has been found for the request",
    321: "Error validating request",
    366: "No historical data query found for ticker id",
}
CONNECTIVITY_TEXTS: dict[int, str] = {
    1100: "Connectivity between IB and Trader Workstation has been lost.",
    1101: "Connectivity between IB and Trader Workstation has been restored - data lost.",
    1102: "Connectivity between IB and Trader Workstation has been restored - data maintained.",
}
CONNECTIVITY_LOST = 1100
_SETTINGS = "short_bars, high_below_low, pacing, no_data, connectivity, drop, delay, malformed, times, error"

FaultKey = tuple[str, dt.date | None]


def no_data_error(symbol: str, exchange: str, what_to_show: str) -> tuple[int, str]:
    """IB's 162 for an empty range, e.g. `...HMDS query returned no data: SPY@ARCA Trades`."""
    return 162, f"{HMDS_PREFIX}HMDS query returned no data: {symbol}@{exchange} {what_to_show.title()}"


@dataclass(frozen=True, slots=True)
class Fault:
    """What to break for a matching historical request.

    Answer-replacing kinds (the first live one scripted wins): `error` (code, text), `pacing` (162 pacing
    violation), `no_data` (162 HMDS no data), `connectivity=1100` (notice with reqId -1, then no answer
    ever), `drop` (half the response's bytes, then the socket is closed).
    Kinds that combine: `delay` seconds before answering, `connectivity=1101/1102` (notice, then the bars),
    `short_bars` drops the last N bars due, `high_below_low` makes the middle bar's high < low, `malformed`
    puts a non-numeric price into the middle bar. `times` limits the fault to the first N matching requests.
    """

    short_bars: int = 0
    error: tuple[int, str] | None = None
    high_below_low: bool = False
    pacing: bool = False
    no_data: bool = False
    connectivity: int | None = None
    drop: bool = False
    delay: float = 0.0
    malformed: bool = False
    times: int | None = None

    def __post_init__(self) -> None:
        if self.short_bars < 0:
            raise ValueError(f"short_bars must be >= 0, got {self.short_bars}")
        if self.connectivity is not None and self.connectivity not in CONNECTIVITY_TEXTS:
            raise ValueError(
                f"connectivity must be one of {sorted(CONNECTIVITY_TEXTS)}, got {self.connectivity}"
            )
        if self.delay < 0:
            raise ValueError(f"delay must be >= 0 seconds, got {self.delay}")
        if self.times is not None and self.times < 1:
            raise ValueError(
                f"times must be >= 1 (omit it for a fault that never wears off), got {self.times}"
            )

    @property
    def replaces_answer(self) -> bool:
        return bool(
            self.error or self.pacing or self.no_data or self.drop or self.connectivity == CONNECTIVITY_LOST
        )


@dataclass(frozen=True, slots=True)
class FaultOutcome:
    """How to answer one request: `error` instead of `bars`; `notices` (code, text) go out first with
    reqId -1; `silent` means never answer; `drop` closes the socket mid-response; `garbled` holds the
    `start` of bars whose price is sent non-numeric."""

    bars: list[SyntheticBar]
    error: tuple[int, str] | None = None
    notices: tuple[tuple[int, str], ...] = ()
    silent: bool = False
    drop: bool = False
    delay: float = 0.0
    garbled: frozenset[int] = frozenset()


@dataclass(slots=True, eq=False)  # identity, not value: two identical scripted faults are two uses
class _Entry:
    symbol: str
    session: dt.date | None
    fault: Fault
    remaining: int | None = field(default=None)  # None: unlimited

    def live_for(self, symbol: str, dates: set[dt.date]) -> bool:
        return (
            self.symbol == symbol and self.remaining != 0 and (self.session is None or self.session in dates)
        )


class GatewayFaults:
    """Thread-safe fault table; tests may change it while the gateway runs. A fault's remaining count is
    decremented under the table's lock, so concurrent requests never both take its last use."""

    def __init__(self, faults: Mapping[str | FaultKey, Fault] | None = None) -> None:
        self._lock = threading.Lock()
        self._entries: list[_Entry] = []
        for key, fault in (faults or {}).items():
            symbol, session = (key, None) if isinstance(key, str) else key
            self.set(symbol, fault, session=session)

    def set(self, symbol: str, fault: Fault, *, session: dt.date | None = None) -> None:
        """Replace whatever is scripted for (symbol, session) with this one fault."""
        with self._lock:
            self._entries = [e for e in self._entries if (e.symbol, e.session) != (symbol.upper(), session)]
            self._entries.append(_Entry(symbol.upper(), session, fault, fault.times))

    def script(
        self, symbol: str, fault: Fault, session: dt.date | None = None, times: int | None = None
    ) -> None:
        """Append a fault after those already scripted for the symbol; `times` (or `fault.times`) limits
        it to the next N matching requests. Scripting A(times=2) then B(times=1) answers A, A, B, then
        normally."""
        if times is not None:
            fault = dataclasses.replace(fault, times=times)
        with self._lock:
            self._entries.append(_Entry(symbol.upper(), session, fault, fault.times))

    def clear(self, symbol: str | None = None) -> None:
        with self._lock:
            if symbol is None:
                self._entries.clear()
            else:
                self._entries = [e for e in self._entries if e.symbol != symbol.upper()]

    def for_symbol(self, symbol: str) -> list[tuple[dt.date | None, Fault]]:
        """The faults still live for the symbol, in scripted order."""
        with self._lock:
            return [
                (e.session, e.fault) for e in self._entries if e.symbol == symbol.upper() and e.remaining != 0
            ]

    def remaining(self, symbol: str) -> list[int | None]:
        """Uses left per scripted fault of the symbol (None: unlimited; 0: spent)."""
        with self._lock:
            return [e.remaining for e in self._entries if e.symbol == symbol.upper()]

    def __bool__(self) -> bool:
        with self._lock:
            return any(e.remaining != 0 for e in self._entries)

    def add_spec(self, spec: str) -> None:
        symbol, session, fault = parse_fault_spec(spec)
        self.script(symbol, fault, session=session)

    @classmethod
    def from_specs(cls, specs: Iterable[str]) -> GatewayFaults:
        faults = cls()
        for spec in specs:
            faults.add_spec(spec)
        return faults

    def resolve(
        self, symbol: str, bars: list[SyntheticBar], *, exchange: str = "", what_to_show: str = "TRADES"
    ) -> FaultOutcome:
        """Apply the live faults for one request and use each applied fault up once."""
        symbol = symbol.upper()
        dates = {bar.session_date for bar in bars}
        with self._lock:
            live = [e for e in self._entries if e.live_for(symbol, dates)]
            if not live:
                return FaultOutcome(bars)
            outcome, used = _plan(live, symbol, bars, exchange or "SMART", what_to_show)
            for entry in used:
                if entry.remaining is not None:
                    entry.remaining -= 1
            return outcome


def _plan(
    live: list[_Entry], symbol: str, bars: list[SyntheticBar], exchange: str, what_to_show: str
) -> tuple[FaultOutcome, list[_Entry]]:
    used: list[_Entry] = []
    notices: list[tuple[int, str]] = []
    delay = 0.0
    for entry in live:
        fault = entry.fault
        if fault.delay or fault.connectivity in (1101, 1102):
            used.append(entry)
            delay = max(delay, fault.delay)
            if fault.connectivity in (1101, 1102):
                notices.append((fault.connectivity, CONNECTIVITY_TEXTS[fault.connectivity]))
    answer = next((e for e in live if e.fault.replaces_answer), None)
    if answer is not None and answer not in used:
        used.append(answer)
    if answer is not None and not answer.fault.drop:
        fault = answer.fault
        if fault.connectivity == CONNECTIVITY_LOST:
            notices.append((CONNECTIVITY_LOST, CONNECTIVITY_TEXTS[CONNECTIVITY_LOST]))
            return FaultOutcome([], notices=tuple(notices), silent=True, delay=delay), used
        if fault.error:
            error = fault.error
        elif fault.pacing:
            error = PACING_VIOLATION
        else:
            error = no_data_error(symbol, exchange, what_to_show)
        return FaultOutcome([], error, tuple(notices), delay=delay), used
    result = list(bars)
    garbled: set[int] = set()
    for entry in live:
        fault = entry.fault
        if not (fault.short_bars or fault.high_below_low or fault.malformed):
            continue
        targets = [
            i for i, bar in enumerate(result) if entry.session is None or bar.session_date == entry.session
        ]
        if not targets:
            continue
        if entry not in used:
            used.append(entry)
        middle = targets[len(targets) // 2]
        if fault.high_below_low:
            result[middle] = _corrupt(result[middle])
        if fault.malformed:
            garbled.add(result[middle].start)
        if fault.short_bars:
            dropped = set(targets[-fault.short_bars :])
            result = [bar for i, bar in enumerate(result) if i not in dropped]
    drop = answer is not None and answer.fault.drop
    return FaultOutcome(
        result, None, tuple(notices), drop=drop, delay=delay, garbled=frozenset(garbled)
    ), used


def parse_fault_spec(spec: str) -> tuple[str, dt.date | None, Fault]:
    """`SYMBOL[@YYYY-MM-DD]:key[=value][,...]`; `error=CODE[:TEXT]` must come last (texts hold commas)."""
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
        values[key] = _setting(spec, key, value)
    if error_value:
        code_text, _, message = error_value.partition(":")
        code = _number(spec, "error", code_text, int)
        values["error"] = (code, message or DEFAULT_ERROR_TEXTS.get(code, f"error {code}"))
    try:
        fault = Fault(**values)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ValueError(f"fault {spec!r}: {exc}") from None
    return symbol.upper(), session, fault


def _setting(spec: str, key: str, value: str) -> object:
    if key in ("short_bars", "times", "connectivity"):
        return _number(spec, key, value, int)
    if key == "delay":
        return _number(spec, key, value, float)
    if key in ("high_below_low", "pacing", "no_data", "drop", "malformed"):
        return value.lower() not in ("0", "false", "no")
    raise ValueError(f"fault {spec!r}: unknown setting {key!r} ({_SETTINGS})")


def _number(spec: str, key: str, text: str, kind: type[int] | type[float]) -> int | float:
    try:
        return kind(text)
    except ValueError:
        noun = "an integer" if kind is int else "a number"
        raise ValueError(f"fault {spec!r}: {key} value {text!r} is not {noun}") from None


def _corrupt(bar: SyntheticBar) -> SyntheticBar:
    return dataclasses.replace(bar, high=round(bar.low - 0.01, 2), low=bar.high)


def apply_faults(
    faults: GatewayFaults | None,
    symbol: str,
    bars: list[SyntheticBar],
    *,
    exchange: str = "",
    what_to_show: str = "TRADES",
) -> FaultOutcome:
    if not faults:
        return FaultOutcome(bars)
    return faults.resolve(symbol, bars, exchange=exchange, what_to_show=what_to_show)
