"""Drawdown episodes of an equity curve: peak → trough → recovery, and the worst ones as a table.

An episode starts at a running peak (a bar at or above every earlier value, or `starting_cash` dated at
the first bar), reaches its trough at the lowest bar before the curve is back at or above that peak, and
recovers at the first such bar. A curve that never gets back has no recovery (null); its duration runs to
the last bar. Durations are calendar days, like `max_drawdown_duration_days`.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True, eq=False)
class DrawdownEpisodes:
    """Every episode of one curve, as arrays: episode k falls from row `peak_rows[k]` and lasts until row
    `ends[k]` (exclusive; the recovery row, or the row count when never recovered). `depth[k]` is 0 for a
    peak followed straight by a higher one. Rows include the `starting_cash` row when one was given."""

    ts_ns: np.ndarray
    values: np.ndarray
    peak_rows: np.ndarray
    ends: np.ndarray
    depth: np.ndarray

    def longest_days(self) -> float:
        """Longest time under water of any episode (equals `max_drawdown_duration_days`)."""
        under = self.depth > 0.0
        if not under.any():
            return 0.0
        last = self.ts_ns[np.minimum(self.ends, self.values.size - 1)]  # recovery bar, or the last bar
        return float((last - self.ts_ns[self.peak_rows])[under].max()) / _NS_PER_DAY

    def worst(self, top: int = 5) -> pl.DataFrame:
        """The `top` deepest episodes, deepest first (ties: earlier first), in `DRAWDOWN_SCHEMA`."""
        candidates = np.flatnonzero(self.depth > 0.0)
        if candidates.size > top > 0:
            # Every episode at least as deep as the top-th deepest: ties at the cut stay in, then a stable
            # sort orders them. argpartition keeps this linear on curves with many tiny episodes.
            cut = np.partition(self.depth[candidates], candidates.size - top)[candidates.size - top]
            candidates = candidates[self.depth[candidates] >= cut]
        order = candidates[np.argsort(-self.depth[candidates], kind="stable")]
        chosen = [int(k) for k in order[: max(top, 0)]]
        troughs, recoveries, durations = [], [], []
        for k in chosen:
            start, end = int(self.peak_rows[k]), int(self.ends[k])
            troughs.append(int(self.ts_ns[start + int(np.argmin(self.values[start:end]))]))
            recovered = end < self.values.size
            recoveries.append(int(self.ts_ns[end]) if recovered else None)
            last = self.ts_ns[end] if recovered else self.ts_ns[-1]
            durations.append(float(last - self.ts_ns[start]) / _NS_PER_DAY)
        return pl.DataFrame(
            {
                "rank": list(range(1, len(chosen) + 1)),
                "start": [int(self.ts_ns[self.peak_rows[k]]) for k in chosen],
                "trough": troughs,
                "recovery": recoveries,
                "depth": [float(self.depth[k]) for k in chosen],
                "duration_days": durations,
            },
            schema={name: pl.Int64 if dtype == _UTC_NS else dtype for name, dtype in DRAWDOWN_SCHEMA.items()},
        ).with_columns(pl.col("start", "trough", "recovery").cast(_UTC_NS))


def drawdown_episodes(equity: pl.DataFrame, starting_cash: float | None = None) -> DrawdownEpisodes:
    """All episodes in one vectorized pass: running maxima and a segmented minimum."""
    validate_equity(equity)
    ts_ns, values = _with_starting_cash(equity, starting_cash)
    peak = np.maximum.accumulate(values)
    peak_rows = np.flatnonzero(values >= peak)  # each starts an episode running to the next peak row
    depth = -np.minimum.reduceat(values / peak - 1.0, peak_rows)
    ends = np.append(peak_rows[1:], values.size)
    return DrawdownEpisodes(ts_ns, values, peak_rows, ends, depth)


def drawdown_table(equity: pl.DataFrame, starting_cash: float | None = None, *, top: int = 5) -> pl.DataFrame:
    """The `top` deepest drawdown episodes, deepest first (ties: earlier first), in `DRAWDOWN_SCHEMA`."""
    return drawdown_episodes(equity, starting_cash).worst(top)


def _with_starting_cash(equity: pl.DataFrame, starting_cash: float | None) -> tuple[np.ndarray, np.ndarray]:
    ts_ns = equity["ts"].dt.epoch("ns").to_numpy()
    values = equity["equity"].to_numpy().astype(np.float64, copy=False)
    if starting_cash is None:
        return ts_ns, values
    return np.concatenate(([ts_ns[0]], ts_ns)), np.concatenate(([float(starting_cash)], values))
