"""Frozen report configuration: which sections, in which order, and how they look."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.io as pio

DEFAULT_SECTIONS: tuple[str, ...] = (
    "metrics",
    "equity",
    "drawdown",
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

    `max_line_points` caps each line trace: longer curves are downsampled so a year of 1-minute bars still
    gives a report of a few MB. Fill markers are never dropped.
    """

    sections: tuple[str, ...] = DEFAULT_SECTIONS
    template: str = "plotly_white"
    height: int = 450
    max_line_points: int = 20_000
    max_trades: int = 200
    rolling_window: int = 126  # sessions in the rolling Sharpe window: about 6 months
    periods_per_year: int = 252

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
