"""Gateway → client messages as field lists, laid out for the negotiated server version.

Layouts mirror ibapi's `decoder.py`; a wrong field count makes the client's decoder raise and stop
processing every later message, so each version switch below names the ibapi constant it follows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import IntEnum
from zoneinfo import ZoneInfo

from ibapi import server_versions as sv

from ntrader_pipeline.gateway.codec import Field
from ntrader_pipeline.gateway.contracts import (
    IB_TIME_ZONE_ID,
    MARKET_RULE_IDS,
    ORDER_TYPES,
    VALID_EXCHANGES,
    ListedContract,
)
from ntrader_pipeline.gateway.synthetic import SyntheticBar

MIN_SUPPORTED_VERSION = 100  # ibapi's MIN_CLIENT_VER
# The newest text-protocol version. From MIN_SERVER_VER_PROTOBUF (201) on, message ids travel as raw 4-byte
# integers and, from 205/208, contract details and historical data as protobuf: not implemented here. A real
# gateway of 2026 would answer ibapi 10.45's v100..223 with a protobuf version; 200 is what this one speaks.
MAX_SUPPORTED_VERSION = sv.MIN_SERVER_VER_PARAMETRIZED_DAYS_OF_EXECUTIONS  # 200
_EXCHANGE_TZ = ZoneInfo(IB_TIME_ZONE_ID)


class Outgoing(IntEnum):
    ERR_MSG = 4
    ACCT_VALUE = 6
    ACCT_UPDATE_TIME = 8
    NEXT_VALID_ID = 9
    CONTRACT_DATA = 10
    MANAGED_ACCTS = 15
    HISTORICAL_DATA = 17
    CURRENT_TIME = 49
    CONTRACT_DATA_END = 52
    OPEN_ORDER_END = 53
    ACCT_DOWNLOAD_END = 54
    EXECUTION_DATA_END = 55
    POSITION_END = 62
    ACCOUNT_SUMMARY = 63
    ACCOUNT_SUMMARY_END = 64
    ACCOUNT_UPDATE_MULTI = 73
    ACCOUNT_UPDATE_MULTI_END = 74
    HEAD_TIMESTAMP = 88
    COMPLETED_ORDERS_END = 102
    HISTORICAL_DATA_END = 108  # from MIN_SERVER_VER_HISTORICAL_DATA_END (196)
    CURRENT_TIME_IN_MILLIS = 109  # from MIN_SERVER_VER_CURRENT_TIME_IN_MILLIS (197)


def handshake_reply(server_version: int, now: dt.datetime) -> list[Field]:
    return [server_version, now.astimezone(dt.UTC).strftime("%Y%m%d %H:%M:%S UTC")]


def managed_accounts(accounts: Sequence[str]) -> list[Field]:
    return [Outgoing.MANAGED_ACCTS, 1, ",".join(accounts)]


def next_valid_id(order_id: int) -> list[Field]:
    return [Outgoing.NEXT_VALID_ID, 1, order_id]


def current_time(now: dt.datetime) -> list[Field]:
    return [Outgoing.CURRENT_TIME, 1, int(now.timestamp())]


def current_time_in_millis(now: dt.datetime) -> list[Field]:
    return [Outgoing.CURRENT_TIME_IN_MILLIS, _millis(now)]  # no version field


def _millis(moment: dt.datetime) -> int:
    return round(moment.timestamp() * 1000)


def error(server_version: int, req_id: int, code: int, text: str, now: dt.datetime) -> list[Field]:
    """From MIN_SERVER_VER_ERROR_TIME (194) the version field goes and the error's time (ms) follows."""
    fields: list[Field] = [Outgoing.ERR_MSG]
    if server_version < sv.MIN_SERVER_VER_ERROR_TIME:
        fields.append(2)  # message version
    fields += [req_id, code, text]
    if server_version >= sv.MIN_SERVER_VER_ADVANCED_ORDER_REJECT:
        fields.append("")  # advancedOrderRejectJson
    if server_version >= sv.MIN_SERVER_VER_ERROR_TIME:
        fields.append(_millis(now))
    return fields


def contract_data(
    server_version: int,
    req_id: int,
    contract: ListedContract,
    exchange: str,
    hours: tuple[str, str],
) -> list[Field]:
    """One contractDetails (stock, FX pair or future); `hours` is (tradingHours, liquidHours)."""
    return [
        *_contract_identity(server_version, req_id, contract, exchange),
        *_contract_description(server_version, contract, hours),
        *_contract_extensions(server_version, contract),
    ]


