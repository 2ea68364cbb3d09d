"""Shrink long line series for plotting while keeping their extremes visible."""

from __future__ import annotations

import math
from collections.abc import Sequence

import polars as pl


def downsample_extremes(frame: pl.DataFrame, columns: Sequence[str], max_points: int) -> pl.DataFrame:
    """At most about `max_points` rows of `frame`, in order.

    Rows are cut into buckets of consecutive rows; each bucket keeps the rows holding the minimum and the
    maximum of every column in `columns` (so drawdown troughs and price spikes survive, unlike with a
    plain stride), plus the first and last rows of the frame.
    """
    if frame.height <= max_points:
        return frame
    kept_per_bucket = 2 * len(columns)
    bucket_size = math.ceil(frame.height * kept_per_bucket / max_points)
    row, bucket = pl.col("_row"), pl.col("_row") // bucket_size
    keep = (row == 0) | (row == frame.height - 1)
    for column in columns:
        # arg_min/arg_max pick one row per bucket even when a flat stretch ties on the value.
        keep |= row == row.get(pl.col(column).arg_min()).over(bucket)
        keep |= row == row.get(pl.col(column).arg_max()).over(bucket)
    return frame.with_row_index("_row").filter(keep).drop("_row")
