"""Engine-free backtest reports: plotly figure factories, named sections, and one offline HTML page per
report that leads with the result and shares one plotly.js per reports directory."""

from ntrader_pipeline.reports.assets import plotly_js_name, write_plotly_js
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
from ntrader_pipeline.reports.inputs import BENCHMARK_COLUMNS, ReportEvent, ReportInputs
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
from ntrader_pipeline.reports.sweep import (
    SweepReportError,
    SweepReportInputs,
    WalkForwardSummary,
    render_sweep_html,
    write_sweep_report,
)
from ntrader_pipeline.reports.timeaxis import skip_closed_time, time_axis_breaks

__all__ = [
    "BENCHMARK_COLUMNS",
    "DEFAULT_SECTIONS",
    "SECTIONS",
    "ComparisonError",
    "ReportConfig",
    "ReportEvent",
    "ReportInputs",
    "Section",
    "SweepReportError",
    "SweepReportInputs",
    "UnknownSectionError",
    "WalkForwardSummary",
    "comparison_key",
    "drawdown_chart",
    "drawdowns_table",
    "equity_vs_benchmark",
    "metrics_vs_benchmark_table",
    "monthly_returns_heatmap",
    "plotly_js_name",
    "price_with_trades",
    "provenance_panel",
    "rank_rows",
    "register_section",
    "render_comparison_html",
    "render_report_html",
    "render_sweep_html",
    "return_distribution",
    "rolling_sharpe_chart",
    "skip_closed_time",
    "time_axis_breaks",
    "trades_table",
    "write_comparison_report",
    "write_plotly_js",
    "write_report",
    "write_sweep_report",
    "yearly_returns_chart",
]