def _contract_identity(v: int, req_id: int, contract: ListedContract, exchange: str) -> list[Field]:
    """The header and the contract's identity, from the message id to minTick."""
    fields: list[Field] = [Outgoing.CONTRACT_DATA]
    if v < sv.MIN_SERVER_VER_SIZE_RULES:
        fields.append(8)  # message version; >= 3 carries the reqId
    fields += [req_id, contract.symbol, contract.sec_type, contract.last_trade]
    if v >= sv.MIN_SERVER_VER_LAST_TRADE_DATE:
        fields.append(contract.last_trade)  # lastTradeDate
    return [
        *fields,
        0,  # strike
        "",  # right
        exchange,
        contract.currency,
        contract.ib_local_symbol,  # Nautilus builds the instrument id from it
        contract.symbol,  # marketName
        contract.symbol,  # tradingClass
        contract.con_id,
        contract.min_tick,
    ]


def _contract_description(v: int, contract: ListedContract, hours: tuple[str, str]) -> list[Field]:
    """What every server version sends after minTick: names, exchanges, hours and the secIdList."""
    fields: list[Field] = []
    if sv.MIN_SERVER_VER_MD_SIZE_MULTIPLIER <= v < sv.MIN_SERVER_VER_SIZE_RULES:
        fields.append(1)  # mdSizeMultiplier
    fields += [
        contract.multiplier,
        ORDER_TYPES,
        VALID_EXCHANGES,
        1,  # priceMagnifier
        0,  # underConId
        contract.long_name,
        contract.primary_exchange,
        contract.last_trade[:6],  # contractMonth
        contract.industry,
        contract.category,
        contract.subcategory,
        contract.time_zone_id,
        hours[0],
        hours[1],
        "",  # evRule
        0,  # evMultiplier
    ]
    # secIdList: Nautilus requires an ISIN for equities; FX and futures carry none
    fields += [1, "ISIN", contract.isin] if contract.isin else [0]
    return fields


def _contract_extensions(v: int, contract: ListedContract) -> list[Field]:
    """The trailing fields later server versions added, each from its own version on."""
    fields: list[Field] = []
    if v >= sv.MIN_SERVER_VER_AGG_GROUP:
        fields.append(1)
    if v >= sv.MIN_SERVER_VER_UNDERLYING_INFO:
        fields += [contract.symbol if contract.under_sec_type else "", contract.under_sec_type]
    if v >= sv.MIN_SERVER_VER_MARKET_RULES:
        fields.append(MARKET_RULE_IDS)
    if v >= sv.MIN_SERVER_VER_REAL_EXPIRATION_DATE:
        fields.append(contract.last_trade)  # realExpirationDate
    if v >= sv.MIN_SERVER_VER_STOCK_TYPE:
        fields.append(contract.stock_type)
    if sv.MIN_SERVER_VER_FRACTIONAL_SIZE_SUPPORT <= v < sv.MIN_SERVER_VER_SIZE_RULES:
        fields.append("0.0001")  # sizeMinTick
    if v >= sv.MIN_SERVER_VER_SIZE_RULES:
        fields += list(contract.size_rules)  # minSize, sizeIncrement, suggestedSizeIncrement
    if v >= sv.MIN_SERVER_VER_INELIGIBILITY_REASONS:
        fields.append(0)  # ineligibility reasons count
    return fields


def contract_data_end(req_id: int) -> list[Field]:
    return [Outgoing.CONTRACT_DATA_END, 1, req_id]


def format_bar_time(bar: SyntheticBar, format_date: int, daily: bool) -> str:
    """IB bar dates: daily `YYYYMMDD`; intraday epoch seconds (formatDate 2) or local `YYYYMMDD  HH:MM:SS`."""
    if daily:
        return bar.session_date.strftime("%Y%m%d")
    if format_date == 2:
        return str(bar.start)
    return dt.datetime.fromtimestamp(bar.start, _EXCHANGE_TZ).strftime("%Y%m%d  %H:%M:%S")


def format_window_time(moment: dt.datetime, format_date: int) -> str:
    """The query's start/end in the message header, in the same style as intraday bar dates."""
    if format_date == 2:
        return str(int(moment.timestamp()))
    return moment.astimezone(_EXCHANGE_TZ).strftime("%Y%m%d  %H:%M:%S")


MALFORMED_PRICE = "N/A"  # what a broken feed puts where a price belongs (the `malformed` fault)


