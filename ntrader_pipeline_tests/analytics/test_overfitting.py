"""DSR and PBO against examples worked out by hand (the arithmetic is in the comments)."""

import itertools
import math
from statistics import NormalDist

import numpy as np
import pytest

from ntrader_pipeline.analytics.overfitting import (
    EULER_MASCHERONI,
    deflated_sharpe_ratio,
    effective_trials,
    expected_max_sharpe,
    probability_of_backtest_overfitting,
    suggest_splits,
)

# Deviations from the mean 0.01 are +0.03, -0.01, -0.01, -0.01, 0, 0 (T = 6):
#   Σd² = (9 + 1 + 1 + 1)e-4 = 12e-4 → sample var = 12e-4 / 5 = 2.4e-4, SR̂ = 0.01 / √2.4e-4 = √(1/2.4)
#   m2 = 12e-4 / 6 = 2e-4;  m3 = (27 - 3)e-6 / 6 = 4e-6 → γ₃ = 4e-6 / (2e-4)^1.5 = √2
#   m4 = (81 + 3)e-8 / 6 = 14e-8 → γ₄ = 14e-8 / 4e-8 = 3.5
RETURNS = [0.04, 0.0, 0.0, 0.0, 0.01, 0.01]
SR_HAT = 0.6454972243679028  # √(1/2.4); SR̂² = 5/12
# Trials 0.1, 0.2, 0.3, 0.6: mean 0.3, Σ(dev²) = 0.04 + 0.01 + 0 + 0.09 = 0.14 → V = 0.14 / 3
TRIALS = [0.1, 0.2, 0.3, 0.6]
SQRT_V = 0.21602468994692867  # √(0.14 / 3)
# N = 4: Φ⁻¹(1 - 1/4) = Φ⁻¹(0.75) = 0.6744897501960817
#        Φ⁻¹(1 - 1/(4e)) = Φ⁻¹(0.9080301397) = 1.3287219496247633
# SR₀ = 0.2160247 · (0.4227843 · 0.6744898 + 0.5772157 · 1.3287219) = 0.22728450688158056
SR0 = 0.22728450688158056
# 1 - γ₃·SR̂ + (γ₄ - 1)/4·SR̂² = 1 - √(5/6) + 2.5/4 · 5/12 = 1 - 0.9128709 + 0.2604167 = 0.34754573749138973
VARIANCE_TERM = 0.34754573749138973
# z = (SR̂ - SR₀)·√5 / √0.3475457 = 1.5862668710604875 → Φ(z) = 0.9436606079667234
DSR = 0.9436606079667234
# PSR (SR₀ = 0): z = SR̂·√5 / √0.3475457 = 2.448349415413917 → Φ(z) = 0.9928243797532152
PSR = 0.9928243797532152


def test_deflated_sharpe_matches_the_hand_computed_example() -> None:
    result = deflated_sharpe_ratio(RETURNS, TRIALS)

    assert result.observed_sharpe == pytest.approx(SR_HAT, rel=1e-9)
    assert result.skewness == pytest.approx(math.sqrt(2), rel=1e-9)
    assert result.kurtosis == pytest.approx(3.5, rel=1e-9)
    assert result.expected_max_sharpe == pytest.approx(SR0, rel=1e-9)
    assert result.dsr == pytest.approx(DSR, rel=1e-9)
    assert result.probabilistic_sharpe == pytest.approx(PSR, rel=1e-9)
    assert (result.trials, result.observations) == (4, 6)
    # The ingredients tie together as the paper's formula says.
    z = (SR_HAT - SR0) * math.sqrt(5) / math.sqrt(VARIANCE_TERM)
    assert z == pytest.approx(1.5862668710604875, rel=1e-12)
    em = 0.5772156649015329
    expected_sr0 = SQRT_V * ((1 - em) * 0.6744897501960817 + em * 1.3287219496247633)
    assert expected_sr0 == pytest.approx(SR0, rel=1e-12)


