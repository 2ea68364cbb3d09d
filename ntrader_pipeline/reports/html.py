"""One self-contained, offline HTML file per report: plotly.js embedded once, no network references.

Output is deterministic (fixed figure div ids, no generation timestamp), so the same inputs give
byte-identical files and a re-materialization that changed nothing is visible as such.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

import plotly.io as pio

from ntrader_pipeline.files import write_text_atomically
from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE
from ntrader_pipeline.reports.config import ReportConfig
from ntrader_pipeline.reports.formatting import format_value
from ntrader_pipeline.reports.inputs import ReportInputs
from ntrader_pipeline.reports.sections import get_section, render_section

DEFAULT_REPORT_CONFIG = ReportConfig()
_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 24px auto;
       max-width: 1280px; padding: 0 16px; color: #222; }
h1 { margin-bottom: 4px; }
table.run { border-collapse: collapse; margin: 12px 0 24px; }
table.run th { text-align: left; padding: 3px 16px 3px 0; color: #555; font-weight: 600;
               vertical-align: top; }
table.run td { padding: 3px 0; }
section { margin-bottom: 32px; }
footer { color: #777; font-size: 0.85em; }
"""


def render_report_html(inputs: ReportInputs, config: ReportConfig = DEFAULT_REPORT_CONFIG) -> str:
    """The whole report page as a string; sections in `config.sections` order."""
    sections = [get_section(name) for name in config.sections]  # fail on an unknown name before any work
    bodies = []
    for index, section in enumerate(sections):
        figure_html = pio.to_html(
            render_section(section, inputs, config),
            full_html=False,
            include_plotlyjs=index == 0,  # embedded inline once; later figures reuse it
            div_id=f"figure-{section.name}",
            config=_PLOTLY_CONFIG,
        )
        bodies.append(
            f'<section id="{section.name}">\n<h2>{escape(section.heading)}</h2>\n{figure_html}\n</section>'
        )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f"<title>{escape(inputs.title)}</title>",
            f"<style>{_STYLE}</style>",
            "</head>",
            "<body>",
            _header(inputs),
            *bodies,
            f"<footer>Times are {EXCHANGE_TIMEZONE}. Returns-based ratios use daily session returns; "
            "drawdowns use every bar; n/a marks a ratio that is undefined (for example no losing trade "
            "and no winning trade, or flat equity).</footer>",
            "</body>",
            "</html>",
            "",
        ]
    )


def write_report(
    inputs: ReportInputs, path: str | os.PathLike[str], config: ReportConfig = DEFAULT_REPORT_CONFIG
) -> Path:
    """Render and write atomically: readers see the old file or the new one, never a partial file."""
    return write_text_atomically(Path(path), render_report_html(inputs, config))


def _header(inputs: ReportInputs) -> str:
    parameters = ", ".join(
        f"{escape(str(name))} = {escape(str(value))}" for name, value in inputs.parameters.items()
    )
    rows = [
        ("Strategy", escape(inputs.strategy)),
        ("Parameters", parameters or "none"),
        ("Instrument", escape(inputs.instrument_id)),
        ("Bar type", escape(inputs.bar_type)),
        ("Window", f"{inputs.window_start.isoformat()} to {inputs.window_end.isoformat()}"),
        ("Starting cash", format_value(float(inputs.starting_cash), "money")),
    ]
    table = "\n".join(f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in rows)
    return f'<header>\n<h1>{escape(inputs.title)}</h1>\n<table class="run">\n{table}\n</table>\n</header>'
