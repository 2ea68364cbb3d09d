"""Time axes that skip the hours a market is closed: nights, weekends, holidays, maintenance breaks.

The breaks are derived from the data's own gaps, not from a session calendar. Reasons:
- `ReportInputs` carries bars, not a calendar, and one comparison chart mixes instruments: a gap is
  skipped only where no curve has a bar, so an FX or futures curve beside a stock keeps its night hours.
- The gaps of the data are exactly the closed hours of whatever calendar produced it: NYSE nights and
  half-days, FX's weekend (Friday 17:00 to Sunday 17:00 New York), CME's daily maintenance hour and its
  Sunday evening open, exchange holidays — no per-calendar bounds to keep in sync with
  `ntrader_pipeline.markets`.
- The pattern form of plotly `rangebreaks` (`bounds=["sat", "mon"]`, hour bounds) cannot express
  half-days, holidays or a session that crosses midnight without extra `values` anyway.
The price: a session missing from the data is skipped on the chart like a holiday. Missing sessions are
the quality checks' business (they gate the backtest and are listed in the provenance panel), not the
chart's.

A gap is a step between consecutive timestamps longer than 1.5 typical steps (the median) and at least
an hour, so a missing minute bar or two stays visible as a straight segment, while daily bars still skip
weekends and holidays. Each break starts one typical step after the last bar before the gap (so the last
bar keeps its width) and ends at the first bar after it. Breaks of equal length share one `rangebreaks`
entry (`values` = their starts, `dvalue` = the length), so a year of sessions is a handful of entries.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import plotly.graph_objects as go
import polars as pl

from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE

MIN_BREAK = dt.timedelta(hours=1)
_MS = np.timedelta64(1, "ms")


def time_axis_breaks(
    ts: pl.Series | list[pl.Series], *, timezone: str = EXCHANGE_TIMEZONE
) -> list[dict[str, object]]:
    """plotly `rangebreaks` for an axis showing `ts` (UTC datetimes, shown as `timezone` wall-clock time by
    `figures.exchange_time_labels`, or session dates). Several series: only gaps none of them fills."""
    series = ts if isinstance(ts, list) else [ts]
    local = np.unique(np.concatenate([_wall_clock_ms(one, timezone) for one in series if one.len()] or [[]]))
    if local.size < 3:
        return []
    gaps = np.diff(local)
    step = np.median(gaps)
    threshold = max(1.5 * step, MIN_BREAK / dt.timedelta(milliseconds=1))
    before = np.flatnonzero(gaps > threshold)
    if before.size == 0:
        return []
    starts = local[before] + step
    lengths = gaps[before] - step
    breaks = []
    for length in np.unique(lengths):
        values = starts[lengths == length].astype("datetime64[ms]")
        breaks.append(
            {
                "values": [str(value).replace("T", " ") for value in np.datetime_as_string(values, unit="s")],
                "dvalue": int(length),
            }
        )
    return breaks


def skip_closed_time(
    figure: go.Figure, ts: pl.Series | list[pl.Series], *, enabled: bool = True
) -> go.Figure:
    """`figure` with its x axis skipping the closed hours of `ts` (see the module docstring)."""
    if enabled:
        breaks = time_axis_breaks(ts)
        if breaks:
            figure.update_xaxes(rangebreaks=breaks)
    return figure


def _wall_clock_ms(ts: pl.Series, timezone: str) -> np.ndarray:
    """Milliseconds of the local wall-clock time as if it were UTC: what plotly does with a naive date."""
    if ts.dtype == pl.Date:
        local = ts.cast(pl.Datetime("ms"))
    elif isinstance(ts.dtype, pl.Datetime) and ts.dtype.time_zone is not None:
        local = ts.dt.convert_time_zone(timezone).dt.replace_time_zone(None)
    else:
        local = ts
    return local.dt.epoch("ms").to_numpy().astype(np.int64)
