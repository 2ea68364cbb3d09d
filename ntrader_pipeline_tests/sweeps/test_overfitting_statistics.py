"""A sweep's overfitting statistics in their units, from hand-built session-close curves: the annualized
Sharpe beside the DSR, trials that never trade left out, the effective number of trials, identical trials
giving an undefined PBO; and how the sweep report shows them."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from statistics import NormalDist

import numpy as np
import polars as pl
import pytest

from ntrader_pipeline.analytics.overfitting import EULER_MASCHERONI
from ntrader_pipeline.reports.sweep import WalkForwardSummary, render_sweep_html
from ntrader_pipeline.sweeps.declarations import SweepPoint
from ntrader_pipeline.sweeps.results import PointCurves, overfitting_statistics
from ntrader_pipeline_tests.reports.sample_sweep import sampled_inputs, walk_forward_summary

START = 100_000.0
SESSIONS = 252
ROOT_252 = math.sqrt(252)


def _standardized(seed: int, size: int = SESSIONS) -> np.ndarray:
    """Noise with sample mean exactly 0 and sample std (ddof 1) exactly 1."""
    z = np.random.default_rng(seed).normal(size=size)
    z = z - z.mean()
    return z / z.std(ddof=1)


def _curves(returns: np.ndarray) -> tuple[pl.DataFrame, PointCurves]:
    """Points p000.. whose session returns are the columns of `returns`; ranked by Sharpe (table)."""
    points = [SweepPoint(j, {"k": j}) for j in range(returns.shape[1])]
    equity = START * np.cumprod(1.0 + returns, axis=0)
    ts = pl.Series(
        "ts",
        [dt.datetime(2024, 1, 1, 21, tzinfo=dt.UTC) + dt.timedelta(days=i) for i in range(returns.shape[0])],
    )
    sharpe = [float(np.mean(c) / np.std(c, ddof=1)) * ROOT_252 if np.ptp(c) > 0 else None for c in returns.T]
    table = pl.DataFrame({"point": [p.key for p in points], "k": list(range(len(points))), "sharpe": sharpe})
    return table, PointCurves(points, ts, equity, START)


def test_the_dsr_shows_the_observed_sharpe_annualized_beside_its_threshold() -> None:
    # The best point's daily returns: mean / std = 1.5 / √252 exactly, an annualized Sharpe of 1.5 (0.0945
    # per session). Two others are pure noise with Sharpe 0.
    sigma = 0.01
    best = sigma * (1.5 / ROOT_252) + sigma * _standardized(1)
    returns = np.column_stack([best, sigma * _standardized(2), sigma * _standardized(3)])
    table, curves = _curves(returns)

    stats = overfitting_statistics(table, curves, "sharpe")

    assert stats["observed_sharpe"] == pytest.approx(1.5 / ROOT_252, rel=1e-12)  # 0.0945: the old display
    assert stats["observed_sharpe_annualized"] == pytest.approx(1.5, rel=1e-12)
    # Threshold by hand: V = variance of the three per-session Sharpes, N = N̂ (< 3 when correlated).
    sharpes = [1.5 / ROOT_252, 0.0, 0.0]
    n = stats["dsr_trials"]
    quantile = (1 - EULER_MASCHERONI) * NormalDist().inv_cdf(
        1 - 1 / n
    ) + EULER_MASCHERONI * NormalDist().inv_cdf(1 - 1 / (n * math.e))
    threshold = math.sqrt(np.var(sharpes, ddof=1)) * max(quantile, 0.0)
    assert stats["expected_max_sharpe"] == pytest.approx(threshold, rel=1e-9, abs=1e-15)
    assert stats["expected_max_sharpe_annualized"] == pytest.approx(threshold * ROOT_252, rel=1e-9, abs=1e-15)

    overfitting = {**walk_forward_summary().overfitting, **stats}
    inputs = sampled_inputs(walk_forward=_with_overfitting(overfitting))
    page = render_sweep_html(inputs)
    header = page[: page.index('id="points"')]
    shown = f"{stats['expected_max_sharpe_annualized']:.2f}"
    assert f"Sharpe 1.50 vs {shown} by luck (annualized" in header
    table_html = page[page.index('id="overfitting-table"') :]
    assert '<th>Observed Sharpe (annualized)</th><td class="num">1.50</td>' in table_html
    assert '<th>Observed Sharpe (per session)</th><td class="num">0.09</td>' in table_html


def test_points_that_never_trade_are_no_trials_and_correlated_ones_count_less() -> None:
    # a, a + small noise (nearly the same trial), b independent of a, and two flat points that never trade.
    a, b = 0.01 * _standardized(4), 0.01 * _standardized(5)
    twin = a + 0.001 * _standardized(6)
    returns = np.column_stack([a + 0.0008, twin, b, np.zeros(SESSIONS), np.zeros(SESSIONS)])
    table, curves = _curves(returns)

    stats = overfitting_statistics(table, curves, "sharpe")

    assert stats["trials"] == 5 and stats["trials_traded"] == 3
    # Independent check: the mean of the pairwise correlations, pair by pair.
    traded = [a + 0.0008, twin, b]
    pairs = [np.corrcoef(traded[i], traded[j])[0, 1] for i in range(3) for j in range(i + 1, 3)]
    average = sum(pairs) / 3
    assert stats["average_correlation"] == pytest.approx(average, rel=1e-12)
    assert stats["effective_trials"] == pytest.approx(average + (1 - average) * 3, rel=1e-12)
    assert 1.0 < stats["effective_trials"] < 3.0
    assert stats["dsr_trials"] == stats["effective_trials"]


def test_identical_trials_give_an_undefined_pbo_shown_as_such() -> None:
    same = 0.01 * _standardized(7) + 0.0005
    table, curves = _curves(np.column_stack([same] * 4))

    stats = overfitting_statistics(table, curves, "sharpe")

    assert stats["pbo"] is None and stats["identical_trials"] is True  # was 1.0, flagged bad
    assert stats["pbo_combinations"] == 12870
    assert stats["effective_trials"] == pytest.approx(1.0) and stats["expected_max_sharpe"] == 0.0
    page = render_sweep_html(sampled_inputs(walk_forward=_with_overfitting(stats)))
    header = page[: page.index('id="points"')]
    assert '<div class="label">PBO</div><div class="value">undefined</div>' in header
    assert "every point&#x27;s returns are identical" in header
    assert "undefined (identical trials)" in page[page.index('id="overfitting-table"') :]


def _with_overfitting(overfitting: dict) -> WalkForwardSummary:
    return replace(walk_forward_summary(), overfitting=overfitting)
