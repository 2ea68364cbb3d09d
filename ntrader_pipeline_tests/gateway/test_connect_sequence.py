"""What a general-purpose IB client sends on connect, answered as a paper account answers it: ibapi's own
EClient/EWrapper gets every end message and the head timestamp, each within 2 s."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from ibapi.client import EClient
from ibapi.contract import Contract
from ibapi.execution import ExecutionFilter
from ibapi.wrapper import EWrapper

from ntrader_pipeline.gateway import EmbeddedGateway
from ntrader_pipeline.gateway.realities import MarketReality
from ntrader_pipeline_tests.gateway.conftest import fixed_clock

WITHIN_S = 2.0


class Recorder(EWrapper, EClient):
    """ibapi's client with a wrapper that records which callbacks arrived (and when)."""

    def __init__(self) -> None:
        EClient.__init__(self, self)
        self.arrived: dict[str, threading.Event] = {}
        self.values: dict[str, object] = {}
        self.errors: list[tuple[int, int, str]] = []
        self.account_values: list[tuple[str, str, str, str]] = []

    def _event(self, name: str) -> threading.Event:
        return self.arrived.setdefault(name, threading.Event())

    def _mark(self, name: str, value: object = None) -> None:
        self.values.setdefault(name, value)
        self._event(name).set()

    def wait_for(self, name: str, timeout: float = WITHIN_S) -> bool:
        return self._event(name).wait(timeout)

    # callbacks ------------------------------------------------------------------------------------
    def nextValidId(self, orderId: int) -> None:
        self._mark("nextValidId", orderId)

    def positionEnd(self) -> None:
        self._mark("positionEnd")

    def openOrderEnd(self) -> None:
        self._mark("openOrderEnd")

    def completedOrdersEnd(self) -> None:
        self._mark("completedOrdersEnd")

    def updateAccountValue(self, key: str, val: str, currency: str, accountName: str) -> None:
        self.account_values.append((key, val, currency, accountName))
        self._mark("updateAccountValue")

    def updatePortfolio(self, *args: object) -> None:
        self._mark("updatePortfolio")

    def updateAccountTime(self, timeStamp: str) -> None:
        self._mark("updateAccountTime", timeStamp)

    def accountDownloadEnd(self, accountName: str) -> None:
        self._mark("accountDownloadEnd", accountName)

    def execDetailsEnd(self, reqId: int) -> None:
        self._mark("execDetailsEnd", reqId)

    def accountSummary(self, reqId: int, account: str, tag: str, value: str, currency: str) -> None:
        self._mark(f"accountSummary:{tag}", value)

    def accountSummaryEnd(self, reqId: int) -> None:
        self._mark("accountSummaryEnd", reqId)

    def headTimestamp(self, reqId: int, headTimestamp: str) -> None:
        self._mark(f"headTimestamp:{reqId}", headTimestamp)

    def error(self, reqId, errorTime, errorCode, errorString, advancedOrderRejectJson="") -> None:
        self.errors.append((reqId, errorCode, errorString))
        self._mark(f"error:{reqId}", (errorCode, errorString))


def _stock(symbol: str, primary: str) -> Contract:
    contract = Contract()
    contract.symbol, contract.secType, contract.exchange = symbol, "STK", "SMART"
    contract.primaryExchange, contract.currency = primary, "USD"
    return contract


@pytest.fixture
def client() -> Iterator[tuple[Recorder, EmbeddedGateway]]:
    with EmbeddedGateway(clock=fixed_clock) as gateway:
        app = Recorder()
        app.connect(gateway.host, gateway.port, clientId=17)
        reader = threading.Thread(target=app.run, daemon=True)
        reader.start()
        assert app.wait_for("nextValidId", 5.0), "no nextValidId after connect"
        yield app, gateway
        app.disconnect()
        reader.join(5)


def test_ibapi_client_gets_every_end_message_of_the_connect_sequence(client) -> None:
    app, gateway = client
    assert app.serverVersion() == 200
    sent = time.monotonic()
    app.reqPositions()
    app.reqOpenOrders()
    app.reqCompletedOrders(False)
    app.reqAccountUpdates(True, "")
    app.reqExecutions(5, ExecutionFilter())
    app.reqAccountSummary(6, "All", "NetLiquidation,TotalCashValue")
    for name in (
        "positionEnd",
        "openOrderEnd",
        "completedOrdersEnd",
        "updateAccountValue",
        "updateAccountTime",
        "accountDownloadEnd",
        "execDetailsEnd",
        "accountSummaryEnd",
    ):
        assert app.wait_for(name), f"{name} did not arrive within {WITHIN_S} s"
    assert time.monotonic() - sent < WITHIN_S
    assert app.values["accountDownloadEnd"] == gateway_account(gateway)
    assert app.values["execDetailsEnd"] == 5 and app.values["accountSummaryEnd"] == 6
    assert app.values["accountSummary:NetLiquidation"] == "1000000.00"
    assert ("NetLiquidation", "1000000.00", "USD", gateway_account(gateway)) in app.account_values
    assert "updatePortfolio" not in app.values  # a paper account without positions
    assert not [e for e in app.errors if e[0] != -1]


def gateway_account(gateway: EmbeddedGateway) -> str:
    return gateway._server.context.account


def test_all_and_auto_open_orders_end_too(client) -> None:
    app, _ = client
    app.reqAllOpenOrders()
    assert app.wait_for("openOrderEnd")
    app.arrived["openOrderEnd"].clear()
    app.reqAutoOpenOrders(True)  # IB only allows it for client id 0; the end message still comes
    assert app.wait_for("openOrderEnd")


def test_head_timestamp_is_the_listing_for_a_late_listing_and_the_calendar_start_otherwise(client) -> None:
    app, _ = client
    app.reqHeadTimeStamp(8, _stock("ILLQ", "NASDAQ"), "TRADES", 1, 1)
    app.reqHeadTimeStamp(9, _stock("SPY", "ARCA"), "TRADES", 1, 2)
    assert app.wait_for("headTimestamp:8") and app.wait_for("headTimestamp:9")
    assert app.values["headTimestamp:8"] == "20230912-13:30:00"  # ILLQ's listing, 09:30 New York, in UTC
    assert app.values["headTimestamp:9"] == "946909800"  # 2000-01-03 14:30 UTC: the calendar's first open


def test_head_timestamp_without_permission_is_ib_354(client) -> None:
    app, gateway = client
    gateway.realities.set("QQQ", MarketReality(permission="no_permissions"))
    app.reqHeadTimeStamp(10, _stock("QQQ", "NASDAQ"), "TRADES", 1, 2)
    assert app.wait_for("error:10")
    assert app.values["error:10"] == (354, "Requested market data is not subscribed.")
    assert "headTimestamp:10" not in app.values


def test_unknown_requests_are_answered_not_left_waiting(client) -> None:
    app, _ = client
    app.reqHeadTimeStamp(11, _stock("NOPE", "NYSE"), "TRADES", 1, 2)
    assert app.wait_for("error:11")
    assert app.values["error:11"][0] == 200
    app.reqSecDefOptParams(12, "SPY", "", "STK", 756733)  # not served: an error for its reqId, at once
    assert app.wait_for("error:12")
    assert app.values["error:12"][0] == 321
