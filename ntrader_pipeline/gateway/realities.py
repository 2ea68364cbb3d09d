"""Market realities: what makes real IB data differ from an ideal feed, per symbol, deterministic.

A `MarketReality` says, for one symbol: when it was listed, what share of minutes have no trade, when it
was halted (or opened late), its splits and cash dividends, and whether the account lacks the market-data
permission for it. The gateway applies it when it serves bars and head timestamps:

- liquidity: a minute without a trade has no TRADES bar (nor ADJUSTED_LAST); MIDPOINT stays continuous.
  The first and last minute always trade (opening and closing auctions). Daily and hourly TRADES bars
  are the aggregate of the minute bars that exist.
- a halt (or a late open: a halt from the open): no bars of any kind for that stretch of the session.
- a listing date: no data before it; `reqHeadTimeStamp` answers the first bar of the listing session;
  a request whose answer would hold no bar gets IB's 162 "HMDS query returned no data" (as IB answers a
  range before the listing).
- a split `ratio` (4 for 4:1) on an ex-date: TRADES and MIDPOINT before it are unadjusted (prices × ratio,
  volumes ÷ ratio); ADJUSTED_LAST stays continuous. Cash dividends scale ADJUSTED_LAST before their
  ex-date by 1 - amount / previous unadjusted close (the unadjusted series shows no ex-dividend drop
  beyond its usual overnight gap). Without explicit dividends, a symbol keeps the gateway's default
  quarterly 0.375 % dividend. With `dividend_drops`, TRADES instead falls by each dividend on its ex-date
  (real prices) and ADJUSTED_LAST is the smooth series; reality_histories.py has real split histories.
- a permission problem: IB's error code and text for every historical request of the symbol (and for
  its reqHeadTimeStamp); `delayed` sends the 10167 notice and then the data.

Defaults: the synthetic illiquid stock ILLQ (NASDAQ) gets `DEFAULT_REALITIES["ILLQ"]`; every other symbol
is ideal. From Python: `gateway.realities.set("SPY", MarketReality(permission="no_permissions"))`,
`gateway.realities.clear("ILLQ")`, `gateway.realities.reset()`. From the CLI (repeatable):

    --reality SPY:permission=no_permissions
    --reality QQQ:no_trade_share=0.2,halt=2024-01-10@11:00+30,late_open=2024-01-11+15
    --reality IWM:listed=2024-01-08,split=2024-02-15@4,dividend=2024-03-14@0.25
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass

HMDS_PREFIX = "Historical Market Data Service error message:"
# IB's names for the exchanges in permission texts ("No market data permissions for ISLAND STK")
_IB_VENUE = {"NASDAQ": "ISLAND", "ARCA": "ARCA", "NYSE": "NYSE", "AMEX": "AMEX"}


def permission_error(kind: str, primary_exchange: str, sec_type: str = "STK") -> tuple[int, str]:
    """IB's (code, text) for a historical request under a permission problem of `kind`."""
    venue = _IB_VENUE.get(primary_exchange.upper(), primary_exchange.upper() or "SMART")
    if kind == "no_permissions":
        return 162, f"{HMDS_PREFIX}No market data permissions for {venue} {sec_type}"
    return PERMISSION_ERRORS[kind]


# Texts as IB sends them (see ib_insync issues 19, 198, 461; rust-ibapi PR 672; deephaven-ib issue 44)
PERMISSION_ERRORS: dict[str, tuple[int, str]] = {
    "no_permissions": (162, HMDS_PREFIX + "No market data permissions for ISLAND STK"),
    "not_subscribed": (354, "Requested market data is not subscribed."),
    "api_subscription": (
        10089,
        "Requested market data requires additional subscription for API. See link in 'Market Data "
        "Connections' dialog for more details.",
    ),
    "delayed_disabled": (
        10168,
        "Requested market data is not subscribed. Delayed market data is not enabled.",
    ),
    "competing_session": (10197, "No market data during competing live session"),
}
DELAYED_NOTICE = (10167, "Requested market data is not subscribed. Displaying delayed market data.")
PERMISSION_KINDS = (*PERMISSION_ERRORS, "delayed")
# What IB answered to reqHeadTimeStamp without a subscription (ib_insync issue 19)
HEAD_TIMESTAMP_NOT_SUBSCRIBED = (354, "Requested market data is not subscribed.")


