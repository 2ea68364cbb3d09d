from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from ntrader_pipeline.backtest.benchmarks import benchmarks_frame, buy_and_hold_shares
from ntrader_pipeline.backtest.fees import ibkr_fixed_commission

T0 = dt.datetime(2024, 1, 2, 14, 31, tzinfo=dt.UTC)


def _ts(n: int, offset: int = 0) -> pl.Series:
    return pl.Series("ts", [T0 + dt.timedelta(minutes=i + offset) for i in range(n)]).cast(
        pl.Datetime("ns", "UTC")
    )


def test_buy_and_hold_buys_what_cash_and_commission_allow() -> None:
    # 1000 shares at $10 cost $10,000 + $5 commission > $10,000: one share fewer.
    assert buy_and_hold_shares(10.0, 10_000.0, ibkr_fixed_commission) == (999, 5.0)
    assert buy_and_hold_shares(10.0, 5.0, ibkr_fixed_commission) == (0, 0.0)


def test_benchmarks_mark_both_holdings_on_the_backtest_bars() -> None:
    closes = pl.Series("close", [10.0, 11.0, 12.0])
    # The index starts one bar later and misses the last bar: first close before, last close after.
    index = pl.DataFrame({"ts": _ts(2, offset=1), "close": [100.0, 90.0]})
    frame = benchmarks_frame(_ts(3), closes, index, 10_000.0, ibkr_fixed_commission)
    # instrument: 999 shares, cash 10,000 - 9,990 - 5 = 5; index: 99 shares at 100, $1 commission → cash 99.
    assert frame["instrument_equity"].to_list() == pytest.approx([9995.0, 10994.0, 11993.0])
    assert frame["index_equity"].to_list() == pytest.approx([9999.0, 9999.0, 9009.0])
    assert frame["ts"].to_list() == _ts(3).to_list()


def test_index_equal_to_instrument_gives_equal_columns() -> None:
    closes = pl.Series("close", [10.0, 10.5, 9.5])
    frame = benchmarks_frame(
        _ts(3), closes, pl.DataFrame({"ts": _ts(3), "close": closes}), 5_000.0, ibkr_fixed_commission
    )
    assert frame["instrument_equity"].to_list() == frame["index_equity"].to_list()


def test_no_index_bars_is_an_error() -> None:
    empty = pl.DataFrame({"ts": _ts(0), "close": pl.Series([], dtype=pl.Float64)})
    with pytest.raises(ValueError, match="index instrument has no bars"):
        benchmarks_frame(_ts(1), pl.Series([1.0]), empty, 1.0, lambda q, v: Decimal(0))
