"""Corporate events detected from daily TRADES and ADJUSTED_LAST closes generated forward from known events
(histories.py): every ratio up to 50:1 and 1:50, a split with a same-day dividend, special dividends of
any size, and factors that are piecewise constant, 1 at the newest session, and free of cent rounding."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import polars as pl
import pytest

from ntrader_pipeline.adjustments.events import (
    VolumeChange,
    classify_step,
    detect_events,
    rounding_bound,
    volume_change,
)
from ntrader_pipeline.adjustments.factors import adjustment_factors, corporate_actions
from ntrader_pipeline_tests.adjustments.histories import Event, daily_history

EX = dt.date(2024, 2, 14)  # a Wednesday


def _events(events: list[Event], **kwargs: object) -> list[tuple]:
    _, found = adjustment_factors(*daily_history(events, **kwargs))
    return [(r["ex_date"], r["kind"], r["split_ratio"]) for r in found.to_dicts()]


@pytest.mark.parametrize(
    "split",
    [
        (7, 1),
        (4, 1),
        (50, 1),
        (6, 1),
        (5, 2),
        (3, 2),
        (2, 1),
        (20, 1),
        (5, 4),
        (1, 8),
        (1, 15),
        (1, 25),
        (1, 50),
        (1, 10),
    ],
)
def test_every_split_ratio_comes_out_exactly(split):
    """Issue 19 item 2: 7:1, 50:1, 6:1, 5:2, 1:15, 1:25 were booked as dividends on main (fixed list)."""
    assert _events([Event(EX, split=split)]) == [(EX, "split", f"{split[0]}:{split[1]}")]


@pytest.mark.parametrize("share", [0.005, 0.02, 0.2, 0.35, 0.6])
def test_a_special_dividend_of_any_size_is_a_dividend_not_a_split(share):
    """Issue 19 item 3: a 20 % special dividend was booked as a 5:4 split on main."""
    trades, adjusted = daily_history([Event(EX, dividend_share=share)])
    _, events = adjustment_factors(trades, adjusted)
    (row,) = events.to_dicts()
    assert (row["ex_date"], row["kind"], row["split_ratio"]) == (EX, "dividend", None)
    assert row["dividend_share"] == pytest.approx(share, abs=2e-4)
    previous = trades.filter(pl.col("date") < EX)["close"][-1]
    assert row["dividend"] == pytest.approx(share * previous, rel=2e-3)  # D = share × the cum-dividend close


@pytest.mark.parametrize(
    ("split", "share"), [((3, 2), 0.005), ((2, 1), 0.05), ((7, 1), 0.01), ((1, 8), 0.01)]
)
def test_a_split_and_a_dividend_on_the_same_day_are_both_kept(split, share):
    """Issue 19 items 2 and 3: a 2:1 or 3:2 split with a same-day dividend lost the split on main."""
    _, events = adjustment_factors(*daily_history([Event(EX, split=split, dividend_share=share)]))
    (row,) = events.to_dicts()
    assert (row["kind"], row["split_ratio"]) == ("split+dividend", f"{split[0]}:{split[1]}")
    assert row["dividend_share"] == pytest.approx(share, abs=2e-4)
    assert corporate_actions(events)[0].kind == "split+dividend"


def test_at_noisy_volumes_a_20_percent_dividend_almost_never_reads_as_a_5_for_4_split():
    """Day-to-day volume noise of 25 % (log), 100 histories each: the dividend is kept a dividend in at
    least 97 (measured 198 of 200), and a 5:4 split that the volume cannot confirm falls back to a
    dividend, never to another ratio."""
    dividend = [Event(EX, dividend_share=0.2)]
    split = [Event(EX, split=(5, 4))]
    as_split = sum(_events(dividend, seed=s, volume_noise=0.25)[0][1] != "dividend" for s in range(100))
    assert as_split <= 3
    kinds = {_events(split, seed=s, volume_noise=0.25)[0][1:] for s in range(100)}
    assert kinds <= {("split", "5:4"), ("dividend", None)}


def test_the_5_for_4_split_is_told_from_the_20_percent_dividend_by_volume_alone():
    """The same factor step 1.25: a 5:4 split multiplies the traded volume by 1.25, a dividend does not."""
    calm, moved = VolumeChange(1.0, 0.05), VolumeChange(1.27, 0.05)
    assert classify_step(1.25, 1e-4, calm).kind == "dividend"
    assert classify_step(1.25, 1e-4, moved).kind == "split"
    assert str(classify_step(1.25, 1e-4, moved).split) == "5:4"
    # moved, but within 2.5 standard errors of no change: inconclusive, so a dividend
    assert classify_step(1.25, 1e-4, VolumeChange(1.27, 0.1)).kind == "dividend"
    # a step below 1 is a reverse split whatever the volume says: a dividend never lowers the factor
    assert str(classify_step(0.125, 1e-4, calm).split) == "1:8"


def test_factors_are_piecewise_constant_and_the_newest_is_one():
    """Issue 19 item 5: factors were the raw per-session ratio, so cent rounding entered returns."""
    trades, adjusted = daily_history(
        [Event(dt.date(2024, 1, 17), dividend_share=0.01), Event(EX, split=(4, 1))], level=3.0
    )
    factors, events = adjustment_factors(trades, adjusted)
    assert [(r["ex_date"], r["kind"]) for r in events.to_dicts()] == [
        (dt.date(2024, 1, 17), "dividend"),
        (EX, "split"),
    ]
    assert factors["factor"][-1] == 1.0
    assert factors["split_factor"].unique().sort().to_list() == [0.25, 1.0]
    assert factors["factor"].n_unique() == 3  # before the dividend, between, after the split
    raw = (factors["adjusted_close"] / factors["close"]).n_unique()
    assert raw > 20  # the raw ratio wobbles with cent rounding at $3 (what main used as the factor)


def test_cent_rounding_at_low_prices_is_not_a_dividend():
    """Issue 19 item 5: at $2 the raw ratio's cent wobble passed main's 5e-4 threshold and was logged as
    dividends; now only the real event is found and the factor before it is one constant."""
    ex = dt.date(2024, 3, 20)
    trades, adjusted = daily_history([Event(ex, split=(4, 1))], level=2.0, seed=3)
    raw = (adjusted["close"] / trades["close"]).to_list()
    before = [r for d, r in zip(trades["date"], raw, strict=True) if d < ex]
    wobbles = sum(abs(b / a - 1) >= 5e-4 for a, b in itertools.pairwise(before))
    assert wobbles > 20  # what main booked as "dividend factor step …"
    factors, events = adjustment_factors(trades, adjusted)
    assert [(r["ex_date"], r["kind"], r["split_ratio"]) for r in events.to_dicts()] == [(ex, "split", "4:1")]
    assert factors.filter(pl.col("date") < ex)["factor"].unique().to_list() == [0.25]


def test_the_rounding_bound_is_half_a_cent_on_each_price_doubled():
    # hand-worked: closes 10.00 / 10.00, adjusted 2.50 / 2.50 → 2 × (0.005/10 × 2 + 0.005/2.5 × 2) = 0.01
    assert rounding_bound([10.0, 10.0], [2.5, 2.5], 1) == pytest.approx(0.01)


def test_an_unexplained_step_below_one_is_listed_and_adjusts_nothing():
    # the factor falls to 1/217: below 1, so no dividend, and no split ratio up to 1:50 explains it
    frame = detect_events(
        pl.DataFrame(
            {
                "date": [dt.date(2024, 1, 2), dt.date(2024, 1, 3)],
                "open": [10.0, 10.0],
                "close": [10.0, 10.0],
                "volume": [1e6, 1e6],
                "adjusted_close": [50.0, 0.23],
            }
        )
    )
    assert frame["kind"].to_list() == ["unexplained"]


def test_the_volume_change_and_its_standard_error_by_hand():
    # before: e^0, e^2 (mean 1); after: e^3, e^5 (mean 4) → ratio e^3; pooled variance (1+1+1+1)/2 = 2,
    # standard error sqrt(2) × sqrt(1/2 + 1/2) = 1.4142
    change = volume_change([1.0, math.e**2], [math.e**3, math.e**5])
    assert change.ratio == pytest.approx(math.e**3)
    assert change.log_error == pytest.approx(math.sqrt(2))
