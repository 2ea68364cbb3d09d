"""Report sections by name: each turns the report inputs into one figure, in a registry the config names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import plotly.graph_objects as go

from ntrader_pipeline.reports import figures
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
        figure.update_layout(height=config.height)
    return figure


register_section(
    Section(
        "equity",
        "Equity vs buy and hold",
        lambda inputs, config: figures.equity_vs_buy_and_hold(
            inputs.equity, inputs.starting_cash, max_points=config.max_line_points
        ),
    )
)
register_section(
    Section(
        "drawdown",
        "Drawdown",
        lambda inputs, config: figures.drawdown_chart(
            inputs.equity, inputs.starting_cash, max_points=config.max_line_points
        ),
    )
)
register_section(
    Section(
        "price",
        "Price with entries and exits",
        lambda inputs, config: figures.price_with_trades(
            inputs.equity, inputs.fills, max_points=config.max_line_points
        ),
    )
)
register_section(
    Section(
        "metrics", "Metrics", lambda inputs, config: figures.metrics_table(inputs.metrics), is_chart=False
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
