"""The sweep report's table of every point: HTML, its CSS, and the few lines of inline JavaScript that sort
it by a clicked column (no library: the page stays offline and light)."""

from __future__ import annotations

import math
from html import escape

import polars as pl

from ntrader_pipeline.reports.comparison import LOWER_IS_BETTER, as_number, format_cell
from ntrader_pipeline.reports.sweep_figures import value_label
from ntrader_pipeline.reports.sweep_model import SWEEP_METRICS, SweepReportInputs, metric_label

TABLE_STYLE = """<style>
div.table-scroll { max-height: 520px; overflow: auto; border: 1px solid #ddd; margin: 6px 0; }
table.data { border-collapse: collapse; font-size: 0.9em; width: 100%; }
table.data th, table.data td { border-bottom: 1px solid #eee; padding: 3px 8px; white-space: nowrap; }
table.data th { background: #f5f5f5; position: sticky; top: 0; text-align: left; }
table.data td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort="ascending"]::after { content: " \\25B2"; }
table.sortable th[aria-sort="descending"]::after { content: " \\25BC"; }
table.data tr.best td { background: #fff4c2; font-weight: 600; }
p.note { color: #555; font-size: 0.9em; margin: 4px 0; }
#overfitting-table td:last-child { white-space: normal; min-width: 28em; }
</style>"""

# Sorts a table.sortable's body by the clicked column: numbers (data-type="number") numerically, text
# alphabetically; cells with an empty data-sort (undefined) last in either direction; a new column
# starts ascending, the same column toggles. Rows of equal value keep their order (stable sort).
SORT_SCRIPT = """<script>
(function () {
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    headers.forEach(function (th, column) {
      th.addEventListener("click", function () {
        var numeric = th.getAttribute("data-type") === "number";
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[column].getAttribute("data-sort"), y = b.cells[column].getAttribute("data-sort");
          if (x === "" || y === "") { return (x === "" ? 1 : 0) - (y === "" ? 1 : 0); }
          var order = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
        headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      });
    });
  });
})();
</script>"""


def points_section(inputs: SweepReportInputs, ranked: pl.DataFrame) -> str:
    """Every point, best first and highlighted, in a table sortable by any column."""
    metrics = [inputs.metric, *(n for n in SWEEP_METRICS if n != inputs.metric and n in ranked.columns)]
    numeric = {name: ranked.schema[name].is_numeric() for name in inputs.parameters}
    header = ['<th data-type="number">#</th>', '<th data-type="text">Point</th>']
    header += [
        f'<th data-type="{"number" if numeric[name] else "text"}">{escape(name)}</th>'
        for name in inputs.parameters
    ]
    for name in metrics:
        sort = ' aria-sort="{}"'.format("ascending" if name in LOWER_IS_BETTER else "descending")
        label = escape(metric_label(name)[0])
        shown = f"<b>{label}</b>" if name == inputs.metric else label
        header.append(f'<th data-type="number"{sort if name == inputs.metric else ""}>{shown}</th>')
    rows = []
    for row in ranked.iter_rows(named=True):
        cells = [_number_cell(row["rank"], str(row["rank"])), _text_cell(str(row["point"]), mono=True)]
        for name in inputs.parameters:
            value = row[name]
            cells.append(
                _number_cell(value, value_label(value))
                if numeric[name]
                else _text_cell(value_label(value) if value is not None else "")
            )
        cells += [_number_cell(row[name], format_cell(row[name], metric_label(name)[1])) for name in metrics]
        css = ' class="best"' if row["rank"] == 1 else ""
        rows.append(f'<tr{css} data-point="{escape(str(row["point"]))}">{"".join(cells)}</tr>')
    label = metric_label(inputs.metric)[0]
    return "\n".join(
        [
            '<section id="points">',
            "<h2>Every point</h2>",
            TABLE_STYLE,
            f'<p class="note">{ranked.height:,} points, best {escape(label)} first (highlighted); click a '
            "column heading to sort by it, again to reverse; undefined values sort last.</p>",
            '<div class="table-scroll"><table class="data sortable" id="points-table">',
            f"<thead><tr>{''.join(header)}</tr></thead>",
            "<tbody>",
            *rows,
            "</tbody></table></div>",
            SORT_SCRIPT,
            "</section>",
        ]
    )


def _sort_value(value: object) -> str:
    """A cell's `data-sort`: empty for undefined, a number JavaScript's parseFloat reads otherwise."""
    number = float(value) if isinstance(value, bool) else as_number(value)
    if math.isnan(number):
        return ""
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return repr(number)


def _number_cell(value: object, shown: str) -> str:
    return f'<td class="num" data-sort="{_sort_value(value)}">{shown}</td>'


def _text_cell(text: str, *, mono: bool = False) -> str:
    css = ' class="mono"' if mono else ""
    return f'<td{css} data-sort="{escape(text)}">{escape(text)}</td>'
