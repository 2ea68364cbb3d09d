"""Engine-free backtest reports: plotly figure factories, named sections and one self-contained HTML file."""

from ntrader_pipeline.reports.comparison import (
    ComparisonError,
    comparison_key,
    rank_rows,
    render_comparison_html,
    write_comparison_report,
)
from ntrader_pipeline.reports.config import DEFAULT_SECTIONS, ReportConfig
from ntrader_pipeline.reports.figures import drawdown_chart, price_with_trades, trades_table
from ntrader_pipeline.reports.html import provenance_panel, render_report_html, write_report
from ntrader_pipeline.reports.inputs import BENCHMARK_COLUMNS, ReportInputs
from ntrader_pipeline.reports.performance import (
    drawdowns_table,
    equity_vs_benchmark,
    metrics_vs_benchmark_table,
    monthly_returns_heatmap,
    return_distribution,
    rolling_sharpe_chart,
    yearly_returns_chart,
)
from ntrader_pipeline.reports.sections import SECTIONS, Section, UnknownSectionError, register_section

__all__ = [
    "BENCHMARK_COLUMNS",
    "DEFAULT_SECTIONS",
    "SECTIONS",
    "ComparisonError",
    "ReportConfig",
    "ReportInputs",
    "Section",
    "UnknownSectionError",
    "comparison_key",
    "drawdown_chart",
    "drawdowns_table",
    "equity_vs_benchmark",
    "metrics_vs_benchmark_table",
    "monthly_returns_heatmap",
    "price_with_trades",
    "provenance_panel",
    "rank_rows",
    "register_section",
    "render_comparison_html",
    "render_report_html",
    "return_distribution",
    "rolling_sharpe_chart",
    "trades_table",
    "write_comparison_report",
    "write_report",
    "yearly_returns_chart",
]
