"""Requests IB answers only "up to now": continuous futures (CONTFUT) and adjusted bars (ADJUSTED_LAST).

IB requires an empty end date/time for both, so a past session is reached with a duration that counts
back from now ("N D", in the instrument calendar's sessions), and the session is picked out of the answer.
Nautilus sends the empty end itself for CONTFUT but has no ADJUSTED_LAST (its price types are
BID/ASK/MID/LAST), so adjusted daily bars are requested here through the client's own request registry,
then re-stamped with the adjusted series' bar type.

`IBConnection` (ib/client.py) runs these; this module never imports it, so the two do not form a cycle.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from typing import Any
from zoneinfo import ZoneInfo

from nautilus_trader.adapters.interactive_brokers.common import IBContract
from nautilus_trader.adapters.interactive_brokers.historical.client import HistoricInteractiveBrokersClient
from nautilus_trader.adapters.interactive_brokers.parsing.data import bar_spec_to_bar_size
from nautilus_trader.model.data import Bar, BarType

from ntrader_pipeline.ib.codes import INVALID_REQUEST
from ntrader_pipeline.ingest.errors import IBError, IncompleteSessionError
from ntrader_pipeline.markets.bar_specs import BarSpec
from ntrader_pipeline.markets.universe import InstrumentSpec

ADJUSTED_LAST = "ADJUSTED_LAST"
_HEAD_FUTURES = "_ntrader_head_timestamp_futures"
# One "N D" request of minute bars carries N whole sessions (1380 bars each for ES): beyond this many
# sessions back, ask for a dated FUT instead.
MAX_INTRADAY_SESSIONS_BACK = 5


def only_up_to_now(spec: InstrumentSpec) -> bool:
    return spec.sec_type == "CONTFUT" or spec.adjusted


def _first_session_covered(spec: InstrumentSpec, end: dt.datetime, duration: str) -> dt.date:
    """The oldest session a request of `duration` ending at `end` would cover on the instrument's calendar."""
    amount, unit = int(duration.split()[0]), duration.split()[1].upper()
    calendar = spec.calendar
    if unit == "D":
        span = dt.timedelta(days=amount * 7 // 5 + 10)
        sessions = [s for s in calendar.sessions_between(end.date() - span, end.date()) if s.open < end]
        return sessions[-amount].date if len(sessions) >= amount else sessions[0].date
    days = {"S": amount / 86_400, "W": 7 * amount, "M": 31 * amount, "Y": 366 * amount}[unit]
    return (end - dt.timedelta(days=days)).date()


def duration_up_to_now(
    spec: InstrumentSpec,
    bar_spec: BarSpec,
    end: dt.datetime,
    duration: str,
    now: dt.datetime | None = None,
) -> str:
    """ "N D" reaching from now back over what `duration` ending at `end` asks for (N ≥ 1 sessions)."""
    now = now or dt.datetime.now(dt.UTC)
    calendar = spec.calendar
    first = max(_first_session_covered(spec, end, duration), calendar.first_session)
    last = min(now.date() + dt.timedelta(days=1), calendar.last_session)
    back = sum(1 for s in calendar.sessions_between(first, last) if s.close <= now)
    if back == 0:
        raise IncompleteSessionError(
            f"{spec.instrument_id} {bar_spec} ending {end:%Y-%m-%d %H:%M}Z has not closed yet; IB serves "
            f"{spec.sec_type} history only for completed sessions — materialize it after the close"
        )
    if bar_spec.is_intraday and back > MAX_INTRADAY_SESSIONS_BACK:
        raise IncompleteSessionError(
            f"{spec.instrument_id} {bar_spec} ending {end:%Y-%m-%d %H:%M}Z: IB serves a continuous future "
            f"only up to now, and this is {back} sessions back (more than {MAX_INTRADAY_SESSIONS_BACK} "
            "sessions of minute bars in one request). Nothing was written; add the dated contract (sec_type "
            "FUT with last_trade_date_or_contract_month) to the universe for older intraday history."
        )
    return f"{back} D"


def up_to_now_duration_or_refusal(
    spec: InstrumentSpec, bar_spec: BarSpec, end_utc: dt.datetime, duration: str
) -> tuple[str | None, IBError | None]:
    """The "N D" from now back that covers a request ending at `end_utc` (naive or aware UTC), or the
    reason to ask nothing (the session has not closed; an intraday CONTFUT session too far back). The
    refusal is an INVALID_REQUEST error: retrying cannot help."""
    end = end_utc.replace(tzinfo=dt.UTC) if end_utc.tzinfo is None else end_utc
    try:
        return duration_up_to_now(spec, bar_spec, end, duration), None
    except IncompleteSessionError as exc:
        return None, IBError(-1, INVALID_REQUEST, str(exc))


async def request_adjusted_bars(
    client: HistoricInteractiveBrokersClient,
    contract: IBContract,
    source_type: BarType,
    duration: str,
    timeout_s: int,
) -> list[Bar]:
    """ADJUSTED_LAST bars ending now, through the client's own request registry, under `source_type`
    (the bar type of the instrument IB names; the client decodes bars only for an instrument it has
    cached under that id, so the instrument is requested first when missing)."""
    inner = client._client
    if inner._cache.instrument(source_type.instrument_id) is None:
        await client.request_instruments(contracts=[contract])
    req_id = inner._next_req_id()
    pending = inner._requests.add(
        req_id=req_id,
        # the client parses name[0] with BarType.from_str (a str since Nautilus 1.231)
        name=(str(source_type), f"{ADJUSTED_LAST} {duration}"),
        handle=functools.partial(
            inner._eclient.reqHistoricalData,
            reqId=req_id,
            contract=contract,
            endDateTime="",  # IB's rule for ADJUSTED_LAST
            durationStr=duration,
            barSizeSetting=bar_spec_to_bar_size(source_type.spec),
            whatToShow=ADJUSTED_LAST,
            useRTH=True,
            formatDate=2,
            keepUpToDate=False,
            chartOptions=[],
        ),
        cancel=functools.partial(inner._eclient.cancelHistoricalData, reqId=req_id),
    )
    if pending is None:
        return []
    pending.handle()
    return await inner._await_request(pending, timeout_s, default_value=[])


def restamped(bars: list[Bar], bar_type: BarType) -> list[Bar]:
    """The same bars under another bar type (the adjusted series' SPY-ADJ.ARCA-…)."""
    return [Bar(bar_type, b.open, b.high, b.low, b.close, b.volume, b.ts_event, b.ts_init) for b in bars]


def _head_timestamp_futures(inner: Any) -> dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Future]]:
    """Pending reqHeadTimeStamp answers by reqId. Nautilus' wrapper only logs `headTimestamp`, so the
    client's wrapper instance gets a hook (once) that hands the answer to the waiting future; the decoder
    calls it from a worker thread."""
    wrapper = inner._eclient.wrapper
    futures = getattr(wrapper, _HEAD_FUTURES, None)
    if futures is None:
        futures = {}
        original = wrapper.headTimestamp

        def head_timestamp(reqId: int, headTimestamp: str) -> None:
            waiting = futures.pop(reqId, None)
            if waiting is None:
                original(reqId, headTimestamp)
                return
            loop, future = waiting
            loop.call_soon_threadsafe(lambda: future.done() or future.set_result(headTimestamp))

        setattr(wrapper, _HEAD_FUTURES, futures)
        wrapper.headTimestamp = head_timestamp
    return futures


