"""One HTML page per report, leading with the result; plotly.js is a shared file beside the reports.

Page order: the header (title, the run in one line, the headline numbers), the equity curve and the other
sections, "How these are computed", and the data-quality and provenance panel collapsed behind a one-line
summary. `write_report` writes plotly.js once to `<assets_dir>` (see `reports.assets`) and references it
relatively, so a page works offline from `file://` and through the reports server, and weighs its own
data only. `render_report_html` without `plotly_js` embeds plotly.js instead: a single self-contained
string (for a notebook or a mail).

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

from ntrader_pipeline.atomic_files import write_text_atomically
from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE
from ntrader_pipeline.reports.assets import ASSETS_DIR_NAME, relative_src, write_plotly_js
from ntrader_pipeline.reports.config import ReportConfig
from ntrader_pipeline.reports.headline import (
    cards_html,
    conventions_note,
    headline_cards,
    parameters_line,
    summary_line,
    versions_line,
)
from ntrader_pipeline.reports.inputs import ReportInputs
from ntrader_pipeline.reports.sections import get_section, render_section

DEFAULT_REPORT_CONFIG = ReportConfig()
_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 16px auto;
       max-width: 1280px; padding: 0 16px; color: #222; }
h1 { margin: 0 0 4px; font-size: 1.6em; }
h2 { margin: 8px 0 4px; font-size: 1.2em; }
p.summary { margin: 0; color: #444; }
p.versions { margin: 2px 0 0; color: #777; font-size: 0.85em; }
div.headline { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0 4px; }
div.card { border: 1px solid #ddd; border-radius: 6px; padding: 6px 14px; min-width: 120px; }
div.card .label { color: #555; font-size: 0.85em; }
div.card .value { font-size: 1.5em; font-weight: 600; white-space: nowrap; }
div.card .value.good { color: #1a7f37; }
div.card .value.bad { color: #c62828; }
div.card .detail { color: #777; font-size: 0.8em; white-space: nowrap; }
a.conventions { font-size: 0.85em; color: #555; }
section { margin-bottom: 24px; }
details { margin: 8px 0 16px; }
details > summary { cursor: pointer; font-weight: 600; }
details > summary span.brief { font-weight: normal; color: #555; }
table.provenance { border-collapse: collapse; margin: 4px 0 12px; font-size: 0.9em; }
table.provenance th, table.provenance td { border: 1px solid #ddd; padding: 3px 8px; text-align: left;
                                           vertical-align: top; }
table.provenance th { background: #f5f5f5; }
span.num { white-space: nowrap; }
.mono, td.mono { font-family: ui-monospace, Menlo, Consolas, monospace; word-break: break-all; }
section#conventions li { margin-bottom: 4px; }
footer { color: #777; font-size: 0.85em; }
"""


def render_report_html(
    inputs: ReportInputs, config: ReportConfig = DEFAULT_REPORT_CONFIG, *, plotly_js: str | None = None
) -> str:
    """The whole report page as a string; sections in `config.sections` order.

    `plotly_js` is the URL (normally relative to the page) of plotly.js; None embeds plotly.js in the
    page (4.8 MB) so the string stands alone.
    """
    sections = [get_section(name) for name in config.sections]  # fail on an unknown name before any work
    bodies = [
        figure_section(
            section.name,
            section.heading,
            render_section(section, inputs, config),
            first=index == 0,
            plotly_js=plotly_js,
        )
        for index, section in enumerate(sections)
    ]
    return html_page(
        inputs.title,
        [
            _header(inputs, config),
            *bodies,
            conventions_note(config, sessions=inputs.metrics.session_count),
            provenance_panel(inputs),
        ],
        footer=f"Times are {EXCHANGE_TIMEZONE}. Definitions: ntrader_pipeline/analytics/metrics.py.",
    )


