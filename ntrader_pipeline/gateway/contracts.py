"""The gateway's static contract registry and the trading-hours strings IB puts into contract details."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE, is_session, session_for

IB_TIME_ZONE_ID = "US/Eastern"  # IB still reports the legacy zone name
MIN_TICK = 0.01
HOURS_DAYS_AHEAD = 7  # IB lists about a week of hours starting with the request day
_EXCHANGE_TZ = ZoneInfo(EXCHANGE_TIMEZONE)
_EXTENDED_OPEN = dt.time(4, 0)
_EXTENDED_CLOSE = dt.time(20, 0)
_HALF_DAY_EXTENDED_CLOSE = dt.time(17, 0)


@dataclass(frozen=True, slots=True)
class ListedContract:
    """One US-listed stock or ETF as IB describes it (real conIds and ISINs, so logs look familiar)."""

    symbol: str
    primary_exchange: str
    con_id: int
    isin: str
    long_name: str
    stock_type: str  # IB's stockType: ETF or COMMON
    industry: str
    category: str
    subcategory: str
    base_price: float  # synthetic price level around 2024; see synthetic.session_open_price
    base_volume: int  # average synthetic shares per minute
    currency: str = "USD"
    sec_type: str = "STK"

    @property
    def instrument_id(self) -> str:
        return f"{self.symbol}.{self.primary_exchange}"


# fmt: off
CONTRACTS: dict[str, ListedContract] = {
    c.symbol: c
    for c in (
        ListedContract(
            "SPY", "ARCA", 756733, "US78462F1030", "SPDR S&P 500 ETF TRUST", "ETF", "Funds",
            "Equity Fund", "Growth&Income-Large Cap", 470.0, 60_000,
        ),
        ListedContract(
            "QQQ", "NASDAQ", 320227571, "US46090E1038", "INVESCO QQQ TRUST SERIES 1", "ETF", "Funds",
            "Equity Fund", "Growth-Large Cap", 400.0, 40_000,
        ),
        ListedContract(
            "IWM", "ARCA", 9579970, "US4642876555", "ISHARES RUSSELL 2000 ETF", "ETF", "Funds",
            "Equity Fund", "Growth-Small Cap", 200.0, 30_000,
        ),
        ListedContract(
            "AAPL", "NASDAQ", 265598, "US0378331005", "APPLE INC", "COMMON", "Technology",
            "Computers", "Computers", 185.0, 50_000,
        ),
        ListedContract(
            "MSFT", "NASDAQ", 272093, "US5949181045", "MICROSOFT CORP", "COMMON", "Technology",
            "Software", "Applications Software", 375.0, 25_000,
        ),
        ListedContract(
            "NVDA", "NASDAQ", 4815747, "US67066G1040", "NVIDIA CORP", "COMMON", "Technology",
            "Semiconductors", "Electronic Compo-Semicon", 480.0, 45_000,
        ),
    )
}
# fmt: on

# What a SMART-routed US stock advertises; the client stores these strings but does not interpret them.
ORDER_TYPES = "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,COND,DARKONLY,DAY,GAT,GTC,GTD,IOC,LIT,LMT,MIT,MKT,MOC,MTL,OCA,REL,STP,STPLMT,TRAIL,WHATIF"  # noqa: E501
VALID_EXCHANGES = (
    "SMART,AMEX,NYSE,CBOE,PHLX,ISE,CHX,ARCA,NASDAQ,DRCTEDGE,BEX,BATS,EDGEA,BYX,IEX,LTSE,MEMX,PEARL"
)
MARKET_RULE_IDS = "26"


@dataclass(frozen=True, slots=True)
class ContractQuery:
    """The contract fields a client sends with reqContractDetails / reqHistoricalData."""

    con_id: int = 0
    symbol: str = ""
    sec_type: str = ""
    exchange: str = ""
    primary_exchange: str = ""
    currency: str = ""
    local_symbol: str = ""

    @property
    def display(self) -> str:
        symbol = self.symbol or self.local_symbol or f"conId {self.con_id}"
        return f"{symbol}@{self.primary_exchange or self.exchange or '?'}"


def find_contract(query: ContractQuery) -> ListedContract | None:
    """Resolve like IB: by conId when given, else by symbol (or local symbol); other fields must agree."""
    if query.con_id > 0:
        candidate = next((c for c in CONTRACTS.values() if c.con_id == query.con_id), None)
    else:
        candidate = CONTRACTS.get((query.symbol or query.local_symbol).strip().upper())
    if candidate is None:
        return None
    checks = (
        (query.sec_type, candidate.sec_type),
        (query.currency, candidate.currency),
        (query.primary_exchange, candidate.primary_exchange),
    )
    if any(given and given.upper() != actual for given, actual in checks):
        return None
    if query.exchange and query.exchange.upper() not in ("SMART", candidate.primary_exchange):
        return None
    if query.local_symbol and query.local_symbol.strip().upper() != candidate.symbol:
        return None
    return candidate


def _hhmm(day: dt.date, moment: dt.datetime | dt.time) -> str:
    local = moment.astimezone(_EXCHANGE_TZ).time() if isinstance(moment, dt.datetime) else moment
    return f"{day:%Y%m%d}:{local:%H%M}"


def trading_hours(around: dt.date) -> tuple[str, str]:
    """IB's `tradingHours` (04:00-20:00 incl. extended) and `liquidHours` (RTH) from `around` for a week.

    Closed days read `YYYYMMDD:CLOSED`; half days close RTH at 13:00 and extended hours at 17:00.
    """
    trading: list[str] = []
    liquid: list[str] = []
    for offset in range(HOURS_DAYS_AHEAD):
        day = around + dt.timedelta(days=offset)
        try:
            session = session_for(day) if is_session(day) else None
        except Exception:  # beyond the calendar's range: report closed rather than fail the request
            session = None
        if session is None:
            trading.append(f"{day:%Y%m%d}:CLOSED")
            liquid.append(f"{day:%Y%m%d}:CLOSED")
            continue
        extended_close = _HALF_DAY_EXTENDED_CLOSE if session.is_half_day else _EXTENDED_CLOSE
        trading.append(f"{_hhmm(day, _EXTENDED_OPEN)}-{_hhmm(day, extended_close)}")
        liquid.append(f"{_hhmm(day, session.open)}-{_hhmm(day, session.close)}")
    return ";".join(trading), ";".join(liquid)
