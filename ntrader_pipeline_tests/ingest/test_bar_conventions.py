"""What the real Nautilus IB client makes of the gateway's bars, pinned so an upgrade shows what moved.

Measured with nautilus_trader 1.231.0 (nautilus-ibapi 10.45.1) against the embedded gateway at server
version 200, and unchanged from 1.221.0 at 187:
- intraday bars: `ts_event` is the bar's open, `ts_init` its close (open + bar length), even for a bar
  IB cuts short (the 09:30-10:00 hourly bar closes at 10:30);
- daily bars (IB dates them `YYYYMMDD`): `ts_event` is 00:00 UTC of the session's date, `ts_init` the last
  nanosecond of that UTC day (23:59:59.999999999), not the session's close;
- prices: the catalog stores them as 16-byte fixed binary (a little-endian int128 scaled by 10**16, the
  high-precision build), which decodes back to exactly the decimal text the gateway sent.
Nautilus 2.x moved bar stamps once (upstream issue 4577, fixed by PR 4579); these tests catch such moves.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from nautilus_trader.model.data import BarType
from nautilus_trader.model.objects import FIXED_PRECISION, FIXED_PRECISION_BYTES

from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.gateway import EmbeddedGateway, messages
from ntrader_pipeline.gateway.synthetic import session_bars
from ntrader_pipeline.ib.client import IBConnection
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline.markets.universe import BarSpec, InstrumentSpec
from ntrader_pipeline.settings import IBSettings

SPY = InstrumentSpec(symbol="SPY", primary_exchange="ARCA")
SESSION = session_for("2024-01-05")
SESSION_CLOSE = dt.datetime(2024, 1, 5, 21, 0)  # naive UTC, as fetch_bars takes it
NS = 1_000_000_000
PRICE_COLUMNS = ("open", "high", "low", "close")


def utc_ns(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp()) * NS


def fetch(settings: IBSettings, bar_spec: str, duration: str) -> list:
    with IBConnection(settings) as connection:
        bars, errors = connection.fetch_bars(SPY, BarSpec.parse(bar_spec), SESSION_CLOSE, duration)
    assert errors == []
    return bars


def sent_prices(step_seconds: int) -> list[tuple[str, str, str, str]]:
    """The price fields exactly as the gateway writes them on the wire for SPY's 2024-01-05 session."""
    series = session_bars("SPY", SESSION.date, step_seconds).rows()
    [message, _end] = messages.historical_data(
        messages.MAX_SUPPORTED_VERSION,
        1,
        (SESSION.open, SESSION.close),
        series,
        format_date=2,
        daily=False,
        trades=True,
    )
    per_bar = 8  # date, open, high, low, close, volume, wap, count
    bar_fields = message[3:]  # id, reqId, bar count
    return [
        tuple(str(f) for f in bar_fields[i + 1 : i + 5])  # type: ignore[misc]
        for i in range(0, len(bar_fields), per_bar)
    ]


def test_the_gateway_negotiates_its_newest_version_with_the_client(ib_settings: IBSettings) -> None:
    with IBConnection(ib_settings) as connection:
        info = connection.server_info()
    assert info.server_version == messages.MAX_SUPPORTED_VERSION == 200
    assert info.accounts == ("DU1234567",)


def test_minute_bars_are_stamped_open_and_close(ib_settings: IBSettings) -> None:
    bars = fetch(ib_settings, "1-MINUTE-LAST", "1 D")
    opens = [utc_ns(2024, 1, 5, 14, 30) + i * 60 * NS for i in range(390)]
    assert [b.ts_event for b in bars] == opens
    assert [b.ts_init for b in bars] == [t + 60 * NS for t in opens]
    assert bars[-1].ts_init == utc_ns(2024, 1, 5, 21, 0)  # the last bar closes with the session


def test_hourly_bars_close_one_hour_after_their_open_even_when_cut_short(ib_settings: IBSettings) -> None:
    bars = fetch(ib_settings, "1-HOUR-LAST", "1 D")
    assert [(b.ts_event - utc_ns(2024, 1, 5, 14, 30)) // NS for b in bars[:2]] == [0, 1800]
    assert [b.ts_init - b.ts_event for b in bars] == [3600 * NS] * len(bars)


def test_daily_bars_span_the_utc_date_of_their_session(ib_settings: IBSettings) -> None:
    bars = fetch(ib_settings, "1-DAY-LAST", "1 W")
    days = [dt.date(2024, 1, d) for d in (2, 3, 4, 5)]
    assert [b.ts_event for b in bars] == [utc_ns(d.year, d.month, d.day) for d in days]
    assert [b.ts_init - b.ts_event for b in bars] == [86_400 * NS - 1] * len(days)


@pytest.mark.parametrize(("bar_spec", "step_seconds"), [("1-MINUTE-LAST", 60), ("1-HOUR-LAST", 3600)])
def test_stored_prices_decode_to_exactly_what_the_gateway_sent(
    ib_gateway: EmbeddedGateway, ib_settings: IBSettings, tmp_path, bar_spec: str, step_seconds: int
) -> None:
    bars = fetch(ib_settings, bar_spec, "1 D")
    store = CatalogStore(tmp_path)
    path = store.write_session_bars(BarType.from_str(bar_spec_type(bar_spec)), SESSION, bars)
    table = pq.read_table(path)
    sent = sent_prices(step_seconds)
    assert table.num_rows == len(sent) == len(bars)
    for index, column in enumerate(PRICE_COLUMNS):
        assert table.schema.field(column).type.byte_width == FIXED_PRECISION_BYTES == 16
        stored = [fixed_to_decimal(raw) for raw in table.column(column).to_pylist()]
        assert stored == [Decimal(prices[index]) for prices in sent], column
    # and Nautilus' own reading of the file gives the same prices
    read_back = store.read_session_bars(bar_spec_type(bar_spec), SESSION)
    assert [str(b.close) for b in read_back] == [f"{Decimal(p[3]):.2f}" for p in sent]


def bar_spec_type(bar_spec: str) -> str:
    return f"{SPY.instrument_id}-{bar_spec}-EXTERNAL"


def fixed_to_decimal(raw: bytes) -> Decimal:
    """A stored price: little-endian signed int128, scaled by 10**FIXED_PRECISION."""
    return Decimal(int.from_bytes(raw, "little", signed=True)).scaleb(-FIXED_PRECISION)