@dataclass(frozen=True, slots=True)
class Halt:
    """No bars from `start` (exchange time) for `minutes` on `session`."""

    session: dt.date
    start: dt.time
    minutes: int

    def __post_init__(self) -> None:
        if self.minutes <= 0:
            raise ValueError(f"a halt lasts at least one minute, got {self.minutes}")


@dataclass(frozen=True, slots=True)
class Split:
    """`ratio` new shares per old share from `ex_date` on (4.0 for a 4:1 split, 0.1 for 1:10)."""

    ex_date: dt.date
    ratio: float

    def __post_init__(self) -> None:
        if self.ratio <= 0 or self.ratio == 1:
            raise ValueError(f"a split ratio must be positive and not 1, got {self.ratio}")


@dataclass(frozen=True, slots=True)
class Dividend:
    """A cash dividend of `amount` per (unadjusted) share going ex on `ex_date`."""

    ex_date: dt.date
    amount: float

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise ValueError(f"a dividend amount must be positive, got {self.amount}")


@dataclass(frozen=True, slots=True)
class MarketReality:
    listed: dt.date | None = None  # first session with data; None: as far back as the calendar goes
    no_trade_share: float = 0.0  # share of minutes without a trade (no TRADES bar)
    halts: tuple[Halt, ...] = ()
    splits: tuple[Split, ...] = ()
    dividends: tuple[Dividend, ...] | None = None  # None: the gateway's default quarterly dividend
    permission: str | None = None  # None: permitted; else one of PERMISSION_KINDS
    # True: TRADES falls by each dividend on its ex-date (as real prices do) and ADJUSTED_LAST is the smooth
    # series; False (older scenarios): TRADES stays smooth and ADJUSTED_LAST is scaled before ex-dates
    dividend_drops: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.no_trade_share < 1.0:
            raise ValueError(f"no_trade_share must be within [0, 1), got {self.no_trade_share}")
        if self.permission is not None and self.permission not in PERMISSION_KINDS:
            raise ValueError(
                f"permission must be one of {', '.join(PERMISSION_KINDS)}, got {self.permission!r}"
            )

    @property
    def changes_bars(self) -> bool:
        return bool(self.listed or self.no_trade_share or self.halts or self.splits or self.dividend_drops)

    def split_scale(self, session: dt.date) -> float:
        """What unadjusted prices of `session` are, relative to the continuous series."""
        scale = 1.0
        for split in self.splits:
            if session < split.ex_date:
                scale *= split.ratio
        return scale


def late_open(session: dt.date, minutes: int, open_time: dt.time = dt.time(9, 30)) -> Halt:
    """A session that opens `minutes` late: a halt from the open."""
    return Halt(session, open_time, minutes)


ILLQ_REALITY = MarketReality(
    listed=dt.date(2023, 9, 12),
    no_trade_share=0.30,
    halts=(Halt(dt.date(2024, 1, 18), dt.time(11, 5), 25), late_open(dt.date(2024, 3, 5), 42)),
    splits=(Split(dt.date(2024, 2, 15), 4.0),),
    dividends=(Dividend(dt.date(2023, 12, 14), 0.20), Dividend(dt.date(2024, 3, 14), 0.05)),
)
DEFAULT_REALITIES: dict[str, MarketReality] = {"ILLQ": ILLQ_REALITY}
IDEAL = MarketReality()


