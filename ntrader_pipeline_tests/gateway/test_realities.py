"""Market realities as data: defaults, validation, the CLI spec and the bars they shape."""

from __future__ import annotations

import datetime as dt

import pytest

from ntrader_pipeline.gateway.__main__ import build_parser
from ntrader_pipeline.gateway.realities import (
    DEFAULT_REALITIES,
    GatewayRealities,
    Halt,
    MarketReality,
    Split,
    parse_reality_spec,
)
from ntrader_pipeline.gateway.reality_bars import adjusted_bars, session_series
from ntrader_pipeline.gateway.reality_histories import history
from ntrader_pipeline.gateway.synthetic import DAY, MINUTE, session_bars


def test_defaults_make_only_illq_real():
    realities = GatewayRealities()
    illq = realities.get("ILLQ")
    assert illq is DEFAULT_REALITIES["ILLQ"]
    assert illq.listed == dt.date(2023, 9, 12) and illq.no_trade_share == 0.30
    assert illq.splits == (Split(dt.date(2024, 2, 15), 4.0),)
    assert dt.date(2024, 1, 2) <= illq.halts[0].session <= dt.date(2024, 3, 28)
    for symbol in ("SPY", "QQQ", "IWM", "ES", "EUR"):
        assert realities.get(symbol) is None
    assert GatewayRealities(defaults=False).get("ILLQ") is None


def test_set_update_clear_reset():
    realities = GatewayRealities()
    realities.update("spy", permission="no_permissions")
    assert realities.get("SPY") == MarketReality(permission="no_permissions")
    realities.clear("ILLQ")
    assert realities.get("ILLQ") is None
    realities.reset()
    assert realities.get("SPY") is None and realities.get("ILLQ") is not None


def test_spec_parsing():
    symbol, changes = parse_reality_spec(
        "iwm:listed=2024-01-08,no_trade_share=0.2,halt=2024-01-10@11:00+30,late_open=2024-01-11+15,"
        "split=2024-02-15@4,dividend=2024-03-14@0.25,permission=delayed"
    )
    assert symbol == "IWM"
    reality = MarketReality(**changes)  # type: ignore[arg-type]
    assert reality.halts == (
        Halt(dt.date(2024, 1, 10), dt.time(11, 0), 30),
        Halt(dt.date(2024, 1, 11), dt.time(9, 30), 15),
    )
    assert reality.permission == "delayed" and reality.dividends[0].amount == 0.25
    for bad in (
        "SPY",
        "SPY:color=red",
        "SPY:permission=maybe",
        "SPY:no_trade_share=1.5",
        "SPY:split=2024-01-02@1",
    ):
        with pytest.raises(ValueError, match="reality"):
            parse_reality_spec(bad)


def test_cli_flags():
    args = build_parser().parse_args(["--reality", "SPY:permission=no_permissions", "--ideal"])
    realities = GatewayRealities.from_specs(args.reality, defaults=not args.ideal)
    assert realities.get("SPY").permission == "no_permissions"
    assert realities.get("ILLQ") is None


def test_midpoint_continuous_trades_sparse_daily_is_their_aggregate():
    day = dt.date(2024, 1, 10)
    reality = DEFAULT_REALITIES["ILLQ"]
    trades = session_series("ILLQ", day, MINUTE, reality, "TRADES")
    midpoint = session_series("ILLQ", day, MINUTE, reality, "MIDPOINT")
    daily = session_series("ILLQ", day, DAY, reality, "TRADES")
    assert len(midpoint) == 390 and len(trades) < 390
    assert daily.volume[0] == trades.volume.sum() and daily.close[0] == trades.close[-1]
    assert session_series("ILLQ", dt.date(2023, 9, 11), MINUTE, reality, "TRADES") is None


def test_ideal_series_are_unchanged():
    day = dt.date(2024, 1, 10)
    ideal = session_series("SPY", day, MINUTE, MarketReality(), "TRADES")
    assert (ideal.close == session_bars("SPY", day, MINUTE).close).all()


def test_with_dividend_drops_trades_falls_by_the_dividend_and_adjusted_last_stays_smooth():
    """The special dividend history: TRADES before the ex-date is the smooth path + the dividend (so the
    price falls by it, 20 % of the cum-dividend close); ADJUSTED_LAST is the smooth path itself."""
    reality = history("NVDA")
    (dividend,) = reality.dividends
    before, ex = dt.date(2024, 4, 9), dividend.ex_date
    trades = {d: session_series("NVDA", d, DAY, reality, "TRADES") for d in (before, ex)}
    smooth = {d: session_bars("NVDA", d, DAY) for d in (before, ex)}
    assert trades[before].close[0] == pytest.approx(smooth[before].close[0] + dividend.amount, abs=0.011)
    assert trades[ex].close[0] == smooth[ex].close[0]  # after the ex-date TRADES is the smooth path
    assert dividend.amount / trades[before].close[0] == pytest.approx(0.20, abs=1e-3)
    adjusted = session_series("NVDA", before, DAY, reality, "ADJUSTED_LAST")
    assert adjusted_bars("NVDA", adjusted.rows(), reality)[0].close == smooth[before].close[0]
    assert trades[before].volume[0] == smooth[before].volume[0]  # a dividend leaves the volume alone


def test_a_split_history_scales_trades_prices_up_and_volumes_down_before_the_ex_date():
    reality = history("CMG")
    before = dt.date(2024, 6, 25)
    trades = session_series("CMG", before, DAY, reality, "TRADES")
    smooth = session_bars("CMG", before, DAY)
    assert trades.close[0] == pytest.approx(50 * smooth.close[0], abs=0.01)
    assert trades.volume[0] == pytest.approx(smooth.volume[0] / 50, rel=0.01)
