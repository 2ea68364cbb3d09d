"""`backtest.engine.run_backtest` on hand-built bars: fill timing, costs, frames and input checks."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from nautilus_trader.model.instruments import Equity

from ntrader_pipeline.backtest.result import EQUITY_SCHEMA, FILLS_SCHEMA, TRADES_SCHEMA, BacktestResult
from ntrader_pipeline_tests.backtest.bar_fixtures import CROSSING_CLOSES, ib_equity, minute_bars
from ntrader_pipeline_tests.backtest.sma_run import run_sma_cross

SESSION_OPEN = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)


def bar_close(index: int) -> datetime:
    """Close time (ts_init) of bar `index` in the fixture."""
    return SESSION_OPEN + timedelta(minutes=index + 1)


def run_crossing(spy: Equity, trade_size: int = 100, **bar_kwargs: object) -> BacktestResult:
    return run_sma_cross(spy, minute_bars(spy, CROSSING_CLOSES, **bar_kwargs), trade_size=trade_size)


def test_market_orders_fill_at_the_signal_bar_close(spy: Equity) -> None:
    # Act
    result = run_crossing(spy)

    # Assert
    expected = pl.DataFrame(
        {
            "ts": [bar_close(4), bar_close(8), bar_close(13)],
            "side": ["BUY", "SELL", "BUY"],
            "quantity": [100.0, 100.0, 100.0],
            "price": [11.0, 11.0, 11.0],
            "commission": [1.0, 1.0, 1.0],  # 100 * 0.005 = 0.50, raised to the $1 minimum
        },
        schema=FILLS_SCHEMA,
    )
    assert result.fills.equals(expected)


def test_closed_round_trip_and_open_position_at_the_end(spy: Equity) -> None:
    # Act
    result = run_crossing(spy)

    # Assert: the second entry is still open after the last bar, so it is no trade
    expected = pl.DataFrame(
        {
            "entry_ts": [bar_close(4)],
            "exit_ts": [bar_close(8)],
            "quantity": [100.0],
            "entry_price": [11.0],
            "exit_price": [11.0],
            "commission": [2.0],
            "pnl": [-2.0],
            "return_pct": [-2.0 / 1100.0],
        },
        schema=TRADES_SCHEMA,
    )
    assert result.trades.equals(expected)
    assert result.equity.row(-1, named=True) == {
        "ts": bar_close(14),
        "close": 12.0,
        "position_qty": 100.0,
        "cash": 98_897.0,  # 100_000 - 1_100 - 1 + 1_100 - 1 - 1_100 - 1
        "equity": 100_097.0,
    }


def test_equity_curve_marks_cash_and_position_to_each_close(spy: Equity) -> None:
    # Act
    result = run_crossing(spy)

    # Assert
    equity = result.equity
    assert equity.schema == EQUITY_SCHEMA
    assert equity["ts"].to_list() == [bar_close(i) for i in range(len(CROSSING_CLOSES))]
    assert equity["close"].to_list() == [float(c) for c in CROSSING_CLOSES]
    assert equity["position_qty"].to_list() == [0.0] * 4 + [100.0] * 4 + [0.0] * 5 + [100.0] * 2
    assert equity["cash"].to_list() == [100_000.0] * 4 + [98_899.0] * 4 + [99_998.0] * 5 + [98_897.0] * 2
    marked = equity.select((pl.col("cash") + pl.col("position_qty") * pl.col("close")).alias("equity"))
    assert equity["equity"].equals(marked["equity"])


def test_reconstructed_cash_equals_engine_account_balance(spy: Equity) -> None:
    # Act
    result = run_crossing(spy)

    # Assert
    assert result.equity["cash"][-1] == result.account_balance == 98_897.0
    assert (result.instrument_id, result.bar_type, result.bar_count, result.starting_cash) == (
        "SPY.ARCA",
        "SPY.ARCA-1-MINUTE-LAST-EXTERNAL",
        len(CROSSING_CLOSES),
        100_000.0,
    )


def test_per_share_commission_above_the_minimum(spy: Equity) -> None:
    # Act
    result = run_crossing(spy, trade_size=1000)

    # Assert
    assert result.fills["commission"].to_list() == [5.0, 5.0, 5.0]
    assert result.trades["pnl"].to_list() == [-10.0]
    assert result.account_balance == 100_000 - 11_000 - 5 + 11_000 - 5 - 11_000 - 5


def test_thin_bar_splits_the_fill_and_charges_the_minimum_once_per_order(spy: Equity) -> None:
    # Arrange: the venue offers volume / 4 = 10 shares at the close, the rest one tick worse
    volumes = [100_000] * len(CROSSING_CLOSES)
    volumes[4] = 40

    # Act
    result = run_crossing(spy, volumes=volumes)

    # Assert
    entry = result.fills.filter(pl.col("ts") == bar_close(4))
    assert entry.select("quantity", "price", "commission").rows() == [(10.0, 11.0, 1.0), (90.0, 11.01, 0.0)]
    trade = result.trades.row(0, named=True)
    assert trade["entry_price"] == pytest.approx(11.009)
    assert (trade["quantity"], trade["commission"], trade["pnl"]) == (100.0, 2.0, -2.9)
    assert result.equity["cash"][-1] == result.account_balance == 98_896.1


def test_two_runs_give_identical_frames(spy: Equity) -> None:
    # Act
    first = run_crossing(spy)
    second = run_crossing(spy)

    # Assert
    for name in ("equity", "fills", "trades"):
        assert getattr(first, name).equals(getattr(second, name)), name
        assert getattr(first, name).hash_rows().equals(getattr(second, name).hash_rows()), name


def test_run_leaves_the_global_random_state_alone(spy: Equity) -> None:
    # Arrange
    random.seed(7)
    expected = random.random()
    random.seed(7)

    # Act
    run_crossing(spy)

    # Assert
    assert random.random() == expected


def test_no_crossing_means_no_fills(spy: Equity) -> None:
    # Act
    result = run_sma_cross(spy, minute_bars(spy, [10.0] * 10))

    # Assert
    assert result.fills.is_empty() and result.fills.schema == FILLS_SCHEMA
    assert result.trades.is_empty() and result.trades.schema == TRADES_SCHEMA
    assert result.equity["equity"].to_list() == [100_000.0] * 10


def test_empty_bars_name_the_instrument(spy: Equity) -> None:
    with pytest.raises(ValueError, match=r"no bars to backtest for SPY\.ARCA"):
        run_sma_cross(spy, [])


def test_bars_of_another_instrument_are_refused(spy: Equity) -> None:
    # Arrange
    qqq_bars = minute_bars(ib_equity("QQQ", "NASDAQ"), CROSSING_CLOSES)

    # Act / Assert
    with pytest.raises(ValueError, match=r"bars are for QQQ\.NASDAQ, not SPY\.ARCA"):
        run_sma_cross(spy, qqq_bars)


def test_mixed_bar_types_are_refused(spy: Equity) -> None:
    # Arrange
    bars = minute_bars(spy, CROSSING_CLOSES) + minute_bars(ib_equity("QQQ", "NASDAQ"), [10.0])

    # Act / Assert
    with pytest.raises(ValueError, match=r"bars for SPY\.ARCA mix bar types"):
        run_sma_cross(spy, bars)
