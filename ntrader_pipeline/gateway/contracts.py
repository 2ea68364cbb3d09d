"""The gateway's static contract registry and the trading-hours strings IB puts into contract details.

Stocks and ETFs (NYSE sessions), FX pairs on IDEALPRO (24×5), and CME equity index futures, both a dated
contract (FUT) and IB's continuous future (CONTFUT), on the CME Globex calendar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ntrader_pipeline.markets.calendars import CME, FX_24X5, NYSE, get_session_calendar
from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE, is_session, session_for

IB_TIME_ZONE_ID = "US/Eastern"  # IB still reports the legacy zone name
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
    local_symbol: str = ""  # IB's localSymbol: EUR.USD, ESH4; the symbol for stocks
    last_trade: str = ""  # lastTradeDateOrContractMonth (YYYYMMDD) of futures
    multiplier: str = ""
    min_tick: float = 0.01
    calendar: str = NYSE
    time_zone_id: str = "US/Eastern"  # IB's legacy zone names
    size_rules: tuple[str, str, str] = ("0.0001", "0.0001", "100")  # minSize, sizeIncrement, suggested
    under_sec_type: str = ""

    @property
    def key(self) -> str:
        """Registry key and synthetic-series name: localSymbol, the root symbol for a CONTFUT."""
        return self.symbol if self.sec_type in ("STK", "CONTFUT") else self.local_symbol

    @property
    def ib_local_symbol(self) -> str:
        return self.local_symbol or self.symbol

    @property
    def price_decimals(self) -> int:
        return len(f"{self.min_tick:.10f}".rstrip("0").partition(".")[2])

    @property
    def instrument_id(self) -> str:
        """As Nautilus' IB adapter names it (for logs): SPY.ARCA, EUR/USD.IDEALPRO, ESH4.CME, ES.CME."""
        if self.sec_type == "CASH":
            return f"{self.local_symbol.replace('.', '/')}.{self.primary_exchange}"
        if self.sec_type == "FUT":
            return f"{self.local_symbol}.{self.primary_exchange}"
        return f"{self.symbol}.{self.primary_exchange}"


def _fx(base: str, quote: str, con_id: int, name: str, price: float) -> ListedContract:
    return ListedContract(
        base, "IDEALPRO", con_id, "", name, "", "", "", "", price, 1_000_000, currency=quote,
        sec_type="CASH", local_symbol=f"{base}.{quote}", min_tick=0.00005, calendar=FX_24X5,
        size_rules=("1", "1", "1"),
    )  # fmt: skip


def _es(sec_type: str, con_id: int, local_symbol: str, last_trade: str) -> ListedContract:
    return ListedContract(
        "ES", "CME", con_id, "", "E-mini S&P 500", "", "", "", "", 4750.0, 1_500, sec_type=sec_type,
        local_symbol=local_symbol, last_trade=last_trade, multiplier="50", min_tick=0.25, calendar=CME,
        time_zone_id="US/Central", size_rules=("1", "1", "1"), under_sec_type="IND",
    )  # fmt: skip