def test_an_explicit_selected_sharpe_replaces_the_one_of_the_returns() -> None:
    # SR̂ = 0.5 with the same moments: 1 - √2·0.5 + 0.625·0.25 = 1 - 0.7071068 + 0.15625 = 0.4491432188134524
    # z = (0.5 - SR₀)·√5 / √0.4491432 = 0.9099182796156384 → Φ(z) = 0.8185671956188137
    result = deflated_sharpe_ratio(RETURNS, TRIALS, selected_sharpe=0.5)

    variance_term = 1 - math.sqrt(2) * 0.5 + 0.625 * 0.25
    assert variance_term == pytest.approx(0.4491432188134524, rel=1e-12)
    z = (0.5 - SR0) * math.sqrt(5) / math.sqrt(variance_term)
    assert z == pytest.approx(0.9099182796156384, rel=1e-12)
    assert result.observed_sharpe == 0.5
    assert result.dsr == pytest.approx(0.8185671956188137, rel=1e-9)
    assert result.dsr < DSR


def test_no_selection_means_no_deflation() -> None:
    # One trial, or trials without spread: SR₀ = 0, so the DSR is the PSR.
    for trials in ([0.3], [0.2, 0.2, 0.2]):
        result = deflated_sharpe_ratio(RETURNS, trials)
        assert result.expected_max_sharpe == 0.0
        assert result.dsr == pytest.approx(PSR, rel=1e-9)
        assert result.probabilistic_sharpe == result.dsr
    assert expected_max_sharpe([0.1, 0.2, 0.3, 0.6]) == pytest.approx(SR0, rel=1e-9)


def test_more_trials_with_the_same_spread_deflate_more() -> None:
    # Same V (a two-point spread repeated), larger N → larger Φ⁻¹(1 - 1/N) → larger SR₀, smaller DSR.
    few = deflated_sharpe_ratio(RETURNS, [0.0, 0.2] * 2)
    many = deflated_sharpe_ratio(RETURNS, [0.0, 0.2] * 50)
    assert many.expected_max_sharpe > few.expected_max_sharpe > 0.0
    assert many.dsr < few.dsr < PSR


def test_psr_of_a_positive_mean_series_rises_with_its_length() -> None:
    # Tiling keeps the population moments, so only √(T - 1) (and SR̂'s ddof) moves the PSR.
    pattern = [0.02, -0.01, 0.01, 0.0]
    psrs = [deflated_sharpe_ratio(pattern * k, [0.1, 0.2]).probabilistic_sharpe for k in (2, 4, 8, 16, 32)]
    assert psrs == sorted(psrs)
    assert len(set(psrs)) == len(psrs)
    # T = 8: mean 0.005, Σd² = 2·(2.25 + 2.25 + 0.25 + 0.25)e-4 = 1e-3, SR̂ = 0.005/√(1e-3/7) = 0.41833001…;
    # m2 = 1.25e-4, m3 = 0, m4 = 2·(5.0625 + 5.0625 + 0.0625 + 0.0625)e-8/8 = 2.5625e-8 → γ₄ = 1.64
    sr = 0.005 / math.sqrt(1e-3 / 7)
    z = sr * math.sqrt(7) / math.sqrt(1 + 0.64 / 4 * sr**2)
    assert psrs[0] == pytest.approx(NormalDist().cdf(z), rel=1e-9)


