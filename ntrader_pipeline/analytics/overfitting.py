"""Overfitting statistics of a parameter sweep: how much of the best trial's Sharpe is selection luck.

Deflated Sharpe ratio (DSR) — Bailey & López de Prado (2014), "The Deflated Sharpe Ratio: Correcting for
Selection Bias, Backtest Overfitting, and Non-Normality", Journal of Portfolio Management 40(5), 94-107:

    SR₀ = √V[{SRₙ}] · ((1 - EM)·Φ⁻¹(1 - 1/N) + EM·Φ⁻¹(1 - 1/(N·e)))     (expected max Sharpe of N null trials)
    DSR = Φ( (SR̂ - SR₀)·√(T - 1) / √(1 - γ₃·SR̂ + (γ₄ - 1)/4 · SR̂²) )

with EM = 0.5772… the Euler-Mascheroni constant, SR̂ the selected trial's per-period Sharpe over T
returns, γ₃ its skewness and γ₄ its (non-excess) kurtosis. The probabilistic Sharpe ratio (PSR) is the
same with SR₀ = 0.

Probability of backtest overfitting (PBO) — Bailey, Borwein, López de Prado & Zhu (2017), "The Probability
of Backtest Overfitting", Journal of Computational Finance 20(4), 39-69, by combinatorially symmetric
cross-validation (CSCV): split the T×N returns into S blocks, take every half of the blocks as in-sample
(IS) and the rest as out-of-sample (OOS), and count how often the IS winner ranks in the bottom half OOS:

    ω̄_c = rank of n*'s OOS Sharpe / (N + 1),  λ_c = ln(ω̄_c / (1 - ω̄_c)),  PBO = #{c: λ_c ≤ 0} / C

Effective number of trials — correlated trials are fewer independent tries than their count. With r̄
the average pairwise correlation of the trials' returns, Bailey & López de Prado (2014) estimate
N̂ = r̄ + (1 - r̄)·M for M trials: M when they are uncorrelated, 1 when they are identical.

All Sharpe ratios here are per period (not annualized): mean / std with ddof 1. Multiply by
√(periods per year) to annualize one; the DSR and PSR probabilities do not change with the unit.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

EULER_MASCHERONI = 0.5772156649015329
_NORMAL = NormalDist()
_CHUNK = 1024  # combinations per vectorized step: bounds memory at C×S/2×N floats per chunk


@dataclass(frozen=True, slots=True)
class DeflatedSharpe:
    """DSR and its ingredients; Sharpe ratios are per period, `kurtosis` is non-excess (normal = 3)."""

    dsr: float
    probabilistic_sharpe: float  # PSR against a zero benchmark: Φ(SR̂·√(T-1)/√(…))
    observed_sharpe: float  # SR̂
    expected_max_sharpe: float  # SR₀
    trials: float  # N: the trials counted (an effective number may be fractional)
    observations: int  # T
    skewness: float  # γ₃
    kurtosis: float  # γ₄


@dataclass(frozen=True, slots=True)
class PerformanceDegradation:
    """OLS line OOS Sharpe = slope · IS Sharpe + intercept of the IS winner across CSCV combinations; a
    slope below 0 means a better IS Sharpe predicts a worse OOS one. NaN when the IS Sharpe never varies."""

    slope: float
    intercept: float


@dataclass(frozen=True, slots=True)
class BacktestOverfitting:
    """CSCV result; `logits`, `in_sample_sharpes` and `out_of_sample_sharpes` (the IS winner's, for the
    degradation scatter) follow the order of itertools.combinations(range(n_splits), n_splits // 2)."""

    pbo: float  # NaN when every trial's returns are identical: there is nothing to select
    logits: tuple[float, ...]
    combinations: int
    n_splits: int
    trials: int
    performance_degradation: PerformanceDegradation
    probability_of_loss: float  # fraction of combinations where the IS winner's OOS Sharpe < 0
    in_sample_sharpes: tuple[float, ...]
    out_of_sample_sharpes: tuple[float, ...]


def deflated_sharpe_ratio(
    returns: ArrayLike,
    trial_sharpes: ArrayLike,
    selected_sharpe: float | None = None,
    trials: float | None = None,
) -> DeflatedSharpe:
    """DSR of the selected trial (Bailey & López de Prado 2014):

        SR₀ = √V[{SRₙ}]·((1 - EM)·Φ⁻¹(1 - 1/N) + EM·Φ⁻¹(1 - 1/(N·e))),  V with ddof 1 across trials
        DSR = Φ((SR̂ - SR₀)·√(T - 1) / √(1 - γ₃·SR̂ + (γ₄ - 1)/4·SR̂²))

    `returns`: the selected trial's per-period returns (T ≥ 3). `trial_sharpes`: per-period Sharpe ratios
    of every trial of the sweep, the selected one included (N = len). `selected_sharpe` defaults to
    mean/std (ddof 1) of `returns`. γ₃ and γ₄ are population moments of `returns`, as in the paper.
    `trials` overrides N (e.g. the effective number of trials, `effective_trials`); V stays the variance
    of `trial_sharpes`. With N ≤ 1 or no spread across trials there is no selection to deflate for, so
    SR₀ = 0 (DSR = PSR).
    """
    values = _finite_vector(returns, "returns")
    if values.size < 3:
        raise ValueError(f"returns has {values.size} values; the DSR needs at least 3 periods")
    sharpes = _finite_vector(trial_sharpes, "trial_sharpes")
    if sharpes.size == 0:
        raise ValueError("trial_sharpes is empty; pass the Sharpe ratio of every trial of the sweep")
    deviations = values - values.mean()
    m2 = float(np.mean(deviations**2))
    if m2 == 0.0 or np.ptp(values) == 0.0:
        raise ValueError("returns are constant (zero standard deviation); the Sharpe ratio is undefined")
    skewness = float(np.mean(deviations**3)) / m2**1.5
    kurtosis = float(np.mean(deviations**4)) / m2**2
    observed = (
        float(values.mean() / values.std(ddof=1)) if selected_sharpe is None else float(selected_sharpe)
    )
    if not math.isfinite(observed):
        raise ValueError(f"selected_sharpe={selected_sharpe} is not finite; pass a number or leave it out")

    expected_max = expected_max_sharpe(sharpes, trials)
    variance_term = 1.0 - skewness * observed + (kurtosis - 1.0) / 4.0 * observed**2
    if variance_term <= 0.0:  # ≥ 0 by Pearson's inequality γ₄ ≥ 1 + γ₃²; 0 only for degenerate 2-point data
        raise ValueError("returns give a non-positive Sharpe variance term; they need more than two levels")
    scale = math.sqrt(values.size - 1) / math.sqrt(variance_term)
    return DeflatedSharpe(
        dsr=_NORMAL.cdf((observed - expected_max) * scale),
        probabilistic_sharpe=_NORMAL.cdf(observed * scale),
        observed_sharpe=observed,
        expected_max_sharpe=expected_max,
        trials=float(sharpes.size if trials is None else trials),
        observations=int(values.size),
        skewness=skewness,
        kurtosis=kurtosis,
    )


def expected_max_sharpe(trial_sharpes: ArrayLike, trials: float | None = None) -> float:
    """SR₀ = √V·((1 - EM)·Φ⁻¹(1 - 1/N) + EM·Φ⁻¹(1 - 1/(N·e))) (Bailey & López de Prado 2014): the expected
    maximum of N Sharpe ratios drawn with variance V (of `trial_sharpes`, ddof 1) around zero. N is the
    number of `trial_sharpes` unless `trials` gives it (a real number ≥ 1, e.g. an effective count).
    0 when N ≤ 1 or V = 0 (no selection); the approximation turns negative for N below about 1.3, where
    the expected maximum of so few trials is taken as 0 too."""
    sharpes = _finite_vector(trial_sharpes, "trial_sharpes")
    n = float(sharpes.size if trials is None else trials)
    if trials is not None and not n >= 1.0:
        raise ValueError(f"trials={trials} must be at least 1 (one trial is no selection)")
    # ptp, not var: equal floats can leave a rounding residue in var
    if n <= 1.0 or sharpes.size < 2 or np.ptp(sharpes) == 0.0:
        return 0.0
    variance = float(np.var(sharpes, ddof=1))
    quantiles = (1.0 - EULER_MASCHERONI) * _NORMAL.inv_cdf(
        1.0 - 1.0 / n
    ) + EULER_MASCHERONI * _NORMAL.inv_cdf(1.0 - 1.0 / (n * math.e))
    return math.sqrt(variance) * max(quantiles, 0.0)


@dataclass(frozen=True, slots=True)
class EffectiveTrials:
    """N̂ = r̄ + (1 - r̄)·M (Bailey & López de Prado 2014) over the M trials whose returns vary."""

    effective: float  # N̂, between 1 and M when r̄ ≥ 0; NaN when M = 0
    average_correlation: float  # r̄ over the M·(M-1)/2 pairs; NaN when M < 2
    varying: int  # M: trials whose returns are not constant (a trial that never trades is left out)


def effective_trials(returns_matrix: ArrayLike) -> EffectiveTrials:
    """The effective number of independent trials among the columns (trials) of a T×N returns matrix.

    r̄ is the mean of the Pearson correlations of every pair of columns that vary (a constant column,
    e.g. a point that never trades, has no correlation and is no try at all). With one varying trial
    N̂ = 1; with none, NaN. r̄ below 0 would give N̂ > M: callers use min(M, N̂).
    """
    matrix = np.asarray(returns_matrix, dtype=float)
    if matrix.ndim != 2:
        raise ValueError(f"returns_matrix must be 2-D (periods × trials), got {matrix.ndim} dimension(s)")
    if not np.isfinite(matrix).all():
        raise ValueError("returns_matrix has NaN or infinite values; fill or drop those periods first")
    varying = matrix[:, np.ptp(matrix, axis=0) > 0.0] if matrix.shape[0] else matrix[:, :0]
    m = varying.shape[1]
    if m < 2:
        return EffectiveTrials(float(m) if m else math.nan, math.nan, m)
    correlation = np.corrcoef(varying, rowvar=False)
    pairs = correlation[np.triu_indices(m, k=1)]
    average = float(np.clip(pairs, -1.0, 1.0).mean())
    return EffectiveTrials(average + (1.0 - average) * m, average, m)


def probability_of_backtest_overfitting(returns_matrix: ArrayLike, n_splits: int = 16) -> BacktestOverfitting:
    """PBO by CSCV (Bailey, Borwein, López de Prado & Zhu 2017):

        for each of the C(S, S/2) IS block sets c (OOS = the other blocks):
            n* = argmax IS Sharpe (first on ties);  ω̄_c = rank(OOS Sharpe of n*) / (N + 1)
            λ_c = ln(ω̄_c / (1 - ω̄_c));  PBO = #{λ_c ≤ 0} / C

    `returns_matrix`: T×N, rows = periods (sessions), columns = trials. Rows form S = `n_splits` contiguous
    blocks of ⌊T/S⌋ rows; the first T mod S rows are dropped so the blocks are equal and the most recent
    data is kept. Ranks are 1..N ascending with average ranks for ties, so a median OOS rank gives λ = 0
    and counts as overfit. A trial with zero std on a side has Sharpe 0 there (flat: no edge, no risk).
    Performance degradation is the OLS fit of the winner's OOS Sharpe on its IS Sharpe across combinations.
    The two halves of a combination partition the same S blocks, so a trial that wins every combination has
    IS mean + OOS mean = 2 × its full-sample mean: its OOS Sharpe falls as its IS Sharpe rises, and the
    slope is near -1 with real, persistent skill. The slope is no verdict on overfitting by itself.
    When every trial's returns are identical (the same column N times) there is nothing to select:
    PBO is NaN (undefined), not the 1.0 the median-rank ties would count.
    """
    matrix = _cscv_matrix(returns_matrix, n_splits)
    periods, trials = matrix.shape
    block = periods // n_splits
    blocks = matrix[periods % n_splits :].reshape(n_splits, block, trials)
    stats = _BlockStats(blocks)
    in_sample = np.array(list(itertools.combinations(range(n_splits), n_splits // 2)), dtype=np.intp)
    out_of_sample = np.array([np.setdiff1d(np.arange(n_splits), c) for c in in_sample], dtype=np.intp)

    is_best, oos_best, ranks = [], [], []
    for start in range(0, len(in_sample), _CHUNK):
        is_sharpe = stats.sharpe(in_sample[start : start + _CHUNK])
        oos_sharpe = stats.sharpe(out_of_sample[start : start + _CHUNK])
        winner = np.argmax(is_sharpe, axis=1)  # first index on ties
        rows = np.arange(winner.size)
        won_oos = oos_sharpe[rows, winner]
        below = (oos_sharpe < won_oos[:, None]).sum(axis=1)
        equal = (oos_sharpe == won_oos[:, None]).sum(axis=1)  # includes the winner itself
        is_best.append(is_sharpe[rows, winner])
        oos_best.append(won_oos)
        ranks.append(below + (equal + 1) / 2.0)

    rank = np.concatenate(ranks)
    logits = np.log(rank / (trials + 1 - rank))  # = ln(ω̄/(1 - ω̄)), exactly 0 at the median rank
    x, y = np.concatenate(is_best), np.concatenate(oos_best)
    identical = bool((matrix == matrix[:, :1]).all())
    return BacktestOverfitting(
        pbo=math.nan if identical else float(np.mean(logits <= 0.0)),
        logits=tuple(float(v) for v in logits),
        combinations=len(in_sample),
        n_splits=n_splits,
        trials=trials,
        performance_degradation=_ols(x, y),
        probability_of_loss=float(np.mean(y < 0.0)),
        in_sample_sharpes=tuple(float(v) for v in x),
        out_of_sample_sharpes=tuple(float(v) for v in y),
    )


def _cscv_matrix(returns_matrix: ArrayLike, n_splits: int) -> np.ndarray:
    """The T×N matrix as floats, after checking CSCV can split it into `n_splits` blocks."""
    matrix = np.asarray(returns_matrix, dtype=float)
    if matrix.ndim != 2:
        raise ValueError(f"returns_matrix must be 2-D (periods × trials), got {matrix.ndim} dimension(s)")
    if not np.isfinite(matrix).all():
        raise ValueError("returns_matrix has NaN or infinite values; fill or drop those periods first")
    periods, trials = matrix.shape
    if n_splits < 2 or n_splits % 2:
        raise ValueError(
            f"n_splits={n_splits} must be even and at least 2; use e.g. {max(2, n_splits // 2 * 2)}"
        )
    if trials < 2:
        raise ValueError(f"returns_matrix has {trials} trial column(s); PBO compares trials, pass at least 2")
    if periods < 2 * n_splits:
        raise ValueError(
            f"n_splits={n_splits} needs at least {2 * n_splits} sessions, got {periods}; "
            "lengthen the window or lower n_splits"
        )
    return matrix


def suggest_splits(periods: int, maximum: int = 16) -> int:
    """The largest even S ≤ `maximum` (and ≥ 2) with `periods` ≥ 2·S, so every CSCV block has ≥ 2 rows."""
    if periods < 4:
        raise ValueError(f"periods={periods} is too few for CSCV; it needs at least 4 (2 blocks of 2)")
    if maximum < 2:
        raise ValueError(f"maximum={maximum} must be at least 2 (the smallest even split count)")
    return min(maximum, periods // 2) // 2 * 2


class _BlockStats:
    """Per-block mean, centred sum of squares, min and max of each trial: a side's Sharpe then follows from
    its blocks without touching rows again (Chan et al. pairwise variance: stable, independent of T)."""

    def __init__(self, blocks: np.ndarray) -> None:
        self.size = blocks.shape[1]
        self.mean = blocks.mean(axis=1)  # S×N
        self.m2 = ((blocks - self.mean[:, None, :]) ** 2).sum(axis=1)
        self.low = blocks.min(axis=1)
        self.high = blocks.max(axis=1)

    def sharpe(self, sides: np.ndarray) -> np.ndarray:
        """Sharpe (ddof 1) of every trial over each row of block indices `sides` (C×k) → C×N."""
        means = self.mean[sides]  # C×k×N
        mean = means.mean(axis=1)
        m2 = self.m2[sides].sum(axis=1) + self.size * ((means - mean[:, None, :]) ** 2).sum(axis=1)
        std = np.sqrt(m2 / (self.size * sides.shape[1] - 1))
        # Flat from min == max, not std == 0: a constant side's mean can leave a rounding residue in std.
        flat = (self.high[sides].max(axis=1) == self.low[sides].min(axis=1)) | (std == 0.0)
        return np.where(flat, 0.0, mean / np.where(flat, 1.0, std))


def _ols(x: np.ndarray, y: np.ndarray) -> PerformanceDegradation:
    spread = x - x.mean()
    denominator = float(spread @ spread)
    if denominator == 0.0:
        return PerformanceDegradation(slope=math.nan, intercept=math.nan)
    slope = float(spread @ (y - y.mean())) / denominator
    return PerformanceDegradation(slope=slope, intercept=float(y.mean() - slope * x.mean()))


def _finite_vector(values: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence, got {array.ndim} dimension(s)")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} has NaN or infinite values; drop or fill them first")
    return array
