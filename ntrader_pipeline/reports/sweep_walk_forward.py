"""The sweep report's walk-forward and overfitting parts: headline cards, the folds, the stitched
out-of-sample curve and the overfitting statistics with what each one means.

Every Sharpe ratio shown is annualized (x √252) unless its label says "per session"; the deflated Sharpe
ratio is a probability and does not depend on the unit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from html import escape

from ntrader_pipeline.reports.comparison import as_number, format_cell
from ntrader_pipeline.reports.headline import Card, tone
from ntrader_pipeline.reports.sweep_figures import is_vs_oos_chart, oos_equity_chart
from ntrader_pipeline.reports.sweep_model import (
    DSR_THRESHOLD,
    PBO_THRESHOLD,
    WalkForwardSummary,
    metric_label,
)

# (key, title, format kind, what it means); rows whose key the statistics lack are left out.
OVERFITTING_ROWS: tuple[tuple[str, str, str, str], ...] = (
    (
        "deflated_sharpe_ratio",
        "Deflated Sharpe ratio (DSR)",
        "percent",
        "Bailey & López de Prado (2014): the probability that the best point's true Sharpe ratio is above "
        "the best Sharpe that this many trials would show by luck alone, adjusted for the returns' skew "
        f"and kurtosis and the sample length; below {DSR_THRESHOLD:.0%} the best is not significant.",
    ),
    (
        "observed_sharpe_annualized",
        "Observed Sharpe (annualized)",
        "ratio",
        "The best point's Sharpe ratio that is being deflated: mean / std of its daily session returns "
        "x √252.",
    ),
    (
        "expected_max_sharpe_annualized",
        "Threshold: expected maximum Sharpe by luck (annualized)",
        "ratio",
        "The Sharpe ratio the best of the trials counted below would show without any skill (x √252): "
        "the DSR is the probability that the true Sharpe is above it.",
    ),
    (
        "probabilistic_sharpe_ratio",
        "Probabilistic Sharpe ratio (PSR)",
        "percent",
        "The probability that the true Sharpe ratio is above 0, given skew, kurtosis and sample length "
        "(the DSR without the multiple-trials deflation).",
    ),
    (
        "observed_sharpe",
        "Observed Sharpe (per session)",
        "ratio",
        "The same Sharpe per daily session, as the DSR formula takes it (annualized = x √252).",
    ),
    (
        "expected_max_sharpe",
        "Threshold (per session)",
        "ratio",
        "The expected maximum Sharpe by luck per daily session (annualized = x √252).",
    ),
    ("trials", "Trials (points run)", "count", "Every parameter point the sweep ran."),
    (
        "trials_traded",
        "Trials that trade",
        "count",
        "Points whose equity moves at all; a point that never trades is no try and is left out of the DSR.",
    ),
    (
        "effective_trials",
        "Effective independent trials N̂",
        "ratio",
        "N̂ = r̄ + (1 - r̄)·M over the M trials that trade, r̄ the average pairwise correlation of their "
        "daily returns (Bailey & López de Prado 2014): neighbouring parameter points trade alike, so they "
        "are fewer independent tries than their count.",
    ),
    (
        "average_correlation",
        "Average correlation r̄ of the trials' returns",
        "ratio",
        "The mean Pearson correlation of the daily returns over every pair of trials that trade.",
    ),
    (
        "dsr_trials",
        "Trials N in the DSR",
        "ratio",
        "The smaller of the trials that trade and N̂: the number of tries the threshold above is the best of.",
    ),
    (
        "pbo",
        "Probability of backtest overfitting (PBO)",
        "percent",
        "Bailey, Borwein, López de Prado & Zhu (2017): the share of combinatorially-symmetric "
        "cross-validation splits in which the in-sample best point ranks below the median out of sample; "
        f"above {PBO_THRESHOLD:.0%} picking the in-sample best is worse than picking at random. "
        "Undefined when every point's returns are identical: there is nothing to select.",
    ),
    (
        "pbo_combinations",
        "CSCV splits",
        "count",
        "The number of in-sample/out-of-sample splits the PBO counts.",
    ),
    (
        "probability_of_loss",
        "Probability of out-of-sample loss",
        "percent",
        "The share of those splits in which the in-sample best point's Sharpe is below 0 out of sample.",
    ),
    (
        "degradation_slope",
        "Degradation slope",
        "ratio",
        "The slope of the in-sample best point's out-of-sample Sharpe regressed on its in-sample Sharpe "
        "across the splits. The two halves of a split partition the same sessions, so for a point that "
        "wins every split IS mean + OOS mean = 2 × its full-sample mean: a lucky IS half leaves an "
        "unlucky OOS half, and persistent skill gives a slope near -1. The slope is no evidence of "
        "overfitting by itself; read the PBO.",
    ),
)


def walk_forward_cards(walk_forward: WalkForwardSummary) -> list[Card]:
    """Stitched out-of-sample Sharpe and return, the mean degradation, the DSR with its observed Sharpe
    and threshold, and the PBO."""
    oos = walk_forward.oos_metrics
    sharpe, total = as_number(oos.get("sharpe")), as_number(oos.get("total_return"))
    degradation = walk_forward.folds["degradation"].drop_nulls().drop_nans()
    mean_degradation = float(degradation.mean()) if degradation.len() else math.nan
    compared_label, compared_kind = metric_label(walk_forward.degradation_metric)
    folds = walk_forward.folds.height
    return [
        Card(
            "OOS Sharpe (annualized)",
            format_cell(sharpe, "ratio"),
            f"stitched over {folds} {walk_forward.mode} folds",
            tone(sharpe),
            "Sharpe ratio of the out-of-sample runs stitched end to end, daily returns x √252",
        ),
        Card("OOS total return", format_cell(total, "percent"), "stitched out of sample", tone(total)),
        Card(
            "Mean degradation",
            format_cell(mean_degradation, compared_kind),
            f"OOS - IS {compared_label}, per fold",
            tone(mean_degradation),
            "mean over folds of the out-of-sample minus the in-sample value of the chosen point, on an "
            "annualized metric so folds of different lengths compare like with like",
        ),
        _dsr_card(walk_forward.overfitting),
        _pbo_card(walk_forward.overfitting),
    ]


def _dsr_card(overfitting: Mapping[str, object]) -> Card:
    dsr = as_number(overfitting.get("deflated_sharpe_ratio"))
    if math.isnan(dsr):
        return Card("Deflated Sharpe", "n/a", "not computable", "", _DSR_HINT)
    observed = format_cell(overfitting.get("observed_sharpe_annualized"), "ratio")
    threshold = format_cell(overfitting.get("expected_max_sharpe_annualized"), "ratio")
    trials = format_cell(overfitting.get("dsr_trials"), "ratio")
    verdict = f"{'≥' if dsr >= DSR_THRESHOLD else '<'} {DSR_THRESHOLD:.0%} needed"
    return Card(
        "Deflated Sharpe",
        format_cell(dsr, "percent"),
        f"Sharpe {observed} vs {threshold} by luck (annualized, N = {trials}); {verdict}",
        "good" if dsr >= DSR_THRESHOLD else "bad",
        _DSR_HINT,
    )


_DSR_HINT = (
    "probability that the best point's true Sharpe is above the best of N trials by luck "
    "(Bailey & López de Prado 2014); both Sharpe ratios annualized"
)


def _pbo_card(overfitting: Mapping[str, object]) -> Card:
    hint = "share of CSCV splits where the in-sample best ranks below the OOS median (Bailey et al. 2017)"
    if overfitting.get("identical_trials"):
        return Card("PBO", "undefined", "every point's returns are identical", "", hint)
    pbo = as_number(overfitting.get("pbo"))
    if math.isnan(pbo):
        return Card("PBO", "n/a", "not computable", "", hint)
    shade = "bad" if pbo > PBO_THRESHOLD else "good"
    return Card("PBO", format_cell(pbo, "percent"), "probability of backtest overfitting", shade, hint)


def walk_forward_section(walk_forward: WalkForwardSummary, figures: Callable[..., str]) -> str:
    """The folds, the stitched out-of-sample equity, in sample vs out of sample, and the statistics."""
    label, _ = metric_label(walk_forward.metric)
    folds = walk_forward.folds.sort("fold")
    parameters = dict(zip(folds["fold"].to_list(), folds["parameters"].to_list(), strict=True))
    compared = metric_label(walk_forward.degradation_metric)[0]
    return "\n".join(
        [
            '<section id="walk-forward">',
            f"<h2>Walk-forward validation ({escape(walk_forward.mode)}, selecting by {escape(label)})</h2>",
            '<p class="note">Each fold picks the point with the best in-sample metric and runs it on the '
            "following out-of-sample window, warmed up on the bars before it without trading; "
            f"degradation = out-of-sample minus in-sample {escape(compared)}.</p>",
            _fold_table(walk_forward),
            figures(
                "oos-equity",
                "Out-of-sample equity",
                oos_equity_chart(walk_forward.oos_equity, parameters),
            ),
            figures("is-vs-oos", "In sample vs out of sample", is_vs_oos_chart(folds, label=label)),
            "<h2>Stitched out-of-sample metrics</h2>",
            '<table class="data" id="oos-metrics-table" style="width:auto">',
            _oos_rows(walk_forward),
            "</table>",
            "<h2>Overfitting statistics</h2>",
            f'<table class="data" id="overfitting-table"><thead><tr><th>Statistic</th><th>Value</th>'
            f"<th>What it means</th></tr></thead><tbody>{_statistic_rows(walk_forward.overfitting)}"
            "</tbody></table>",
            "</section>",
        ]
    )


def _fold_table(walk_forward: WalkForwardSummary) -> str:
    label, kind = metric_label(walk_forward.metric)
    compared, compared_kind = metric_label(walk_forward.degradation_metric)
    folds = walk_forward.folds.sort("fold")
    fills = "oos_fills" in folds.columns
    header = ["Fold", "In sample", "Out of sample", "Chosen parameters", f"IS {label}", f"OOS {label}"]
    if compared != label:
        header += [f"IS {compared}", f"OOS {compared}"]
    header += [f"Degradation ({compared})", "OOS return", *(["OOS fills"] if fills else [])]
    rows = []
    for fold in folds.iter_rows(named=True):
        values = [("is_metric", kind), ("oos_metric", kind)]
        if compared != label:
            values += [("is_compared", compared_kind), ("oos_compared", compared_kind)]
        values += [("degradation", compared_kind), ("oos_return", "percent")]
        values += [("oos_fills", "count")] if fills else []
        cells = [
            f'<td class="num">{int(fold["fold"]) + 1}</td>',
            f"<td>{fold['is_start']} to {fold['is_end']}</td>",
            f"<td>{fold['oos_start']} to {fold['oos_end']}</td>",
            f'<td title="point {escape(str(fold["point"]))}">{escape(str(fold["parameters"]))}</td>',
            *(f'<td class="num">{format_cell(fold[name], k)}</td>' for name, k in values),
        ]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        '<table class="data" id="folds-table"><thead><tr>'
        + "".join(f"<th>{escape(name)}</th>" for name in header)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _oos_rows(walk_forward: WalkForwardSummary) -> str:
    return "".join(
        f'<tr><th>{escape(metric_label(name)[0])}</th><td class="num">'
        f"{format_cell(value, metric_label(name)[1])}</td></tr>"
        for name, value in walk_forward.oos_metrics.items()
    )


def _statistic_rows(overfitting: Mapping[str, object]) -> str:
    return "".join(
        f'<tr><th>{escape(title)}</th><td class="num">{_statistic(key, overfitting, kind)}</td>'
        f"<td>{escape(explanation)}</td></tr>"
        for key, title, kind, explanation in OVERFITTING_ROWS
        if key in overfitting
    )


def _statistic(key: str, overfitting: Mapping[str, object], kind: str) -> str:
    value = overfitting.get(key)
    if key == "pbo" and overfitting.get("identical_trials"):
        return "undefined (identical trials)"
    return "n/a (not computable)" if value is None else format_cell(value, kind)
