"""Frozen report configuration: which sections, in which order, and how they look."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.io as pio

# The equity curve comes first: with the headline numbers above it, it is the report's first screen.
DEFAULT_SECTIONS: tuple[str, ...] = (
    "equity",
    "drawdown",
    "metrics",
    "drawdowns",
    "monthly",
    "yearly",
    "rolling_sharpe",
    "distribution",
    "price",
    "trades",
)


@dataclass(frozen=True, slots=True)
class ReportConfig:
    """`sections` name registered section renderers (see `reports.sections.SECTIONS`), rendered in order.

    `max_line_points` caps the points of each line chart: longer curves are downsampled keeping every
    bucket's extremes, so a line drawn at page width looks the same, and a report of 61 sessions of
    1-minute bars stays well under 1 MB (plotly.js is a separate shared file). Fill markers are never
    dropped. `skip_closed_hours` makes time axes skip the gaps between sessions (`reports.timeaxis`).
    """

    sections: tuple[str, ...] = DEFAULT_SECTIONS
    template: str = "plotly_white"
    height: int = 450
    max_line_points: int = 4_000
    max_trades: int = 200
    rolling_window: int = 126  # sessions in the rolling Sharpe window: about 6 months
    periods_per_year: int = 252
    skip_closed_hours: bool = True

    def __post_init__(self) -> None:
        if not self.sections:
            raise ValueError("ReportConfig.sections is empty: name at least one section to render")
        if len(set(self.sections)) != len(self.sections):
            raise ValueError(f"ReportConfig.sections repeats a section: {self.sections}")
        if self.template not in pio.templates:
            raise ValueError(
                f"unknown plotly template {self.template!r}; choose one of {list(pio.templates)}"
            )
        if self.height <= 0 or self.max_line_points < 4 or self.max_trades < 0 or self.rolling_window < 2:
            raise ValueError(
                "ReportConfig needs height > 0, max_line_points >= 4, max_trades >= 0 and "
                f"rolling_window >= 2, got {self.height}, {self.max_line_points}, {self.max_trades}, "
                f"{self.rolling_window}"
            )
