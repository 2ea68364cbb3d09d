"""Report sections by name: each turns the report inputs into one figure, in a registry the config names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import plotly.graph_objects as go
import polars as pl

from ntrader_pipeline.analytics import PerformanceMetrics, compute_metrics, daily_returns, drawdown_table
from ntrader_pipeline.reports import figures, performance
from ntrader_pipeline.reports.config import ReportConfig
from ntrader_pipeline.reports.inputs import ReportInputs

Renderer = Callable[[ReportInputs, ReportConfig], go.Figure]


class UnknownSectionError(KeyError):
    """A ReportConfig names a section that is not registered."""


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    heading: str
    render: Renderer
    is_chart: bool = True  # charts take ReportConfig.height; tables size themselves to their rows


SECTIONS: dict[str, Section] = {}


def register_section(section: Section) -> Section:
    SECTIONS[section.name] = section
    return section


def get_section(name: str) -> Section:
    try:
        return SECTIONS[name]
    except KeyError:
        raise UnknownSectionError(
            f"no report section {name!r}; registered sections: {sorted(SECTIONS)}"
        ) from None


def render_section(section: Section, inputs: ReportInputs, config: ReportConfig) -> go.Figure:
    figure = section.render(inputs, config)
    figure.update_layout(template=config.template)
    if section.is_chart:
        # The section's heading is above the figure: a smaller top margin than plotly's 100 px keeps the
        # equity chart on the first screen.
        figure.update_layout(height=config.height, margin={"t": 60})
    return figure


def benchmark_frame(inputs: ReportInputs) -> pl.DataFrame:
    """The report's benchmarks; without benchmarks.parquet, buy and hold of the instrument from its first
    close with the starting cash."""
    if inputs.benchmarks is not None:
        return inputs.benchmarks
    return inputs.equity.select(
        "ts", instrument_equity=float(inputs.starting_cash) * pl.col("close") / pl.col("close").first()
    )


def benchmark_curves(inputs: ReportInputs) -> dict[str, pl.DataFrame]:
    """Display name → equity frame (`ts`, `position_qty`, `equity`) of each buy-and-hold benchmark."""
    frame = benchmark_frame(inputs)
    curves = {f"Buy and hold {inputs.instrument_id}": "instrument_equity"}
    if "index_equity" in frame.columns and frame["index_equity"].null_count() == 0:
        curves[f"Index {inputs.index_instrument_id or ''}".strip()] = "index_equity"
    # A curve must start above zero to have returns (compute_metrics measures from its first value).
    return {
        name: frame.select("ts", position_qty=pl.lit(1.0), equity=pl.col(column).cast(pl.Float64))
        for name, column in curves.items()
        if frame[column][0] is not None and frame[column][0] > 0
    }


def benchmark_metrics(inputs: ReportInputs, config: ReportConfig) -> dict[str, PerformanceMetrics]:
    empty = pl.DataFrame()
    return {
        name: compute_metrics(
            curve, empty, empty, float(curve["equity"][0]), periods_per_year=config.periods_per_year
        )
        for name, curve in benchmark_curves(inputs).items()
    }


def strategy_daily(inputs: ReportInputs) -> pl.DataFrame:
    return daily_returns(inputs.equity, inputs.starting_cash)


def instrument_daily(inputs: ReportInputs) -> pl.DataFrame | None:
    curve = next(iter(benchmark_curves(inputs).values()), None)
    return None if curve is None else daily_returns(curve, float(curve["equity"][0]))


def _strategy_vs_instrument(chart: Callable[[pl.DataFrame, pl.DataFrame | None], go.Figure]) -> Renderer:
    """A section drawing the strategy's daily returns beside the instrument's."""
    return lambda inputs, config: chart(strategy_daily(inputs), instrument_daily(inputs))


def _with_events(inputs: ReportInputs, figure: go.Figure) -> go.Figure:
    """A time chart of the window with the report's dated events marked on it."""
    return figures.mark_events(figure, inputs.equity["ts"], inputs.events)


def _drawdowns(inputs: ReportInputs) -> pl.DataFrame:
    if inputs.drawdowns is not None:
        return inputs.drawdowns
    return drawdown_table(inputs.equity, inputs.starting_cash)


register_section(
    Section(
        "metrics",
        "Metrics vs benchmark",
        lambda inputs, config: performance.metrics_vs_benchmark_table(
            inputs.metrics, benchmark_metrics(inputs, config)
        ),
        is_chart=False,
    )
)
register_section(
    Section(
        "equity",
        "Equity vs benchmark",
        lambda inputs, config: _with_events(
            inputs,
            performance.equity_vs_benchmark(
                inputs.equity,
                benchmark_frame(inputs),
                instrument=inputs.instrument_id,
                index=inputs.index_instrument_id,
                max_points=config.max_line_points,
                skip_closed_hours=config.skip_closed_hours,
            ),
        ),
    )
)
register_section(
    Section(
        "drawdown",
        "Underwater",
        lambda inputs, config: figures.drawdown_chart(
            inputs.equity,
            inputs.starting_cash,
            max_points=config.max_line_points,
            skip_closed_hours=config.skip_closed_hours,
        ),
    )
)
register_section(
    Section(
        "drawdowns",
        "Worst drawdowns",
        lambda inputs, config: performance.drawdowns_table(_drawdowns(inputs)),
        is_chart=False,
    )
)
register_section(
    Section(
        "monthly",
        "Monthly returns",
        lambda inputs, config: performance.monthly_returns_heatmap(strategy_daily(inputs)),
    )
)
register_section(
    Section(
        "yearly",
        "Yearly returns",
        _strategy_vs_instrument(performance.yearly_returns_chart),
    )
)
register_section(
    Section(
        "rolling_sharpe",
        "Rolling Sharpe ratio",
        lambda inputs, config: performance.rolling_sharpe_chart(
            strategy_daily(inputs),
            window=config.rolling_window,
            periods_per_year=config.periods_per_year,
            skip_closed_days=config.skip_closed_hours,
        ),
    )
)
register_section(
    Section(
        "distribution",
        "Return distribution",
        _strategy_vs_instrument(performance.return_distribution),
    )
)
register_section(
    Section(
        "price",
        "Price with entries and exits",
        lambda inputs, config: _with_events(
            inputs,
            figures.price_with_trades(
                inputs.equity,
                inputs.fills,
                max_points=config.max_line_points,
                skip_closed_hours=config.skip_closed_hours,
            ),
        ),
    )
)
register_section(
    Section(
        "trades",
        "Trades",
        lambda inputs, config: figures.trades_table(inputs.trades, limit=config.max_trades),
        is_chart=False,
    )
)