class GatewayRealities:
    """Thread-safe symbol → MarketReality table; tests change it while the gateway runs."""

    def __init__(self, realities: dict[str, MarketReality] | None = None, *, defaults: bool = True) -> None:
        self._lock = threading.Lock()
        self._defaults = dict(DEFAULT_REALITIES) if defaults else {}
        self._table: dict[str, MarketReality] = dict(self._defaults)
        for symbol, reality in (realities or {}).items():
            self.set(symbol, reality)

    def set(self, symbol: str, reality: MarketReality) -> None:
        with self._lock:
            self._table[symbol.upper()] = reality

    def update(self, symbol: str, **changes: object) -> MarketReality:
        """Change some fields of the symbol's reality (e.g. `permission="no_permissions"`)."""
        with self._lock:
            reality = dataclasses.replace(self._table.get(symbol.upper(), IDEAL), **changes)  # type: ignore[arg-type]
            self._table[symbol.upper()] = reality
            return reality

    def get(self, symbol: str) -> MarketReality | None:
        with self._lock:
            return self._table.get(symbol.upper())

    def clear(self, symbol: str | None = None) -> None:
        """Make one symbol (or every symbol) ideal."""
        with self._lock:
            if symbol is None:
                self._table.clear()
            else:
                self._table.pop(symbol.upper(), None)

    def reset(self) -> None:
        """Back to the defaults."""
        with self._lock:
            self._table = dict(self._defaults)

    def add_spec(self, spec: str) -> None:
        symbol, changes = parse_reality_spec(spec)
        self.update(symbol, **changes)

    @classmethod
    def from_specs(cls, specs: Iterable[str], *, defaults: bool = True) -> GatewayRealities:
        realities = cls(defaults=defaults)
        for spec in specs:
            realities.add_spec(spec)
        return realities


_REALITY_SETTINGS = "listed, no_trade_share, halt, late_open, split, dividend, permission"


def parse_reality_spec(spec: str) -> tuple[str, dict[str, object]]:
    """`SYMBOL:key=value[,key=value...]`: listed=YYYY-MM-DD, no_trade_share=0.3,
    halt=YYYY-MM-DD@HH:MM+MIN, late_open=YYYY-MM-DD+MIN, split=YYYY-MM-DD@RATIO,
    dividend=YYYY-MM-DD@AMOUNT (halt, late_open, split, dividend repeatable), permission=KIND."""
    symbol, sep, settings = spec.partition(":")
    if not sep or not symbol or not settings:
        raise ValueError(
            f"reality {spec!r} must look like ILLQ:no_trade_share=0.3 or SPY:permission=no_permissions"
        )
    halts: list[Halt] = []
    splits: list[Split] = []
    dividends: list[Dividend] = []
    changes: dict[str, object] = {}
    try:
        for item in filter(None, (part.strip() for part in settings.split(","))):
            key, _, value = item.partition("=")
            if key == "listed":
                changes["listed"] = dt.date.fromisoformat(value)
            elif key == "no_trade_share":
                changes["no_trade_share"] = float(value)
            elif key == "halt":
                day, _, rest = value.partition("@")
                start, _, minutes = rest.partition("+")
                halts.append(Halt(dt.date.fromisoformat(day), dt.time.fromisoformat(start), int(minutes)))
            elif key == "late_open":
                day, _, minutes = value.partition("+")
                halts.append(late_open(dt.date.fromisoformat(day), int(minutes)))
            elif key == "split":
                day, _, ratio = value.partition("@")
                splits.append(Split(dt.date.fromisoformat(day), float(ratio)))
            elif key == "dividend":
                day, _, amount = value.partition("@")
                dividends.append(Dividend(dt.date.fromisoformat(day), float(amount)))
            elif key == "permission":
                if value not in PERMISSION_KINDS:
                    raise ValueError(f"permission must be one of {', '.join(PERMISSION_KINDS)}")
                changes["permission"] = value
            else:
                raise ValueError(f"unknown setting {key!r} ({_REALITY_SETTINGS})")
    except ValueError as exc:
        raise ValueError(f"reality {spec!r}: {exc}") from None
    if halts:
        changes["halts"] = tuple(halts)
    if splits:
        changes["splits"] = tuple(splits)
    if dividends:
        changes["dividends"] = tuple(dividends)
    try:
        MarketReality(**changes)  # type: ignore[arg-type]  # validate the values together
    except ValueError as exc:
        raise ValueError(f"reality {spec!r}: {exc}") from None
    return symbol.upper(), changes