async def request_head_timestamp(
    client: HistoricInteractiveBrokersClient,
    contract: IBContract,
    what_to_show: str,
    use_rth: bool,
    timeout_s: int,
) -> str | None:
    """IB's answer to reqHeadTimeStamp (formatDate 2: epoch seconds), or None after `timeout_s`. An error
    for the request arrives through the client's error handler (IBConnection records it)."""
    inner = client._client
    loop = asyncio.get_running_loop()
    future: asyncio.Future = loop.create_future()
    req_id = inner._next_req_id()
    futures = _head_timestamp_futures(inner)
    futures[req_id] = (loop, future)
    try:
        inner._eclient.reqHeadTimeStamp(req_id, contract, what_to_show, int(use_rth), 2)
        return await asyncio.wait_for(future, timeout_s)
    except TimeoutError:
        inner._eclient.cancelHeadTimeStamp(req_id)
        return None
    finally:
        futures.pop(req_id, None)


def parse_head_timestamp(text: str) -> dt.datetime:
    """`1694525400` (formatDate 2), `20230912-13:30:00` (UTC) or `20230912 09:30:00 US/Eastern` → UTC."""
    text = text.strip()
    if text.isdigit():
        return dt.datetime.fromtimestamp(int(text), dt.UTC)
    if "-" in text:
        return dt.datetime.strptime(text, "%Y%m%d-%H:%M:%S").replace(tzinfo=dt.UTC)
    parts = text.split()
    moment = dt.datetime.strptime(" ".join(parts[:2]), "%Y%m%d %H:%M:%S")
    if len(parts) > 2:
        return moment.replace(tzinfo=ZoneInfo(parts[2])).astimezone(dt.UTC)
    return moment.replace(tzinfo=dt.UTC)