def _price(value: float) -> str:
    """Cents as before; finer ticks (FX quotes in 1/100000) keep their digits."""
    text = f"{value:.2f}"
    return text if float(text) == value else f"{value:.7f}".rstrip("0")


def historical_data(
    server_version: int,
    req_id: int,
    window: tuple[dt.datetime, dt.datetime],
    bars: Sequence[SyntheticBar],
    *,
    format_date: int,
    daily: bool,
    trades: bool,
    garbled: frozenset[int] = frozenset(),
) -> list[list[Field]]:
    """The messages answering one request: all bars in one historicalData message, which below server
    version 196 carries the query's start/end and ends the request; from 196
    (MIN_SERVER_VER_HISTORICAL_DATA_END) a historicalDataEnd message carries them instead.

    Non-TRADES bars (MIDPOINT) carry -1 for volume, wap and count, as IB sends them. Bars whose `start` is
    in `garbled` carry a non-numeric close price.
    """
    below_124 = server_version < sv.MIN_SERVER_VER_SYNT_REALTIME_BARS
    separate_end = server_version >= sv.MIN_SERVER_VER_HISTORICAL_DATA_END
    start, end = (format_window_time(moment, format_date) for moment in window)
    fields: list[Field] = [Outgoing.HISTORICAL_DATA]
    if below_124:
        fields.append(3)  # message version
    fields.append(req_id)
    if not separate_end:
        fields += [start, end]
    fields.append(len(bars))
    for bar in bars:
        fields += [
            format_bar_time(bar, format_date, daily),
            _price(bar.open),
            _price(bar.high),
            _price(bar.low),
            MALFORMED_PRICE if bar.start in garbled else _price(bar.close),
        ]
        fields += [bar.volume, f"{bar.wap:.4f}"] if trades else [-1, -1]
        if below_124:
            fields.append("false")  # hasGaps
        fields.append(bar.count if trades else -1)
    if separate_end:
        return [fields, [Outgoing.HISTORICAL_DATA_END, req_id, start, end]]
    return [fields]


# -- the connect sequence of a paper account with no positions, orders or executions ------------------
# Wrapped messages carry a version field that ibapi's decoder skips (decoder.interpretWithSignature).


def open_order_end() -> list[Field]:
    return [Outgoing.OPEN_ORDER_END, 1]


def completed_orders_end() -> list[Field]:
    return [Outgoing.COMPLETED_ORDERS_END]  # no version field (decoder.processCompletedOrdersEndMsg)


def position_end() -> list[Field]:
    return [Outgoing.POSITION_END, 1]


def exec_details_end(req_id: int) -> list[Field]:
    return [Outgoing.EXECUTION_DATA_END, 1, req_id]


def account_value(key: str, value: str, currency: str, account: str) -> list[Field]:
    return [Outgoing.ACCT_VALUE, 2, key, value, currency, account]


def account_update_time(now: dt.datetime) -> list[Field]:
    return [Outgoing.ACCT_UPDATE_TIME, 1, now.astimezone(_EXCHANGE_TZ).strftime("%H:%M")]


def account_download_end(account: str) -> list[Field]:
    return [Outgoing.ACCT_DOWNLOAD_END, 1, account]


def account_summary(req_id: int, account: str, tag: str, value: str, currency: str) -> list[Field]:
    return [Outgoing.ACCOUNT_SUMMARY, 1, req_id, account, tag, value, currency]


def account_summary_end(req_id: int) -> list[Field]:
    return [Outgoing.ACCOUNT_SUMMARY_END, 1, req_id]


def account_update_multi(
    req_id: int, account: str, model_code: str, key: str, value: str, currency: str
) -> list[Field]:
    return [Outgoing.ACCOUNT_UPDATE_MULTI, 1, req_id, account, model_code, key, value, currency]


def account_update_multi_end(req_id: int) -> list[Field]:
    return [Outgoing.ACCOUNT_UPDATE_MULTI_END, 1, req_id]


def head_timestamp(req_id: int, epoch_seconds: int, format_date: int) -> list[Field]:
    """formatDate 2: epoch seconds; otherwise `YYYYMMDD-HH:MM:SS` in UTC (the gateway's login zone)."""
    if format_date == 2:
        text = str(epoch_seconds)
    else:
        text = dt.datetime.fromtimestamp(epoch_seconds, dt.UTC).strftime("%Y%m%d-%H:%M:%S")
    return [Outgoing.HEAD_TIMESTAMP, req_id, text]  # no version field (decoder.processHeadTimestamp)
