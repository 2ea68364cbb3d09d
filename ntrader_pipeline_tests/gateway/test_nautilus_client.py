"""Smoke test: the real Nautilus `HistoricInteractiveBrokersClient` against the in-process gateway."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import pytest
from nautilus_trader.adapters.interactive_brokers.common import IBContract
from nautilus_trader.adapters.interactive_brokers.historical import client as historical_client
from nautilus_trader.common.component import is_logging_initialized

from ntrader_pipeline.gateway import EmbeddedGateway, Fault
from ntrader_pipeline.gateway.synthetic import session_bars
from ntrader_pipeline_tests.gateway.conftest import fixed_clock

NEW_YORK = "America/New_York"
SPY = IBContract(secType="STK", symbol="SPY", exchange="SMART", primaryExchange="ARCA")

# Nautilus' Rust logger can be set once per process. The client's constructor initialises it and keeps the
# guard on the client; once that client is garbage collected, the next initialisation (another client, a
# BacktestEngine) aborts the interpreter. So the guard is kept for the life of the process.
_PROCESS_LOG_GUARDS: list[Any] = []


def _init_logging_once(original: Callable[..., Any]) -> Callable[..., Any]:
    def init(**kwargs: Any) -> Any:
        if is_logging_initialized():
            return None
        guard = original(**kwargs)
        _PROCESS_LOG_GUARDS.append(guard)
        return guard

    return init


def utc_ns(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp()) * 1_000_000_000


async def fetch_everything(gateway: EmbeddedGateway) -> dict[str, Any]:
    client = historical_client.HistoricInteractiveBrokersClient(
        host=gateway.host, port=gateway.port, client_id=17, log_level="ERROR"
    )
    asyncio.get_running_loop().set_debug(False)  # the constructor turns debug on; it triples decode time
    try:
        await asyncio.wait_for(client.connect(), 20)
        results: dict[str, Any] = {}
        results["instruments"] = await asyncio.wait_for(client.request_instruments(contracts=[SPY]), 20)

        async def bars(spec: str, start: dt.datetime, end: dt.datetime, timeout: int = 10) -> list:
            request = client.request_bars(
                bar_specifications=[spec],
                start_date_time=start,
                end_date_time=end,
                tz_name=NEW_YORK,
                contracts=[SPY],
                use_rth=True,
                timeout=timeout,
            )
            return await asyncio.wait_for(request, timeout + 10)

        session_open, session_close = dt.datetime(2024, 1, 5, 9, 30), dt.datetime(2024, 1, 5, 16, 0)
        results["minute"] = await bars("1-MINUTE-LAST", session_open, session_close)
        results["daily"] = await bars("1-DAY-LAST", dt.datetime(2024, 1, 5), dt.datetime(2024, 1, 6))

        gateway.faults.set("SPY", Fault(short_bars=5))
        results["short"] = await bars("1-MINUTE-LAST", session_open, session_close)
        gateway.faults.set(
            "SPY", Fault(error=(162, "Historical Market Data Service error message:HMDS query"))
        )
        started = time.monotonic()
        results["error"] = await bars("1-MINUTE-LAST", session_open, session_close, timeout=2)
        results["error_seconds"] = time.monotonic() - started
        return results
    finally:
        await asyncio.wait_for(client._client._stop_async(), 10)


def test_real_nautilus_client_gets_instruments_and_bars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IB_MAX_CONNECTION_ATTEMPTS", "1")  # otherwise it reconnects forever
    monkeypatch.setattr(historical_client, "init_logging", _init_logging_once(historical_client.init_logging))
    with EmbeddedGateway(clock=fixed_clock) as gateway:
        results = asyncio.run(asyncio.wait_for(fetch_everything(gateway), 120))
        historical = gateway.requests.historical()

    [instrument] = results["instruments"]
    assert str(instrument.id) == "SPY.ARCA"
    assert instrument.isin == "US78462F1030"
    assert instrument.price_increment.as_double() == 0.01

    minute = results["minute"]
    assert len(minute) == 390
    assert minute[0].ts_event == utc_ns(2024, 1, 5, 14, 30)  # bar open
    assert minute[-1].ts_event == utc_ns(2024, 1, 5, 20, 59)
    assert minute[0].ts_init == minute[0].ts_event + 60 * 1_000_000_000  # bar close
    expected = session_bars("SPY", dt.date(2024, 1, 5), 60)
    assert [b.close.as_double() for b in minute] == expected.close.tolist()

    [daily] = results["daily"]
    assert daily.ts_event == utc_ns(2024, 1, 5)  # IB daily dates are YYYYMMDD -> midnight UTC
    [aggregate] = session_bars("SPY", dt.date(2024, 1, 5), 86400).rows()
    assert (daily.high.as_double(), daily.low.as_double()) == (aggregate.high, aggregate.low)
    assert daily.volume.as_double() == aggregate.volume

    assert len(results["short"]) == 385
    # an error completes nothing: the client waits its full timeout, then returns [] without raising
    assert results["error"] == []
    assert results["error_seconds"] >= 2

    # exactly what the client sent: a UTC end time, seconds for a sub-day range, days for a calendar day
    sent = [(r.end_date_time, r.duration, r.bar_size, r.format_date, r.use_rth) for r in historical]
    assert sent[:2] == [
        ("20240105 21:00:00 UTC", "23400 S", "1 min", 2, True),
        ("20240106 05:00:00 UTC", "1 D", "1 day", 2, True),
    ]
    assert len(sent) == 4
