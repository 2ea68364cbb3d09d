"""Pure figure factories: plain polars frames (backtest runner schemas) in, `plotly` Figures out.

Times are shown in the exchange time zone; long lines are downsampled, fill markers never are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import polars as pl

from ntrader_pipeline.analytics import drawdown_series
from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE
from ntrader_pipeline.reports.downsample import downsample_extremes
from ntrader_pipeline.reports.inputs import ReportEvent
from ntrader_pipeline.reports.timeaxis import skip_closed_time

# About 2 points per pixel column of a 1280 px page for one line (a chart of several lines shares them):
# downsample_extremes keeps each bucket's minimum and maximum, so the drawn line looks the same as the
# full series until one zooms in. 4,000 keeps a demo report (61 sessions of 1-minute bars) near 0.7 MB.
MAX_LINE_POINTS = 4_000
TIME_AXIS_TITLE = f"Time ({EXCHANGE_TIMEZONE})"
# Buttons switching a figure's y axis between linear and log scale (equity over long windows).
LINEAR_LOG_TOGGLE = {
    "type": "buttons",
    "direction": "right",
    "x": 1.0,
    "xanchor": "right",
    "y": 1.15,
    "buttons": [
        {"label": "Linear", "method": "relayout", "args": [{"yaxis.type": "linear"}]},
        {"label": "Log", "method": "relayout", "args": [{"yaxis.type": "log"}]},
    ],
}
_TABLE_ROW_HEIGHT = 26
_MAX_VISIBLE_ROWS = 36  # every metric row fits; longer tables (trades) scroll
_BUY_COLOR, _SELL_COLOR, _EVENT_COLOR = "#2ca02c", "#d62728", "#6a3d9a"


def drawdown_chart(
    equity: pl.DataFrame,
    starting_cash: float | None = None,
    *,
    max_points: int = MAX_LINE_POINTS,
    skip_closed_hours: bool = True,
) -> go.Figure:
    """Under-water curve (equity / running peak - 1) per bar; troughs survive downsampling. The time axis
    skips the hours without bars (`timeaxis`) unless `skip_closed_hours` is False."""
    drawdown = drawdown_series(equity, starting_cash)
    shown = downsample_extremes(drawdown, ("drawdown",), max_points)
    figure = go.Figure(
        go.Scatter(
            x=exchange_time_labels(shown["ts"]),
            y=shown["drawdown"].to_numpy(),
            name="Drawdown",
            mode="lines",
            fill="tozeroy",
            line={"color": _SELL_COLOR},
        )
    )
    figure.update_layout(
        title=downsampled_title("Drawdown", shown.height, drawdown.height),
        xaxis_title=TIME_AXIS_TITLE,
        yaxis={"title": "Drawdown", "tickformat": ".1%", "hoverformat": ".2%"},
    )
    return skip_closed_time(figure, drawdown["ts"], enabled=skip_closed_hours)


def price_with_trades(
    prices: pl.DataFrame,
    fills: pl.DataFrame,
    *,
    max_points: int = MAX_LINE_POINTS,
    skip_closed_hours: bool = True,
) -> go.Figure:
    """Close price line (from bars or the equity frame: needs `ts`, `close`) with a marker per fill:
    BUY fills (entries) as up triangles, SELL fills (exits) as down triangles, at the fill price."""
    line = prices.select("ts", "close")
    shown = downsample_extremes(line, ("close",), max_points)
    figure = go.Figure(
        [
            go.Scatter(
                x=exchange_time_labels(shown["ts"]), y=shown["close"].to_numpy(), name="Close", mode="lines"
            ),
            _fill_markers(fills.filter(pl.col("side") == "BUY"), "Entries (BUY)", "triangle-up", _BUY_COLOR),
            _fill_markers(
                fills.filter(pl.col("side") == "SELL"), "Exits (SELL)", "triangle-down", _SELL_COLOR
            ),
        ]
    )
    figure.update_layout(
        title=downsampled_title("Price with entries and exits", shown.height, line.height),
        xaxis_title=TIME_AXIS_TITLE,
        yaxis_title="Price",
    )
    return skip_closed_time(figure, line["ts"], enabled=skip_closed_hours)


def trades_table(trades: pl.DataFrame, *, limit: int = 200) -> go.Figure:
    """The first `limit` closed trades, one row each."""
    shown = trades.head(limit).with_columns(
        entry=_exchange_time("entry_ts", "%Y-%m-%d %H:%M"), exit=_exchange_time("exit_ts", "%Y-%m-%d %H:%M")
    )
    title = (
        f"Closed trades: first {shown.height:,} of {trades.height:,}"
        if trades.height > limit
        else "Closed trades"
    )
    return table_figure(
        title,
        header=["#", "Entry", "Exit", "Quantity", "Entry price", "Exit price", "Commission", "PnL", "Return"],
        columns=[
            [str(number) for number in range(1, shown.height + 1)],
            shown["entry"].to_list(),
            shown["exit"].to_list(),
            [f"{value:,.0f}" if value.is_integer() else f"{value:,.4f}" for value in shown["quantity"]],
            [f"{value:,.2f}" for value in shown["entry_price"]],
            [f"{value:,.2f}" for value in shown["exit_price"]],
            [f"{value:,.2f}" for value in shown["commission"]],
            [f"{value:,.2f}" for value in shown["pnl"]],
            [f"{value:.2%}" for value in shown["return_pct"]],
        ],
        align=["right", "left", "left", *["right"] * 6],
    )


def exchange_time_labels(ts: pl.Series, time_format: str = "%Y-%m-%d %H:%M:%S") -> list[str]:
    """UTC timestamps as exchange-local wall-clock strings (shorter in the HTML than ISO nanoseconds)."""
    return ts.to_frame("ts").select(_exchange_time("ts", time_format))["ts"].to_list()


def time_line(curve: pl.DataFrame, column: str, name: str, max_points: int) -> go.Scatter:
    """`curve[column]` as one named line over exchange time, downsampled keeping extremes."""
    shown = downsample_extremes(curve, (column,), max_points)
    return go.Scatter(
        x=exchange_time_labels(shown["ts"]), y=shown[column].to_numpy(), name=name, mode="lines"
    )


def equity_lines_figure(
    lines: Sequence[go.Scatter],
    ts: pl.Series | list[pl.Series],
    *,
    title: str,
    yaxis_title: str,
    skip_closed_hours: bool,
) -> go.Figure:
    """The equity charts' common frame: lines over exchange time, one hover for all of them, the
    linear/log toggle, and the closed periods of `ts` skipped unless `skip_closed_hours` is False."""
    figure = go.Figure(lines)
    figure.update_layout(
        title=title,
        xaxis_title=TIME_AXIS_TITLE,
        yaxis_title=yaxis_title,
        hovermode="x unified",
        updatemenus=[LINEAR_LOG_TOGGLE],
    )
    return skip_closed_time(figure, ts, enabled=skip_closed_hours)


def _exchange_time(column: str, time_format: str) -> pl.Expr:
    return pl.col(column).dt.convert_time_zone(EXCHANGE_TIMEZONE).dt.strftime(time_format)


def _fill_markers(fills: pl.DataFrame, name: str, symbol: str, color: str) -> go.Scatter:
    return go.Scatter(
        x=exchange_time_labels(fills["ts"]),
        y=fills["price"].to_numpy(),
        customdata=np.column_stack([fills["quantity"].to_numpy(), fills["commission"].to_numpy()]),
        name=name,
        mode="markers",
        marker={"symbol": symbol, "color": color, "size": 10, "line": {"width": 1, "color": "#333333"}},
        hovertemplate=(
            f"{name}<br>%{{x}}<br>%{{customdata[0]:,}} @ %{{y:,.2f}}<br>"
            "commission %{customdata[1]:,.2f}<extra></extra>"
        ),
    )


def table_figure(
    title: str,
    *,
    header: list[str],
    columns: list[list[str]],
    align: list[str],
    column_widths: list[float] | None = None,
) -> go.Figure:
    """A plotly table, its height fitted to the rows (at most `_MAX_VISIBLE_ROWS` visible);
    `column_widths` are relative widths (equal when None)."""
    figure = go.Figure(
        go.Table(
            header={"values": header, "align": align, "font": {"size": 13}},
            cells={"values": columns, "align": align, "height": _TABLE_ROW_HEIGHT},
            columnwidth=column_widths,
        )
    )
    visible_rows = min(len(columns[0]) if columns else 0, _MAX_VISIBLE_ROWS) + 1
    figure.update_layout(
        title=title, height=120 + visible_rows * _TABLE_ROW_HEIGHT, margin={"t": 50, "b": 10}
    )
    return figure


def downsampled_title(text: str, shown_points: int, total_points: int) -> str:
    """`text`, noting when a line shows fewer points than it has."""
    if shown_points < total_points:
        return f"{text} <sup>(line downsampled to {shown_points:,} of {total_points:,} points)</sup>"
    return text


def mark_events(figure: go.Figure, bar_ts: pl.Series, events: Sequence[ReportEvent]) -> go.Figure:
    """A dotted vertical line with a label per event, at the first bar at or after the event's time (so a
    marker never falls in a skipped closed period); events after the last bar are left out."""
    if not events:
        return figure
    bars = bar_ts.dt.epoch("ns").to_numpy()
    labels = exchange_time_labels(bar_ts)
    for event in sorted(events, key=lambda item: item.ts):
        position = int(np.searchsorted(bars, pl.Series([event.ts]).dt.epoch("ns").to_numpy()[0]))
        if position >= len(labels):
            continue
        x = labels[position]
        figure.add_shape(
            type="line",
            x0=x,
            x1=x,
            xref="x",
            y0=0,
            y1=1,
            yref="paper",
            line={"color": _EVENT_COLOR, "width": 1, "dash": "dot"},
        )
        figure.add_annotation(
            x=x,
            xref="x",
            y=1,
            yref="paper",
            text=event.label,
            hovertext=event.detail or None,
            showarrow=False,
            xanchor="left",
            yanchor="top",
            font={"size": 11, "color": _EVENT_COLOR},
        )
    return figure