# fmt: off
CONTRACTS: dict[str, ListedContract] = {
    c.key: c
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
        # real splits to test against (gateway/reality_histories.py); conIds here are illustrative
        ListedContract(
            "GE", "NYSE", 498843743, "US3696043013", "GENERAL ELECTRIC CO", "COMMON", "Industrial",
            "Miscellaneous Manufactur", "Diversified Manufact Op", 160.0, 20_000,
        ),
        ListedContract(
            "CMG", "NYSE", 43645842, "US1696561059", "CHIPOTLE MEXICAN GRILL INC", "COMMON",
            "Consumer, Cyclical", "Retail", "Retail-Restaurants", 55.0, 60_000,
        ),
        # synthetic, not a real listing: an illiquid small cap with a late listing, a halt and a split
        # (see gateway/realities.py DEFAULT_REALITIES)
        ListedContract(
            "ILLQ", "NASDAQ", 700000001, "US0000ILLQ09", "ILLIQUID SYNTHETIC HOLDINGS INC", "COMMON",
            "Industrial", "Machinery-Diversified", "Machinery-Diversified", 25.0, 400,
        ),
        _fx("EUR", "USD", 12087792, "European Monetary Union Euro", 1.09),
        _fx("GBP", "USD", 12087797, "British pound", 1.27),
        _es("FUT", 495512563, "ESH4", "20240315"),
        _es("FUT", 551601561, "ESM4", "20240621"),
        # IB's continuous future resolves to the front month; its bars are the back-adjusted series
        _es("CONTFUT", 495512563, "ESH4", "20240315"),
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
    last_trade_date_or_contract_month: str = ""

    @property
    def display(self) -> str:
        symbol = self.symbol or self.local_symbol or f"conId {self.con_id}"
        return f"{symbol}@{self.primary_exchange or self.exchange or '?'}"


def find_contract(
    query: ContractQuery, registry: Mapping[str, ListedContract] = CONTRACTS
) -> ListedContract | None:
    """Resolve like IB: by conId when given, else by symbol (or local symbol) and security type (STK when
    not given); the other fields given must agree. A FUT needs its contract month or local symbol.
    `registry`: what the gateway lists (the fixed contracts, plus synthetic stocks: universe.py)."""
    sec_type = query.sec_type.strip().upper() or "STK"
    if query.con_id > 0:
        candidates = [c for c in registry.values() if c.con_id == query.con_id and c.sec_type == sec_type]
    else:
        name = query.symbol.strip().upper()
        local = query.local_symbol.strip().upper()
        candidates = [
            c
            for c in registry.values()
            if c.sec_type == sec_type
            and (not name or name == c.symbol)
            and (not local or local == c.ib_local_symbol)
            and (name or local)
        ]
    month = query.last_trade_date_or_contract_month.strip()
    if month:
        candidates = [c for c in candidates if c.last_trade.startswith(month)]
    if sec_type == "FUT" and not month and not query.local_symbol:
        return None  # ambiguous: IB answers 200 for a future without its expiry
    candidate = candidates[0] if len(candidates) == 1 else None
    if candidate is None:
        return None
    checks = ((query.currency, candidate.currency), (query.primary_exchange, candidate.primary_exchange))
    if any(given and given.upper() != actual for given, actual in checks):
        return None
    allowed = ("SMART", candidate.primary_exchange) if sec_type == "STK" else (candidate.primary_exchange,)
    if query.exchange and query.exchange.upper() not in allowed:
        return None
    return candidate


def _hhmm(day: dt.date, moment: dt.datetime | dt.time) -> str:
    local = moment.astimezone(_EXCHANGE_TZ).time() if isinstance(moment, dt.datetime) else moment
    return f"{day:%Y%m%d}:{local:%H%M}"


def trading_hours(around: dt.date, calendar: str = NYSE) -> tuple[str, str]:
    """IB's `tradingHours` and `liquidHours` from `around` for a week.

    NYSE: tradingHours 04:00-20:00 (extended), liquidHours RTH; closed days read `YYYYMMDD:CLOSED`, half
    days close RTH at 13:00 and extended hours at 17:00. FX and futures: both list the whole session in
    the contract's time zone, from its open the evening before (`20240101:1700-20240102:1600`).
    """
    if calendar != NYSE:
        return _session_hours(around, calendar)
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


def _session_hours(around: dt.date, calendar: str) -> tuple[str, str]:
    sessions = get_session_calendar(calendar)
    zone = ZoneInfo(sessions.timezone)
    parts: list[str] = []
    for offset in range(HOURS_DAYS_AHEAD):
        day = around + dt.timedelta(days=offset)
        if not (sessions.first_session <= day <= sessions.last_session) or not sessions.is_session(day):
            parts.append(f"{day:%Y%m%d}:CLOSED")
            continue
        session = sessions.session(day)
        opened, closed = session.open.astimezone(zone), session.close.astimezone(zone)
        parts.append(f"{opened:%Y%m%d:%H%M}-{closed:%Y%m%d:%H%M}")
    hours = ";".join(parts)
    return hours, hours
