"""Engine-free backtest reports: plotly figure factories, named sections and one self-contained HTML file."""

from ntrader_pipeline.reports.config import DEFAULT_SECTIONS, ReportConfig
from ntrader_pipeline.reports.figures import (
    drawdown_chart,
    equity_vs_buy_and_hold,
    metrics_table,
    price_with_trades,
    trades_table,
)
from ntrader_pipeline.reports.html import render_report_html, write_report
from ntrader_pipeline.reports.inputs import ReportInputs
from ntrader_pipeline.reports.sections import SECTIONS, Section, UnknownSectionError, register_section

__all__ = [
    "DEFAULT_SECTIONS",
    "SECTIONS",
    "ReportConfig",
    "ReportInputs",
    "Section",
    "UnknownSectionError",
    "drawdown_chart",
    "equity_vs_buy_and_hold",
    "metrics_table",
    "price_with_trades",
    "register_section",
    "render_report_html",
    "trades_table",
    "write_report",
]
