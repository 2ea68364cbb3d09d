"""Each packaged strategy's signals on hand-made bars: exact entry and exit bars, prices and sizes."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from nautilus_trader.model.instruments import Equity

from ntrader_pipeline.backtest.costs import RiskCaps
from ntrader_pipeline.backtest.engine import run_backtest
from ntrader_pipeline.backtest.result import BacktestResult
from ntrader_pipeline.strategies.mean_reversion import MeanReversion, MeanReversionConfig
from ntrader_pipeline.strategies.momentum import Momentum, MomentumConfig
from ntrader_pipeline.strategies.sma_cross import SmaCross, SmaCrossConfig
from ntrader_pipeline_tests.backtest.bar_fixtures import (
    CROSSING_CLOSES,
    MINUTE_NS,
    SESSION_OPEN_NS,
    minute_bars,
)

# period 3, entry_z 1: bar 5 (7.00) has z = -1.41 → buy; bar 7 (9.00) has z = +1.22 → sell;
# bars 8-10 are flat (no deviation, no signal); bar 11 (6.00) has z = -1.41 → buy, still open at the end.
REVERTING_CLOSES = (10, 10, 10, 10, 10, 7, 8, 9, 9, 9, 9, 6, 7)
# lookback 2, entry 5%: bar 3 (+6% over bar 1) → buy; bar 6 (10.5 vs 10.8 two bars earlier) → sell;
# bar 9 (11.2 vs 10.5, +6.7%) → buy, still open.
TRENDING_CLOSES = (10, 10, 10, 10.6, 10.8, 10.7, 10.5, 10.5, 10.5, 11.2)


def _run(
    spy: Equity, closes, strategy_cls, config_cls, risk: RiskCaps | None = None, **params
) -> BacktestResult:
    bars = minute_bars(spy, closes)
    return run_backtest(
        spy,
        bars,
        lambda bar_type: strategy_cls(config_cls(instrument_id=spy.id, bar_type=bar_type, **params)),
        100_000.0,
        risk=risk,
    )


def _fills_at(result: BacktestResult) -> list[tuple[int, str, float, float]]:
    """(bar index, side, quantity, price) per fill; a fill's ts is its bar's close."""
    ts = result.fills["ts"].cast(pl.Int64)
    index = ((ts - SESSION_OPEN_NS) // MINUTE_NS - 1).to_list()
    return list(
        zip(index, result.fills["side"], result.fills["quantity"], result.fills["price"], strict=True)
    )


def test_mean_reversion_buys_below_the_band_and_sells_at_the_mean(spy: Equity) -> None:
    result = _run(spy, REVERTING_CLOSES, MeanReversion, MeanReversionConfig, period=3, entry_z=1.0)
    assert _fills_at(result) == [(5, "BUY", 100.0, 7.0), (7, "SELL", 100.0, 9.0), (11, "BUY", 100.0, 6.0)]
    assert result.trades["pnl"].to_list() == [pytest.approx(200.0 - 2 * 1.0)]  # two $1 minimum commissions


def test_momentum_buys_on_rate_of_change_and_sells_when_it_turns(spy: Equity) -> None:
    result = _run(spy, TRENDING_CLOSES, Momentum, MomentumConfig, lookback=2, entry_roc=0.05)
    assert _fills_at(result) == [(3, "BUY", 100.0, 10.6), (6, "SELL", 100.0, 10.5), (9, "BUY", 100.0, 11.2)]


def test_sma_cross_on_the_shared_base(spy: Equity) -> None:
    result = _run(spy, CROSSING_CLOSES, SmaCross, SmaCrossConfig, fast_period=2, slow_period=4)
    assert _fills_at(result) == [(4, "BUY", 100.0, 11.0), (8, "SELL", 100.0, 11.0), (13, "BUY", 100.0, 11.0)]


def test_bars_before_trade_from_warm_the_strategy_up_without_trading(spy: Equity) -> None:
    # Bar i closes at SESSION_OPEN_NS + (i + 1) minutes. trade_from at bar 5's close: the bar-4 entry and
    # the bar-8 exit (flat then) place no order; the averages kept updating, so the cross at bar 13 buys.
    trade_from = SESSION_OPEN_NS + 6 * MINUTE_NS
    result = _run(
        spy, CROSSING_CLOSES, SmaCross, SmaCrossConfig, fast_period=2, slow_period=4, trade_from=trade_from
    )
    assert _fills_at(result) == [(13, "BUY", 100.0, 11.0)]
    # Momentum (lookback 2, entry above 0) says ENTER at bars 3-5: a state, so it buys on bar 5, the first
    # bar it may trade (10.7 vs 10.6 two bars earlier); then as without trade_from.
    result = _run(
        spy, TRENDING_CLOSES, Momentum, MomentumConfig, lookback=2, entry_roc=0.0, trade_from=trade_from
    )
    assert _fills_at(result) == [(5, "BUY", 100.0, 10.7), (6, "SELL", 100.0, 10.5), (9, "BUY", 100.0, 11.2)]


def test_percent_of_equity_sizing_buys_whole_shares_of_the_cash(spy: Equity) -> None:
    result = _run(
        spy, REVERTING_CLOSES, MeanReversion, MeanReversionConfig,
        period=3, entry_z=1.0, sizing="percent_of_equity", trade_size=Decimal(50),
    )  # fmt: skip
    first = _fills_at(result)[0]
    assert first == (5, "BUY", 7142.0, 7.0)  # floor(50% of 100,000 / 7.00)


def test_max_gross_exposure_cuts_the_entry(spy: Equity) -> None:
    result = _run(
        spy, REVERTING_CLOSES, MeanReversion, MeanReversionConfig,
        period=3, entry_z=1.0, sizing="fixed_notional", trade_size=Decimal(50_000),
        max_gross_exposure=Decimal("0.1"),
    )  # fmt: skip
    assert _fills_at(result)[0] == (5, "BUY", 1428.0, 7.0)  # floor(0.1 × 100,000 / 7.00)


def test_an_order_above_the_notional_cap_is_denied_by_the_risk_engine(spy: Equity) -> None:
    capped = _run(
        spy, CROSSING_CLOSES, SmaCross, SmaCrossConfig,
        risk=RiskCaps(max_notional_per_order=Decimal(1000)), fast_period=2, slow_period=4,
    )  # fmt: skip
    assert capped.orders_denied == 2  # both 100 × 11.00 = 1,100 entries
    assert capped.fills.height == 0
    assert capped.equity["equity"][-1] == 100_000.0

    allowed = _run(
        spy, CROSSING_CLOSES, SmaCross, SmaCrossConfig,
        risk=RiskCaps(max_notional_per_order=Decimal(1100)), fast_period=2, slow_period=4,
    )  # fmt: skip
    assert allowed.orders_denied == 0 and allowed.fills.height == 3


@pytest.mark.parametrize(
    ("config_cls", "strategy_cls", "params", "message"),
    [
        (MeanReversionConfig, MeanReversion, {"period": 1}, "period 1 must be at least 2"),
        (MeanReversionConfig, MeanReversion, {"exit_z": -3.0}, "exit_z -3.0 must be above -entry_z"),
        (SmaCrossConfig, SmaCross, {"sizing": "all_in"}, "'all_in' is not a valid Sizing"),
    ],
)
def test_invalid_strategy_configs_fail_at_construction(
    spy, config_cls, strategy_cls, params, message
) -> None:
    bar_type = minute_bars(spy, [10.0])[0].bar_type
    with pytest.raises(ValueError, match=message):
        strategy_cls(config_cls(instrument_id=spy.id, bar_type=bar_type, **params))
