"""Compute an instrument's adjustment factors from the daily bars in the catalog and store them.

Reads the instrument's stored daily TRADES bars (SYMBOL.EXCHANGE-1-DAY-LAST) and its adjusted twin's
daily ADJUSTED_LAST bars (SYMBOL-ADJ.EXCHANGE-1-DAY-LAST), joins them by session and writes the factor
frame with `CatalogStore.write_adjustment_factors`. The bar files are not touched.
"""

from __future__ import annotations

import polars as pl

from ntrader_pipeline.adjustments.factors import FACTOR_SCHEMA, adjustment_factors
from ntrader_pipeline.catalog.frames import read_bar_files
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.bar_specs import BarSpec

DAILY = BarSpec.parse("1-DAY-LAST")


def daily_closes(store: CatalogStore, instrument_id: str) -> pl.DataFrame:
    """`date`, `close` of every stored daily bar (a daily bar's `ts_event` is 00:00 UTC of its session)."""
    frame = read_bar_files(store.bar_files(DAILY.bar_type(instrument_id)))
    return frame.select(pl.col("ts_event").dt.date().alias("date"), "close").unique("date").sort("date")


def refresh_adjustment_factors(store: CatalogStore, instrument_id: str, adjusted_id: str) -> pl.DataFrame:
    """Recompute and store `instrument_id`'s factors from the catalog; returns the frame stored."""
    factors = adjustment_factors(daily_closes(store, instrument_id), daily_closes(store, adjusted_id))
    store.write_adjustment_factors(instrument_id, factors)
    return factors


def empty_factors() -> pl.DataFrame:
    return pl.DataFrame(schema=FACTOR_SCHEMA)
