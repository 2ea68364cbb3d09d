"""A second, independent IB client against the embedded gateway: ib_async (the maintained ib_insync)
runs its whole connect sequence (positions, open and completed orders, account updates, per-account
updates, executions) with no request timing out, then fetches a head timestamp and a session of bars."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import pytest
from ib_async import IB, Stock

from ntrader_pipeline.gateway import EmbeddedGateway
from ntrader_pipeline.gateway.synthetic import MINUTE, session_bars

CONNECT_TIMEOUT_S = 4.0  # ib_async's default: a missing end message would cost exactly this long
SESSION = dt.date(2024, 1, 4)  # a regular NYSE session: 09:30-16:00 New York = 14:30-21:00 UTC
SPY = Stock("SPY", "SMART", "USD", primaryExchange="ARCA")


async def _connect_and_fetch(gateway: EmbeddedGateway) -> dict[str, object]:
    ib = IB()
    started = asyncio.get_running_loop().time()
    # raiseSyncErrors: any connect-sequence request that times out raises ConnectionError naming it
    await ib.connectAsync(
        gateway.host, gateway.port, clientId=23, timeout=CONNECT_TIMEOUT_S, raiseSyncErrors=True
    )
    connect_s = asyncio.get_running_loop().time() - started
    try:
        [contract] = await ib.qualifyContractsAsync(SPY)
        head = await ib.reqHeadTimeStampAsync(contract, "TRADES", useRTH=True, formatDate=2)
        bars = await ib.reqHistoricalDataAsync(
            contract,
            endDateTime=dt.datetime(2024, 1, 4, 21, 0, tzinfo=dt.UTC),
            durationStr="1 D",
            barSizeSetting="1 min",
            whatToShow="TRADES",
            useRTH=True,
            formatDate=2,
        )
        return {
            "connect_s": connect_s,
            "accounts": ib.managedAccounts(),
            "account_values": {(v.account, v.tag, v.currency): v.value for v in ib.accountValues()},
            "con_id": contract.conId,
            "head": head,
            "bars": bars,
        }
    finally:
        ib.disconnect()


@pytest.fixture
def ib_async_errors(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.ERROR, logger="ib_async")
    return caplog


def test_ib_async_connects_without_a_timeout_and_fetches_head_timestamp_and_bars(
    gateway: EmbeddedGateway, ib_async_errors: pytest.LogCaptureFixture
) -> None:
    result = asyncio.run(_connect_and_fetch(gateway))

    assert not [r.getMessage() for r in ib_async_errors.records if "timed out" in r.getMessage()]
    assert result["connect_s"] < CONNECT_TIMEOUT_S / 2  # every end message came; none waited the timeout
    account = gateway._server.context.account
    assert result["accounts"] == [account]
    # reqAccountUpdates and reqAccountUpdatesMulti both delivered the paper account's values
    assert result["account_values"][(account, "NetLiquidation", "USD")] == "1000000.00"
    assert result["con_id"] == 756733
    # SPY's first bar: the NYSE calendar's first session, 2000-01-03 09:30 New York = 14:30 UTC
    assert result["head"] == dt.datetime(2000, 1, 3, 14, 30, tzinfo=dt.UTC)

    bars = result["bars"]
    assert len(bars) == 390  # 09:30-15:59 New York, one bar a minute
    assert bars[0].date == dt.datetime(2024, 1, 4, 14, 30, tzinfo=dt.UTC)
    assert bars[-1].date == dt.datetime(2024, 1, 4, 20, 59, tzinfo=dt.UTC)
    expected = session_bars("SPY", SESSION, MINUTE).rows()
    received = [(int(b.date.timestamp()), b.open, b.high, b.low, b.close, b.volume) for b in bars]
    assert received == [(e.start, e.open, e.high, e.low, e.close, e.volume) for e in expected]
