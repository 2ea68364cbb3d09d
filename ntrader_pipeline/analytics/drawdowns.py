"""Drawdown episodes of an equity curve: peak → trough → recovery, and the worst ones as a table.

An episode starts at a running peak (a bar at or above every earlier value, or `starting_cash` dated at
the first bar), reaches its trough at the lowest bar before the curve is back at or above that peak, and
recovers at the first such bar. A curve that never gets back has no recovery (null); its duration runs to
the last bar. Durations are calendar days, like `max_drawdown_duration_days`.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ntrader_pipeline.analytics.curves import validate_equity

_NS_PER_DAY = 86_400 * 10**9
_UTC_NS = pl.Datetime("ns", "UTC")

DRAWDOWN_SCHEMA = pl.Schema(
    {
        "rank": pl.Int64,
        "start": _UTC_NS,  # the peak the episode falls from
        "trough": _UTC_NS,
        "recovery": _UTC_NS,  # null while still under water at the last bar
        "depth": pl.Float64,  # positive fraction: 0.12 = 12 % below the peak
        "duration_days": pl.Float64,  # peak → recovery, or peak → last bar
    }
)


def drawdown_table(equity: pl.DataFrame, starting_cash: float | None = None, *, top: int = 5) -> pl.DataFrame:
    """The `top` deepest drawdown episodes, deepest first (ties: earlier first), in `DRAWDOWN_SCHEMA`.

    Vectorized: one pass of running maxima and a segmented minimum; only the chosen episodes are searched
    for their trough bar.
    """
    validate_equity(equity)
    ts_ns, values = _with_starting_cash(equity, starting_cash)
    peak = np.maximum.accumulate(values)
    peak_rows = np.flatnonzero(values >= peak)  # each starts an episode running to the next peak row
    depth = -np.minimum.reduceat(values / peak - 1.0, peak_rows)
    chosen = [int(k) for k in np.argsort(-depth, kind="stable")[:top] if depth[k] > 0.0]
    ends = np.append(peak_rows[1:], values.size)  # exclusive end row of each episode
    troughs, recoveries, durations = [], [], []
    for k in chosen:
        start, end = int(peak_rows[k]), int(ends[k])
        troughs.append(int(ts_ns[start + int(np.argmin(values[start:end]))]))
        recovered = end < values.size
        recoveries.append(int(ts_ns[end]) if recovered else None)
        last = ts_ns[end] if recovered else ts_ns[-1]
        durations.append(float(last - ts_ns[start]) / _NS_PER_DAY)
    return pl.DataFrame(
        {
            "rank": list(range(1, len(chosen) + 1)),
            "start": [int(ts_ns[peak_rows[k]]) for k in chosen],
            "trough": troughs,
            "recovery": recoveries,
            "depth": [float(depth[k]) for k in chosen],
            "duration_days": durations,
        },
        schema={name: pl.Int64 if dtype == _UTC_NS else dtype for name, dtype in DRAWDOWN_SCHEMA.items()},
    ).with_columns(pl.col("start", "trough", "recovery").cast(_UTC_NS))


def _with_starting_cash(equity: pl.DataFrame, starting_cash: float | None) -> tuple[np.ndarray, np.ndarray]:
    ts_ns = equity["ts"].dt.epoch("ns").to_numpy()
    values = equity["equity"].to_numpy().astype(np.float64, copy=False)
    if starting_cash is None:
        return ts_ns, values
    return np.concatenate(([ts_ns[0]], ts_ns)), np.concatenate(([float(starting_cash)], values))