def figure_section(
    name: str, heading: str, figure: go.Figure, *, first: bool, plotly_js: str | None = None
) -> str:
    """One `<section>` holding one figure under a fixed div id (`figure-<name>`), so output is stable.
    The first figure of a page loads plotly.js (from `plotly_js`, or inline when None); later ones
    reuse it."""
    include: bool | str = False
    if first:
        include = True if plotly_js is None else plotly_js
    figure_html = pio.to_html(
        figure, full_html=False, include_plotlyjs=include, div_id=f"figure-{name}", config=_PLOTLY_CONFIG
    )
    return f'<section id="{name}">\n<h2>{escape(heading)}</h2>\n{figure_html}\n</section>'


def html_page(title: str, parts: list[str], *, footer: str) -> str:
    """A complete page around already rendered parts: no timestamp, and no reference outside the reports
    directory (plotly.js, when not inline, is the relative path the parts give)."""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
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
    inputs: ReportInputs,
    path: str | os.PathLike[str],
    config: ReportConfig = DEFAULT_REPORT_CONFIG,
    *,
    assets_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Write plotly.js to `assets_dir` (default: `assets/` beside the page) when missing or different,
    then the page, referencing it relatively; both atomically: readers see the old file or the new
    one, never a partial file. Pass the reports directory's `assets/` so every report shares one copy."""
    path = Path(path)
    plotly_js = shared_plotly_js(path, assets_dir)
    return write_text_atomically(path, render_report_html(inputs, config, plotly_js=plotly_js))


def shared_plotly_js(page: Path, assets_dir: str | os.PathLike[str] | None) -> str:
    """Write plotly.js once into `assets_dir` (default `<page dir>/assets`); its URL relative to `page`."""
    directory = Path(assets_dir) if assets_dir is not None else page.parent / ASSETS_DIR_NAME
    return relative_src(page, write_plotly_js(directory))


def _header(inputs: ReportInputs, config: ReportConfig) -> str:
    versions = versions_line(inputs)
    return "\n".join(
        [
            "<header>",
            f"<h1>{escape(inputs.title)}</h1>",
            f'<p class="summary">{summary_line(inputs)}</p>',
            f'<p class="versions">{parameters_line(inputs)}</p>',
            f'<p class="versions">{versions}</p>' if versions else "",
            cards_html(headline_cards(inputs, config)),
            '<a class="conventions" href="#conventions">How these are computed</a>',
            "</header>",
        ]
    )


def provenance_panel(inputs: ReportInputs) -> str:
    """Data quality and provenance, collapsed behind a one-line summary: what the backtest read
    (sessions, bars, catalog file versions) and what the quality checks found. Rendered from
    `inputs.provenance` whatever its keys: scalars become rows, mappings nested tables, lists of mappings
    tables with a column per key."""
    return provenance_details(inputs.provenance, empty="No provenance recorded for this backtest.")


def provenance_details(provenance: Mapping[str, object] | None, *, empty: str) -> str:
    if not provenance:
        brief, body = "none recorded", f"<p>{escape(empty)}</p>"
    else:
        brief, body = provenance_summary(provenance), _value_html(provenance)
    return (
        '<details id="provenance">\n'
        f'<summary>Data quality and provenance: <span class="brief">{escape(brief)}</span></summary>\n'
        f"{body}\n</details>"
    )


def provenance_summary(provenance: Mapping[str, object]) -> str:
    """One line: scalars as "61 sessions", mappings as "quality: failing 0, …", lists as
    "62 catalog files"."""
    parts = []
    for key, value in provenance.items():
        name = str(key).replace("_", " ")
        if isinstance(value, Mapping):
            inner = ", ".join(
                f"{str(k).replace('_', ' ')} {_brief(v)}"
                for k, v in value.items()
                if not isinstance(v, Mapping | list | tuple)
            )
            parts.append(f"{name}: {inner}" if inner else name)
        elif isinstance(value, list | tuple):
            parts.append(f"{len(value):,} {name}")
        elif isinstance(value, int) and not isinstance(value, bool):
            parts.append(f"{value:,} {name}")
        else:
            parts.append(f"{name} {_brief(value)}")
    return " · ".join(parts)


def _brief(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


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
