"""Refresh an instrument's corporate events and factors: its stored daily TRADES bars plus ONE ADJUSTED_LAST
request ending now, so every session's adjusted close shares one anchor (IB serves ADJUSTED_LAST only
with an empty end date; each answer is anchored at the moment it is asked for, so closes fetched on
different days would disagree wherever a dividend or split happened in between).

`refresh_adjustment_factors` stores the events and the factors built from them; `compare_with_fresh_anchor`
is the check: the events a fresh request gives against the stored ones, naming any new, gone or changed
event (a dividend or split since the last refresh). The bar files are not touched.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
from nautilus_trader.model.data import Bar

from ntrader_pipeline.adjustments.events import describe_event
from ntrader_pipeline.adjustments.factors import adjustment_factors
from ntrader_pipeline.catalog.frames import bars_to_frame, read_bar_files
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.bar_specs import BarSpec

DAILY = BarSpec.parse("1-DAY-LAST")
# (duration) -> (bars, errors): one ADJUSTED_LAST daily request ending now (IBConnection.fetch_adjusted_bars)
FetchAdjusted = Callable[[str], tuple[list[Bar], list[object]]]
DIVIDEND_TOLERANCE = 0.02  # relative: a re-measured dividend within 2 % is the same dividend


class AdjustedSeriesError(RuntimeError):
    """IB's ADJUSTED_LAST answer cannot be used (no bars, an error, sessions missing)."""


def daily_bars(store: CatalogStore, instrument_id: str) -> pl.DataFrame:
    """`date`, `open`, `close`, `volume` of every stored daily bar (`ts_event` is 00:00 UTC of its
    session, so the UTC date is the session's)."""
    frame = read_bar_files(store.bar_files(DAILY.bar_type(instrument_id)))
    return _by_session(frame)


def _by_session(frame: pl.DataFrame) -> pl.DataFrame:
    return (
        frame.select(pl.col("ts_event").dt.date().alias("date"), "open", "close", "volume")
        .unique("date", keep="last")
        .sort("date")
    )


def duration_back_to(first: dt.date, today: dt.date) -> str:
    """The ADJUSTED_LAST duration ending now that reaches back to `first`: "N D" calendar-wise within a
    year (IB counts D in sessions, so this over-reaches, never under), else "N Y"."""
    days = (today - first).days + 1
    return f"{max(days, 1)} D" if days <= 365 else f"{math.ceil((days + 7) / 365)} Y"


def fetch_adjusted_closes(fetch: FetchAdjusted, first: dt.date, today: dt.date) -> pl.DataFrame:
    """`date`, `close` of one ADJUSTED_LAST request ending now that covers `first` … today."""
    duration = duration_back_to(first, today)
    bars, errors = fetch(duration)
    if not bars:
        said = "; ".join(str(e) for e in errors) or "no bars and no error"
        raise AdjustedSeriesError(
            f"IB's ADJUSTED_LAST request ({duration} ending now) returned nothing: {said}. Check the market "
            "data permissions for the stock and that the gateway is up, then rematerialize."
        )
    return _by_session(bars_to_frame(bars)).select("date", "close")


def refresh_adjustment_factors(
    store: CatalogStore, instrument_id: str, fetch: FetchAdjusted, today: dt.date | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Detect events from the stored daily bars and one fresh ADJUSTED_LAST request; store and return
    (factors, events)."""
    factors, events = fresh_factors(store, instrument_id, fetch, today)
    store.write_adjustment_factors(instrument_id, factors, events)
    return factors, events


def fresh_factors(
    store: CatalogStore, instrument_id: str, fetch: FetchAdjusted, today: dt.date | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    trades = daily_bars(store, instrument_id)
    if trades.is_empty():
        raise AdjustedSeriesError(
            f"no daily bars of {instrument_id} are stored; materialize bars_1_day for it first"
        )
    adjusted = fetch_adjusted_closes(fetch, trades["date"][0], today or dt.datetime.now(dt.UTC).date())
    missing = trades.join(adjusted, on="date", how="anti")["date"].to_list()
    if missing:
        shown = ", ".join(d.isoformat() for d in missing[:5]) + (" …" if len(missing) > 5 else "")
        raise AdjustedSeriesError(
            f"IB's ADJUSTED_LAST answer for {instrument_id} lacks {len(missing)} stored sessions ({shown}); "
            "rematerialize when IB serves them"
        )
    return adjustment_factors(trades, adjusted)


@dataclass(frozen=True)
class AnchorComparison:
    new: list[str]  # events the fresh anchor shows that are not stored
    gone: list[str]  # stored events the fresh anchor no longer shows
    newest_factor: float | None

    @property
    def agrees(self) -> bool:
        return not self.new and not self.gone and self.newest_factor == 1.0

    def describe(self) -> str:
        parts = [f"new since the last refresh: {'; '.join(self.new)}"] if self.new else []
        parts += [f"stored but not in a fresh ADJUSTED_LAST: {'; '.join(self.gone)}"] if self.gone else []
        if self.newest_factor != 1.0:
            parts.append(f"the newest stored factor is {self.newest_factor}, not 1")
        return " | ".join(parts) or "the stored events match a fresh ADJUSTED_LAST anchor"


def _event_key(row: dict) -> tuple:
    return (row["ex_date"], row["kind"], row["split_ratio"])


def _same_event(a: dict, b: dict) -> bool:
    if _event_key(a) != _event_key(b):
        return False
    if a["dividend"] is None or b["dividend"] is None:
        return a["dividend"] is None and b["dividend"] is None
    return abs(a["dividend"] - b["dividend"]) <= DIVIDEND_TOLERANCE * max(abs(b["dividend"]), 1e-9)


def compare_events(
    stored: pl.DataFrame, fresh: pl.DataFrame, stored_factors: pl.DataFrame
) -> AnchorComparison:
    """Which events differ between the stored table and a freshly detected one (same sessions)."""
    stored_rows, fresh_rows = stored.to_dicts(), fresh.to_dicts()
    new = [describe_event(r) for r in fresh_rows if not any(_same_event(r, s) for s in stored_rows)]
    gone = [describe_event(s) for s in stored_rows if not any(_same_event(r, s) for r in fresh_rows)]
    newest = stored_factors.sort("date")["factor"][-1] if stored_factors.height else None
    return AnchorComparison(new, gone, newest)


def compare_with_fresh_anchor(
    store: CatalogStore, instrument_id: str, fetch: FetchAdjusted, today: dt.date | None = None
) -> AnchorComparison:
    """The check: stored events and factors against those from a fresh ADJUSTED_LAST request."""
    stored_factors = store.adjustment_factors(instrument_id)
    stored_events = store.corporate_events(instrument_id)
    if stored_factors is None or stored_events is None:
        return AnchorComparison(["(nothing stored: materialize adjustment_factors)"], [], None)
    _, fresh = fresh_factors(store, instrument_id, fetch, today)
    stored_dates = set(stored_factors["date"].to_list())
    fresh = fresh.filter(
        pl.col("ex_date").is_in(list(stored_dates)) | (pl.col("ex_date") > max(stored_dates))
    )
    return compare_events(stored_events, fresh, stored_factors)
