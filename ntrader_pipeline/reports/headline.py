"""What a report shows before any chart: the headline numbers, and how they are computed.

Plain HTML (no plotly), so the first screen is readable as soon as the page loads.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE
from ntrader_pipeline.reports.config import ReportConfig
from ntrader_pipeline.reports.formatting import drawdown_length, format_value
from ntrader_pipeline.reports.inputs import ReportInputs
from ntrader_pipeline.reports.sections import benchmark_metrics


@dataclass(frozen=True, slots=True)
class Card:
    label: str
    value: str
    detail: str = ""
    tone: str = ""  # "good", "bad" or "" (neutral): colours the value
    hint: str = ""  # shown on hover: how the number is computed


def cards_html(cards: Sequence[Card]) -> str:
    items = []
    for card in cards:
        title = f' title="{escape(card.hint)}"' if card.hint else ""
        tone = f" {card.tone}" if card.tone else ""
        detail = f'<div class="detail">{escape(card.detail)}</div>' if card.detail else ""
        items.append(
            f'<div class="card"{title}><div class="label">{escape(card.label)}</div>'
            f'<div class="value{tone}">{escape(card.value)}</div>{detail}</div>'
        )
    return '<div class="headline">\n' + "\n".join(items) + "\n</div>"


def headline_cards(inputs: ReportInputs, config: ReportConfig) -> list[Card]:
    """Total return, CAGR, Sharpe, max drawdown, trades and the difference to buy and hold."""
    metrics = inputs.metrics
    years = metrics.session_count / config.periods_per_year
    cards = [
        Card(
            "Total return",
            format_value(metrics.total_return, "percent"),
            f"final equity {format_value(metrics.final_equity, 'money')}",
            tone(metrics.total_return),
            "final equity / starting cash - 1, net of commissions",
        ),
        Card(
            "CAGR",
            format_value(metrics.cagr, "percent"),
            f"over {metrics.session_count:,} sessions = {years:.2f} years",
            tone(metrics.cagr),
            f"years = sessions / {config.periods_per_year} (trading time, not calendar days)",
        ),
        Card(
            "Sharpe (annualized)",
            format_value(metrics.sharpe, "ratio"),
            f"Sortino {format_value(metrics.sortino, 'ratio')}",
            "",
            f"mean / std of daily session returns x √{config.periods_per_year}, risk-free rate 0",
        ),
        Card(
            "Max drawdown",
            format_value(metrics.max_drawdown, "percent"),
            drawdown_length(
                metrics.max_drawdown_episode_days, recovered=metrics.max_drawdown_recovery is not None
            ),
            "bad" if metrics.max_drawdown > 0 else "",
            "deepest fall from a running peak, measured on every bar",
        ),
        Card(
            "Trades",
            format_value(metrics.trade_count, "count"),
            f"win rate {format_value(metrics.win_rate, 'percent')}",
            "",
            "closed round trips; a win has pnl > 0 net of commissions",
        ),
    ]
    benchmarks = benchmark_metrics(inputs, config)
    if benchmarks:
        name, benchmark = next(iter(benchmarks.items()))
        difference = metrics.total_return - benchmark.total_return
        cards.append(
            Card(
                "vs buy and hold",
                _points(difference),
                f"{name.removeprefix('Buy and hold ')}: {format_value(benchmark.total_return, 'percent')}",
                tone(difference),
                f"total return minus that of {name} over the same bars (percentage points)",
            )
        )
    return cards


def summary_line(inputs: ReportInputs) -> str:
    """The run in one line: strategy (its class name; the import path on hover), instrument, bar type,
    window, starting cash, and the data note (e.g. the price adjustment) when there is one."""
    strategy = inputs.strategy.rsplit(":", 1)[-1].rsplit(".", 1)[-1]
    parts = [
        f'<span title="{escape(inputs.strategy)}">{escape(strategy)}</span>',
        escape(inputs.instrument_id),
        escape(inputs.bar_type),
        f"{inputs.window_start.isoformat()} to {inputs.window_end.isoformat()}",
        f"starting cash {format_value(float(inputs.starting_cash), 'money')}",
    ]
    if inputs.data_note:
        parts.append(escape(inputs.data_note))
    return " · ".join(parts)


def parameters_line(inputs: ReportInputs) -> str:
    parameters = ", ".join(f"{name} = {value}" for name, value in inputs.parameters.items())
    return escape(f"Parameters: {parameters or 'none'}")


def versions_line(inputs: ReportInputs) -> str:
    """Config hash, code and data versions (long hashes shortened; the full value on hover) and the
    benchmark index."""
    named = (
        ("config", inputs.config_hash),
        ("code", inputs.code_version),
        ("data", inputs.data_version),
        ("benchmark index", inputs.index_instrument_id),
    )
    return " · ".join(f"{name} {_short(value)}" for name, value in named if value)


def _short(value: str, keep: int = 16) -> str:
    shown = value if len(value) <= keep + 4 else f"{value[:keep]}…"
    return f'<span class="mono" title="{escape(value)}">{escape(shown)}</span>'


def conventions_note(config: ReportConfig, *, sessions: int | None = None, extra: Sequence[str] = ()) -> str:
    """Where this report's numbers differ from what common tools (pyfolio, quantstats, spreadsheets) do;
    the code's definitions are in `analytics/metrics.py`. `extra` items (HTML) follow, for what a report
    adds on top of the per-backtest metrics (e.g. a sweep's ranking and walk-forward statistics)."""
    periods = config.periods_per_year
    cagr = f"years = sessions / {periods}"
    if sessions is not None:
        cagr += f" (here {sessions:,} / {periods} = {sessions / periods:.2f} years)"
    items = [
        "<b>Daily session returns.</b> Volatility, Sharpe, Sortino, alpha, beta and the information ratio "
        "use one return per session: the last marked-to-market equity (cash + position at the bar's "
        f"close) of each {EXCHANGE_TIMEZONE} session date, the first session measured against the "
        "starting cash. Not per-bar returns, and not calendar days.",
        f"<b>Annualized over {periods} sessions a year</b>: x √{periods} for volatility, Sharpe and "
        f"Sortino, x {periods} for alpha; the risk-free rate is 0. Sortino's downside deviation is the "
        "root mean square of the negative returns taken over all sessions.",
        f"<b>CAGR counts trading time</b>: {cagr}, not calendar days. A short window annualizes a few "
        "weeks' return, so CAGR can be large where total return is small.",
        "<b>Max drawdown uses every bar</b>, not daily closes, with the starting cash as the first peak; "
        "drawdown lengths are calendar days.",
        "<b>Trades</b> are closed round trips with pnl net of commissions; the win rate counts pnl > 0. "
        "Time in market is the share of bars holding a position.",
        "<b>Buy and hold</b> buys the whole shares the starting cash affords at the first bar's close "
        "(same commission model) and holds to the last bar.",
        f"<b>Charts</b>: times are {EXCHANGE_TIMEZONE}; time axes skip the periods without bars "
        "(nights, weekends, holidays); lines are downsampled to about "
        f"{config.max_line_points:,} points keeping each bucket's highs and lows; fill markers are "
        "never dropped. n/a marks an undefined ratio, ∞ an unbounded one (e.g. no losing trade).",
    ]
    body = "\n".join(f"<li>{item}</li>" for item in (*items, *extra))
    return f'<section id="conventions">\n<h2>How these are computed</h2>\n<ul>\n{body}\n</ul>\n</section>'


def tone(value: float) -> str:
    """The colour of a card value: "good" above zero, "bad" below, none for zero or undefined."""
    if math.isnan(value) or value == 0:
        return ""
    return "good" if value > 0 else "bad"


def _points(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value * 100:+.2f} pts"