@pytest.mark.parametrize(
    ("returns", "trials", "message"),
    [
        ([0.01, 0.02], [0.1], "returns has 2 values; the DSR needs at least 3 periods"),
        ([0.01, 0.01, 0.01, 0.01], [0.1], "returns are constant"),
        ([0.01, math.nan, 0.02], [0.1], "returns has NaN or infinite values"),
        ([0.01, 0.0, 0.02], [0.1, math.nan], "trial_sharpes has NaN or infinite values"),
        ([0.01, 0.0, 0.02], [], "trial_sharpes is empty"),
        ([[0.01, 0.0, 0.02]], [0.1], "returns must be a 1-D sequence"),
    ],
)
def test_deflated_sharpe_rejects_unusable_input(returns: list, trials: list, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        deflated_sharpe_ratio(returns, trials)


def _blocks(means: list[list[float]]) -> np.ndarray:
    """Each block (row of `means`, one value per trial) becomes two rows μ + 0.5 and μ - 0.5: on two blocks
    with means a, b a trial's values are a±0.5, b±0.5, so Σd² = 1 + (a - b)², var = (1 + (a - b)²)/3 and
    Sharpe = (a + b)/2 / √var. Exact binary fractions keep ties exact."""
    rows = []
    for block in means:
        rows.append([m + 0.5 for m in block])
        rows.append([m - 0.5 for m in block])
    return np.array(rows)


# Trials A, B, C, D each win on two of the four blocks, and lose on the other two (block means ±1):
#   block 0: A+ B- C+ D-   block 1: A+ B- C- D+   block 2: A- B+ C+ D-   block 3: A- B+ C- D+
OVERFIT = _blocks([[1, -1, 1, -1], [1, -1, -1, 1], [-1, 1, 1, -1], [-1, 1, -1, 1]])
LN_QUARTER = math.log(1 / 4)


def test_pbo_is_one_when_the_in_sample_winner_is_always_worst_out_of_sample() -> None:
    # IS blocks → IS Sharpes (A, B, C, D); winner n*; OOS Sharpes; n*'s OOS rank r; λ = ln(r / (5 - r))
    #   (0,1): √3, -√3, 0, 0 → A; OOS (2,3): -√3, √3, 0, 0 → r = 1, λ = ln(1/4)
    #   (0,2): 0, 0, √3, -√3 → C; OOS (1,3): 0, 0, -√3, √3 → r = 1, λ = ln(1/4)
    #   (0,3): 0, 0, 0, 0 → A (first on ties); OOS (1,2): all 0 → r = (1+2+3+4)/4 = 2.5, λ = ln 1 = 0
    #   (1,2): 0, 0, 0, 0 → A; OOS (0,3): all 0 → r = 2.5, λ = 0
    #   (1,3): 0, 0, -√3, √3 → D; OOS (0,2): 0, 0, √3, -√3 → r = 1, λ = ln(1/4)
    #   (2,3): -√3, √3, 0, 0 → B; OOS (0,1): √3, -√3, 0, 0 → r = 1, λ = ln(1/4)
    # (√3: means 1, 1 → var = 1/3, Sharpe = 1/√(1/3).) Every λ ≤ 0 → PBO = 1; OOS < 0 in 4 of 6.
    result = probability_of_backtest_overfitting(OVERFIT, n_splits=4)

    assert result.pbo == 1.0
    assert result.logits == pytest.approx(
        (LN_QUARTER, LN_QUARTER, 0.0, 0.0, LN_QUARTER, LN_QUARTER), abs=1e-12
    )
    assert result.logits[2] == 0.0 and result.logits[3] == 0.0
    assert (result.combinations, result.n_splits, result.trials) == (6, 4, 4)
    assert result.probability_of_loss == pytest.approx(4 / 6)
    root3 = math.sqrt(3)
    assert result.in_sample_sharpes == pytest.approx((root3, root3, 0, 0, root3, root3), rel=1e-12, abs=1e-12)
    assert result.out_of_sample_sharpes == pytest.approx((-root3, -root3, 0, 0, -root3, -root3), abs=1e-12)
    # OOS = -IS exactly: the degradation line has slope -1 through the origin.
    assert result.performance_degradation.slope == pytest.approx(-1.0, rel=1e-12)
    assert result.performance_degradation.intercept == pytest.approx(0.0, abs=1e-12)


# Trial 2 has block means 2, 3, 2, 3; the others never beat √3 (means 1, 1 at best) on any half:
# trial 0: 1, -1, 1, -1; trial 1: -1 everywhere; trial 3: 1, 1, -1, -1.
DOMINANT = _blocks([[1, -1, 2, 1], [-1, -1, 3, 1], [1, -1, 2, -1], [-1, -1, 3, -1]])


def test_pbo_is_zero_when_one_trial_dominates_everywhere() -> None:
    # Trial 2 wins IS and ranks 4 of 4 OOS in every combination: λ = ln(4/1) > 0 → PBO = 0.
    # Its Sharpe on two blocks: means 2, 3 → 2.5/√(2/3) = q = 3.0618621784789726; 2, 2 → 2/√(1/3) = 2√3;
    # 3, 3 → 3√3. Combinations (0,1) (0,2) (0,3) (1,2) (1,3) (2,3):
    #   IS  x = q, 2√3, q, q, 3√3, q        OOS y = q, 3√3, q, q, 2√3, q
    result = probability_of_backtest_overfitting(DOMINANT, n_splits=4)

    assert result.pbo == 0.0
    assert result.logits == pytest.approx((math.log(4),) * 6, rel=1e-12)
    assert result.probability_of_loss == 0.0
    q, a, b = 2.5 / math.sqrt(2 / 3), 2 * math.sqrt(3), 3 * math.sqrt(3)
    assert q == pytest.approx(3.0618621784789726, rel=1e-12)
    assert result.in_sample_sharpes == pytest.approx((q, a, q, q, b, q), rel=1e-12)
    assert result.out_of_sample_sharpes == pytest.approx((q, b, q, q, a, q), rel=1e-12)
    # OLS by hand: x̄ = ȳ = m; Sxx = 4(q - m)² + (a - m)² + (b - m)², Sxy = 4(q - m)² + 2(a - m)(b - m).
    m = (4 * q + a + b) / 6
    sxx = 4 * (q - m) ** 2 + (a - m) ** 2 + (b - m) ** 2
    sxy = 4 * (q - m) ** 2 + 2 * (a - m) * (b - m)
    assert result.performance_degradation.slope == pytest.approx(sxy / sxx, rel=1e-9)
    assert result.performance_degradation.slope == pytest.approx(0.1768781653948997, rel=1e-9)
    assert result.performance_degradation.intercept == pytest.approx(m - sxy / sxx * m, rel=1e-9)


def test_pbo_ignores_the_order_of_trial_columns_and_the_leftover_first_rows() -> None:
    rng = np.random.default_rng(7)
    matrix = rng.normal(0.0005, 0.01, size=(60, 9))
    base = probability_of_backtest_overfitting(matrix, n_splits=6)
    permuted = probability_of_backtest_overfitting(matrix[:, rng.permutation(9)], n_splits=6)

    assert permuted.pbo == base.pbo
    assert permuted.logits == pytest.approx(base.logits, rel=1e-12)
    # 63 rows with S = 6: the first 63 mod 6 = 3 rows are dropped, whatever they hold.
    padded = np.vstack([np.full((3, 9), 5.0), matrix])
    assert probability_of_backtest_overfitting(padded, n_splits=6).logits == base.logits
    assert 0.0 < base.pbo < 1.0  # random trials: the IS winner is a coin flip OOS


def _naive_pbo(matrix: np.ndarray, splits: int) -> tuple[float, list[float]]:
    """CSCV row by row, straight from the paper's steps."""
    matrix = matrix[len(matrix) % splits :]
    blocks = np.split(matrix, splits)
    n = matrix.shape[1]
    logits = []
    for chosen in itertools.combinations(range(splits), splits // 2):
        train = np.vstack([blocks[i] for i in chosen])
        test = np.vstack([blocks[i] for i in range(splits) if i not in chosen])
        is_sr = train.mean(axis=0) / train.std(axis=0, ddof=1)
        oos_sr = test.mean(axis=0) / test.std(axis=0, ddof=1)
        best = int(np.argmax(is_sr))
        rank = (
            1
            + sum(1 for v in oos_sr if v < oos_sr[best])
            + (sum(1 for v in oos_sr if v == oos_sr[best]) - 1) / 2
        )
        omega = rank / (n + 1)
        logits.append(math.log(omega / (1 - omega)))
    return sum(1 for v in logits if v <= 0) / len(logits), logits


def test_pbo_matches_a_row_by_row_cscv() -> None:
    rng = np.random.default_rng(11)
    # Trials with real edges of different sizes, so PBO is low but not trivially 0.
    matrix = rng.normal(np.linspace(-0.002, 0.003, 12), 0.01, size=(203, 12))
    expected_pbo, expected_logits = _naive_pbo(matrix, 8)

    result = probability_of_backtest_overfitting(matrix, n_splits=8)

    assert result.combinations == 70
    assert result.pbo == expected_pbo
    assert result.logits == pytest.approx(expected_logits, rel=1e-12)


def test_a_flat_trial_has_sharpe_zero() -> None:
    # Trial 1 is flat (0.01 every period, whose float mean leaves a residue): Sharpe 0 on every side, so it
    # beats trial 0 (negative everywhere) IS and OOS alike → rank 2 of 2, λ = ln(2/1) each time.
    matrix = np.column_stack([_blocks([[-1]] * 4)[:, 0], np.full(8, 0.01)])
    result = probability_of_backtest_overfitting(matrix, n_splits=4)

    assert result.in_sample_sharpes == (0.0,) * 6
    assert result.logits == pytest.approx((math.log(2),) * 6, rel=1e-12)
    assert math.isnan(result.performance_degradation.slope)  # no IS spread to fit a line to


@pytest.mark.parametrize(
    ("shape", "splits", "message"),
    [
        (
            (20, 3),
            16,
            "n_splits=16 needs at least 32 sessions, got 20; lengthen the window or lower n_splits",
        ),
        ((40, 3), 5, "n_splits=5 must be even and at least 2; use e.g. 4"),
        ((40, 3), 0, "n_splits=0 must be even and at least 2; use e.g. 2"),
        ((40, 1), 4, "returns_matrix has 1 trial column(s); PBO compares trials, pass at least 2"),
    ],
)
def test_pbo_validation_says_what_to_change(shape: tuple[int, int], splits: int, message: str) -> None:
    with pytest.raises(ValueError) as error:
        probability_of_backtest_overfitting(np.ones(shape), n_splits=splits)
    assert str(error.value) == message


def test_pbo_rejects_nan_and_non_matrices() -> None:
    with pytest.raises(ValueError, match="returns_matrix has NaN"):
        probability_of_backtest_overfitting(np.full((8, 2), math.nan), n_splits=4)
    with pytest.raises(ValueError, match="returns_matrix must be 2-D"):
        probability_of_backtest_overfitting(np.ones(8), n_splits=4)


@pytest.mark.parametrize(
    ("periods", "maximum", "expected"),
    [
        (4, 16, 2),
        (5, 16, 2),
        (7, 16, 2),
        (8, 16, 4),
        (13, 16, 6),
        (31, 16, 14),
        (32, 16, 16),
        (500, 16, 16),
        (500, 7, 6),
        (500, 2, 2),
    ],
)
def test_suggest_splits_gives_the_largest_even_split_with_two_rows_a_block(
    periods: int, maximum: int, expected: int
) -> None:
    assert suggest_splits(periods, maximum) == expected
    probability_of_backtest_overfitting(np.ones((periods, 2)), n_splits=expected)  # and it is accepted


def test_suggest_splits_rejects_too_few_periods() -> None:
    with pytest.raises(ValueError, match="periods=3 is too few for CSCV; it needs at least 4"):
        suggest_splits(3)
    with pytest.raises(ValueError, match="maximum=1 must be at least 2"):
        suggest_splits(10, maximum=1)


def test_a_persistently_skilled_trial_has_pbo_zero_and_a_slope_near_minus_one() -> None:
    # 20 runs of 6 trials over 512 sessions: five are noise (std 1 %), trial 3 is skilled (its noise has
    # sample mean exactly 0 and std 1 %, plus 0.3 % a session: a Sharpe of 0.3 a session in every run).
    # The CSCV halves partition the sessions: for the trial that wins every split, IS mean + OOS mean =
    # 2 x its full-sample mean, so its OOS Sharpe falls as its IS Sharpe rises: a slope near -1 with real,
    # persistent skill, and PBO 0 (it ranks first out of sample every time).
    slopes = []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        matrix = rng.normal(0.0, 0.01, size=(512, 6))
        noise = matrix[:, 3] - matrix[:, 3].mean()
        matrix[:, 3] = 0.01 * noise / noise.std(ddof=1) + 0.003
        result = probability_of_backtest_overfitting(matrix, n_splits=8)
        assert result.pbo == 0.0
        # Independent check of the slope: numpy's least-squares line through the winner's Sharpe pairs.
        slope = np.polyfit(result.in_sample_sharpes, result.out_of_sample_sharpes, 1)[0]
        assert result.performance_degradation.slope == pytest.approx(slope, rel=1e-9)
        slopes.append(slope)
    assert float(np.mean(slopes)) == pytest.approx(-0.998, abs=0.001)  # the runs: -0.99
    # The same trial wins every split: its IS + OOS means are twice the full mean (the partition identity).
    blocks = np.split(matrix[:, 3], 8)
    for chosen in itertools.combinations(range(8), 4):
        is_mean = np.mean(np.concatenate([blocks[i] for i in chosen]))
        oos_mean = np.mean(np.concatenate([blocks[i] for i in range(8) if i not in chosen]))
        assert is_mean + oos_mean == pytest.approx(2 * matrix[:, 3].mean(), rel=1e-12)


def test_identical_trials_leave_the_pbo_undefined() -> None:
    column = np.random.default_rng(3).normal(0.001, 0.01, size=64)
    result = probability_of_backtest_overfitting(np.column_stack([column] * 5), n_splits=4)

    assert math.isnan(result.pbo)  # every split ties at the median rank: the old count gave 1.0
    assert result.logits == (0.0,) * 6
    # Two distinct trials among duplicates are a real choice again.
    other = np.random.default_rng(4).normal(0.0, 0.01, size=64)
    assert not math.isnan(probability_of_backtest_overfitting(np.column_stack([column] * 4 + [other]), 4).pbo)


def test_effective_trials_by_hand_and_by_brute_force() -> None:
    # a and b are orthogonal with mean 0: corr(a, a) = 1, corr(a, b) = 0. Trials a, a, b and a flat one:
    # the flat trial is left out (M = 3), r̄ = (1 + 0 + 0) / 3, N̂ = 1/3 + (2/3) x 3 = 7/3.
    a = [1.0, -1.0, 1.0, -1.0]
    b = [1.0, 1.0, -1.0, -1.0]
    result = effective_trials(np.column_stack([a, a, b, [0.5] * 4]))
    assert result.varying == 3
    assert result.average_correlation == pytest.approx(1 / 3, rel=1e-12)
    assert result.effective == pytest.approx(7 / 3, rel=1e-12)

    rng = np.random.default_rng(5)
    factor = rng.normal(size=(300, 1))
    matrix = 0.7 * factor + rng.normal(size=(300, 8))
    pairs = [np.corrcoef(matrix[:, i], matrix[:, j])[0, 1] for i in range(8) for j in range(i + 1, 8)]
    average = sum(pairs) / len(pairs)
    result = effective_trials(matrix)
    assert result.average_correlation == pytest.approx(average, rel=1e-12)
    assert result.effective == pytest.approx(average + (1 - average) * 8, rel=1e-12)
    assert effective_trials(np.column_stack([a] * 3)).effective == pytest.approx(1.0)
    assert effective_trials(np.column_stack([a, [0.0] * 4])).effective == 1.0
    assert math.isnan(effective_trials(np.zeros((4, 3))).effective)


def test_the_expected_maximum_uses_the_effective_number_of_trials() -> None:
    sharpes = [0.1, 0.2, 0.3, 0.6]
    # N = 2.5 by hand: √V x (0.4228 Φ⁻¹(1 - 1/2.5) + 0.5772 Φ⁻¹(1 - 1/(2.5 e))).
    normal = NormalDist()
    quantile = (1 - EULER_MASCHERONI) * normal.inv_cdf(0.6) + EULER_MASCHERONI * normal.inv_cdf(
        1 - 1 / (2.5 * math.e)
    )
    expected = math.sqrt(np.var(sharpes, ddof=1)) * quantile
    assert expected_max_sharpe(sharpes, trials=2.5) == pytest.approx(expected, rel=1e-12)
    assert expected_max_sharpe(sharpes, trials=2.5) < expected_max_sharpe(sharpes)
    assert expected_max_sharpe(sharpes, trials=1.0) == 0.0  # one independent trial: no selection
    assert deflated_sharpe_ratio(RETURNS, sharpes, trials=2.5).trials == 2.5
    with pytest.raises(ValueError, match=r"trials=0\.5 must be at least 1"):
        expected_max_sharpe(sharpes, trials=0.5)
