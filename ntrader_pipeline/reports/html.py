"""One self-contained, offline HTML file per report: plotly.js embedded once, no network references.

Output is deterministic (fixed figure div ids, no generation timestamp), so the same inputs give
byte-identical files and a re-materialization that changed nothing is visible as such.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from html import escape
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from ntrader_pipeline.adjustments.modes import Adjustment
from ntrader_pipeline.atomic_files import write_text_atomically
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
table.provenance { border-collapse: collapse; margin: 4px 0 12px; font-size: 0.9em; }
table.provenance th, table.provenance td { border: 1px solid #ddd; padding: 3px 8px; text-align: left;
                                           vertical-align: top; }
table.provenance th { background: #f5f5f5; }
span.num { white-space: nowrap; }
td.mono { font-family: ui-monospace, Menlo, Consolas, monospace; word-break: break-all; }
footer { color: #777; font-size: 0.85em; }
"""


def render_report_html(inputs: ReportInputs, config: ReportConfig = DEFAULT_REPORT_CONFIG) -> str:
    """The whole report page as a string; sections in `config.sections` order."""
    sections = [get_section(name) for name in config.sections]  # fail on an unknown name before any work
    bodies = [
        figure_section(
            section.name, section.heading, render_section(section, inputs, config), first=index == 0
        )
        for index, section in enumerate(sections)
    ]
    return html_page(
        inputs.title,
        [_header(inputs), provenance_panel(inputs), *bodies],
        footer=f"Times are {EXCHANGE_TIMEZONE}. Returns-based ratios use daily session returns; "
        "drawdowns use every bar; n/a marks a ratio that is undefined (for example no losing trade "
        "and no winning trade, or flat equity).",
    )


def figure_section(name: str, heading: str, figure: go.Figure, *, first: bool) -> str:
    """One `<section>` holding one figure under a fixed div id (`figure-<name>`), so output is stable.
    The first figure of a page embeds plotly.js inline; later ones reuse it."""
    figure_html = pio.to_html(
        figure, full_html=False, include_plotlyjs=first, div_id=f"figure-{name}", config=_PLOTLY_CONFIG
    )
    return f'<section id="{name}">\n<h2>{escape(heading)}</h2>\n{figure_html}\n</section>'


def html_page(title: str, parts: list[str], *, footer: str) -> str:
    """A complete, offline page around already rendered parts (no external references, no timestamp)."""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f"<title>{escape(title)}</title>",
            f"<style>{_STYLE}</style>",
            "</head>",
            "<body>",
            *parts,
            f"<footer>{footer}</footer>",
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
    optional = (
        ("Benchmark index", inputs.index_instrument_id),
        ("Config hash", inputs.config_hash),
        ("Code version", inputs.code_version),
        ("Data version", inputs.data_version),
    )
    rows += [(name, f'<span class="mono">{escape(value)}</span>') for name, value in optional if value]
    if inputs.adjustment:
        rows.append(("Adjustment", escape(adjustment_text(inputs.adjustment))))
    if inputs.adjustment or inputs.corporate_actions:
        listed = "; ".join(f"{d.isoformat()} {label}" for d, label in inputs.corporate_actions)
        rows.append(("Corporate actions", escape(listed or "none in the window")))
    table = "\n".join(f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in rows)
    return f'<header>\n<h1>{escape(inputs.title)}</h1>\n<table class="run">\n{table}\n</table>\n</header>'


def adjustment_text(value: str) -> str:
    try:
        return Adjustment(value).describe()
    except ValueError:
        return value


def provenance_panel(inputs: ReportInputs) -> str:
    """Data quality and provenance: what the backtest read (sessions, bars, catalog file versions) and
    what the quality checks found. Rendered from `inputs.provenance` whatever its keys: scalars become
    rows, mappings nested tables, lists of mappings tables with a column per key."""
    if not inputs.provenance:
        body = "<p>No provenance recorded for this backtest.</p>"
    else:
        body = _value_html(inputs.provenance)
    return f'<section id="provenance">\n<h2>Data quality and provenance</h2>\n{body}\n</section>'


def _value_html(value: object) -> str:
    if isinstance(value, Mapping):
        rows = "".join(
            f"<tr><th>{escape(str(key))}</th><td>{_value_html(item)}</td></tr>" for key, item in value.items()
        )
        return f'<table class="provenance">{rows}</table>'
    if isinstance(value, list | tuple) and value and all(isinstance(item, Mapping) for item in value):
        columns = list(dict.fromkeys(key for item in value for key in item))
        header = "".join(f"<th>{escape(str(column))}</th>" for column in columns)
        rows = "".join(
            "<tr>"
            + "".join(f'<td class="mono">{_value_html(item.get(c, ""))}</td>' for c in columns)
            + "</tr>"
            for item in value
        )
        return f'<table class="provenance"><tr>{header}</tr>{rows}</table>'
    if isinstance(value, list | tuple):
        return escape(", ".join(str(item) for item in value)) or "none"
    if isinstance(value, bool) or value is None:
        return escape(str(value))
    if isinstance(value, int):
        return f'<span class="num">{value:,}</span>'
    return escape(str(value))
