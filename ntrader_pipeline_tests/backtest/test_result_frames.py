from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from ntrader_pipeline.backtest.result import FILLS_SCHEMA
from ntrader_pipeline.backtest.result_frames import equity_frame, trades_frame

T0 = datetime(2024, 1, 2, 14, 31, tzinfo=UTC)


def minute(i: int) -> datetime:
    return T0 + timedelta(minutes=i)


def fills(rows: list[tuple[int, str, float, float, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(minute(i), side, qty, px, fee) for i, side, qty, px, fee in rows], schema=FILLS_SCHEMA, orient="row"
    )


def test_trades_pair_scaled_entries_and_exits_flat_to_flat() -> None:
    # Arrange: trade 1 enters in two buys and exits in two sells; trade 2 stays open
    frame = fills(
        [
            (0, "BUY", 50.0, 10.0, 1.0),
            (1, "BUY", 50.0, 12.0, 0.5),
            (2, "SELL", 60.0, 13.0, 1.0),
            (3, "SELL", 40.0, 14.0, 1.0),
            (4, "BUY", 10.0, 20.0, 1.0),
        ]
    )

    # Act
    trades = trades_frame(frame, cash_decimals=2)

    # Assert: buy value 1100, sell value 780 + 560 = 1340
    assert trades.rows() == [(minute(0), minute(3), 100.0, 11.0, 13.4, 3.5, 236.5, 236.5 / 1100.0)]


def test_trades_refuse_short_positions() -> None:
    with pytest.raises(ValueError, match="go short"):
        trades_frame(fills([(0, "SELL", 10.0, 10.0, 1.0)]), cash_decimals=2)


def test_equity_counts_every_fill_up_to_and_including_the_bar_close() -> None:
    # Arrange: two fills at bar 1's close, one between bars 1 and 2 (counts from bar 2 on)
    bar_closes = pl.DataFrame(
        {"ts": [minute(0), minute(1), minute(2)], "close": [10.0, 11.0, 12.0]},
        schema={"ts": pl.Datetime("ns", "UTC"), "close": pl.Float64},
    )
    frame = pl.concat(
        [
            fills([(1, "BUY", 10.0, 11.0, 1.0), (1, "BUY", 90.0, 11.01, 0.0)]),
            pl.DataFrame(
                [(minute(1) + timedelta(seconds=30), "SELL", 40.0, 11.5, 1.0)],
                schema=FILLS_SCHEMA,
                orient="row",
            ),
        ]
    )

    # Act
    equity = equity_frame(bar_closes, frame, starting_cash=1_000.0, cash_decimals=2)

    # Assert
    assert equity.select("position_qty", "cash").rows() == [(0.0, 1_000.0), (100.0, -101.9), (60.0, 357.1)]
    assert equity["equity"].to_list() == pytest.approx([1_000.0, 998.1, 1_077.1])
