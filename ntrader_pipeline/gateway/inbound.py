"""Client → gateway messages the gateway understands, decoded per negotiated server version.

Field layouts follow ibapi's `client.py` (`reqContractDetails`, `reqHistoricalData`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum

from ibapi import server_versions as sv

from ntrader_pipeline.gateway.contracts import ContractQuery


class Incoming(IntEnum):
    REQ_OPEN_ORDERS = 5
    REQ_ACCT_DATA = 6
    REQ_EXECUTIONS = 7
    REQ_IDS = 8
    REQ_CONTRACT_DATA = 9
    REQ_AUTO_OPEN_ORDERS = 15
    REQ_ALL_OPEN_ORDERS = 16
    REQ_MANAGED_ACCTS = 17
    REQ_HISTORICAL_DATA = 20
    CANCEL_HISTORICAL_DATA = 25
    REQ_CURRENT_TIME = 49
    REQ_MARKET_DATA_TYPE = 59
    REQ_POSITIONS = 61
    REQ_ACCOUNT_SUMMARY = 62
    CANCEL_ACCOUNT_SUMMARY = 63
    CANCEL_POSITIONS = 64
    START_API = 71
    REQ_ACCOUNT_UPDATES_MULTI = 76
    CANCEL_ACCOUNT_UPDATES_MULTI = 77
    REQ_HEAD_TIMESTAMP = 87
    CANCEL_HEAD_TIMESTAMP = 90
    REQ_COMPLETED_ORDERS = 99
    REQ_CURRENT_TIME_IN_MILLIS = 105  # from MIN_SERVER_VER_CURRENT_TIME_IN_MILLIS (197)


class MalformedRequestError(ValueError):
    """A message ended early or had a non-numeric field where a number belongs."""


class _Fields:
    """Sequential reader over a message's fields (the message id already consumed)."""

    def __init__(self, fields: list[str]) -> None:
        self._it: Iterator[str] = iter(fields[1:])

    def text(self) -> str:
        try:
            return next(self._it)
        except StopIteration:
            raise MalformedRequestError("message ended before all expected fields") from None

    def integer(self) -> int:
        value = self.text()
        try:
            return int(value or 0)
        except ValueError:
            raise MalformedRequestError(f"expected an integer field, got {value!r}") from None

    def flag(self) -> bool:
        return self.text().strip().lower() in ("1", "true")


def _contract(fields: _Fields, *, with_primary_exchange: bool) -> ContractQuery:
    con_id = fields.integer()
    symbol, sec_type = fields.text(), fields.text()
    last_trade_date_or_contract_month = fields.text()
    fields.text()  # strike
    fields.text()  # right
    fields.text()  # multiplier
    exchange = fields.text()
    primary_exchange = fields.text() if with_primary_exchange else ""
    currency, local_symbol = fields.text(), fields.text()
    fields.text()  # tradingClass (all supported versions are >= MIN_SERVER_VER_TRADING_CLASS)
    fields.text()  # includeExpired
    return ContractQuery(
        con_id, symbol, sec_type, exchange, primary_exchange, currency, local_symbol,
        last_trade_date_or_contract_month,
    )  # fmt: skip


# Where the reqId sits in requests the gateway does not serve (ibapi client.py at server version 200), so
# they are answered with an error instead of leaving the client waiting: [id, version, reqId, ...] → 2
# (reqMktData, reqMktDepth, reqRealTimeBars, reqFundamentalData), [id, reqId, ...] → 1
# (reqSecDefOptParams, reqMatchingSymbols, reqSmartComponents, reqHistogramData, reqPnL(Single),
# reqHistoricalTicks, reqTickByTickData, reqWshMetaData/EventData, reqUserInfo).
_UNSERVED_REQ_ID_INDEX: dict[str, int] = {
    "1": 2, "10": 2, "50": 2, "52": 2,
    "78": 1, "81": 1, "83": 1, "88": 1, "92": 1, "94": 1, "96": 1, "97": 1, "100": 1, "102": 1, "104": 1,
}  # fmt: skip


def peek_request_id(fields: list[str], server_version: int) -> int | None:
    """Best-effort reqId of a request, so a malformed one can still be answered with an error."""
    message_id = fields[0] if fields else ""
    if message_id in _UNSERVED_REQ_ID_INDEX:
        index = _UNSERVED_REQ_ID_INDEX[message_id]
    elif message_id == str(Incoming.REQ_HISTORICAL_DATA):
        index = 2 if server_version < sv.MIN_SERVER_VER_SYNT_REALTIME_BARS else 1
    elif message_id in (
        str(Incoming.REQ_CONTRACT_DATA),
        str(Incoming.CANCEL_HISTORICAL_DATA),
        str(Incoming.REQ_EXECUTIONS),
        str(Incoming.REQ_ACCOUNT_SUMMARY),
    ):
        index = 2
    elif message_id in (str(Incoming.REQ_HEAD_TIMESTAMP), str(Incoming.CANCEL_HEAD_TIMESTAMP)):
        index = 1
    else:
        return None
    try:
        return int(fields[index])
    except (IndexError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class ContractDetailsRequest:
    req_id: int
    contract: ContractQuery


def parse_contract_details_request(fields: list[str], server_version: int) -> ContractDetailsRequest:
    reader = _Fields(fields)
    reader.integer()  # version 8
    req_id = reader.integer()
    contract = _contract(reader, with_primary_exchange=True)
    return ContractDetailsRequest(req_id, contract)


@dataclass(frozen=True, slots=True)
class HistoricalDataRequest:
    req_id: int
    contract: ContractQuery
    end_date_time: str
    bar_size: str
    duration: str
    use_rth: bool
    what_to_show: str
    format_date: int
    keep_up_to_date: bool


def parse_historical_data_request(fields: list[str], server_version: int) -> HistoricalDataRequest:
    reader = _Fields(fields)
    if server_version < sv.MIN_SERVER_VER_SYNT_REALTIME_BARS:
        reader.integer()  # version 6
    req_id = reader.integer()
    contract = _contract(reader, with_primary_exchange=True)
    end_date_time = reader.text()
    bar_size = reader.text()  # ibapi sends the bar size before the duration
    duration = reader.text()
    use_rth = reader.flag()
    what_to_show = reader.text()
    format_date = reader.integer()
    if contract.sec_type.upper() == "BAG":
        for _ in range(reader.integer() * 4):  # combo legs: conId, ratio, action, exchange
            reader.text()
    keep_up_to_date = server_version >= sv.MIN_SERVER_VER_SYNT_REALTIME_BARS and reader.flag()
    return HistoricalDataRequest(
        req_id,
        contract,
        end_date_time,
        bar_size,
        duration,
        use_rth,
        what_to_show,
        format_date,
        keep_up_to_date,
    )


def parse_cancel_request_id(fields: list[str]) -> int:
    reader = _Fields(fields)
    reader.integer()  # version 1
    return reader.integer()


@dataclass(frozen=True, slots=True)
class HeadTimestampRequest:
    req_id: int
    contract: ContractQuery
    use_rth: bool
    what_to_show: str
    format_date: int


def parse_head_timestamp_request(fields: list[str]) -> HeadTimestampRequest:
    """reqHeadTimeStamp (87): reqId, contract (with primaryExchange), useRTH, whatToShow, formatDate."""
    reader = _Fields(fields)
    req_id = reader.integer()
    contract = _contract(reader, with_primary_exchange=True)
    use_rth = reader.flag()
    what_to_show = reader.text()
    format_date = reader.integer()
    return HeadTimestampRequest(req_id, contract, use_rth, what_to_show, format_date)


def parse_versioned_request_id(fields: list[str]) -> int:
    """The reqId of a request laid out as [id, version, reqId, ...] (reqExecutions, reqAccountSummary)."""
    reader = _Fields(fields)
    reader.integer()  # version
    return reader.integer()
