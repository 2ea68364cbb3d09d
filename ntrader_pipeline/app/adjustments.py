"""Corporate events and split/dividend factors per instrument: refreshed from the stored daily TRADES bars
and one ADJUSTED_LAST request ending now, and checked against a fresh request."""

from collections.abc import Callable, Iterable

from ntrader_pipeline.adjustments.events import describe_event
from ntrader_pipeline.adjustments.refresh import (
    FetchAdjusted,
    compare_with_fresh_anchor,
    refresh_adjustment_factors,
)
from ntrader_pipeline.app.outcomes import CheckOutcome, Markdown, StepOutcome
from ntrader_pipeline.backtest.declarations import adjusted_twin
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.universe import Universe

# The adjusted twin's instrument id → a fetch of its ADJUSTED_LAST bars over a duration
AdjustedSource = Callable[[str], FetchAdjusted]


def _twin(universe: Universe, instrument_id: str) -> str | None:
    """The instrument's adjusted series in the universe (none for an adjusted series itself)."""
    if universe.instrument(instrument_id).adjusted:
        return None
    return adjusted_twin(universe, instrument_id)


def refresh_adjustments(
    store: CatalogStore, universe: Universe, source: AdjustedSource, instrument_id: str
) -> StepOutcome:
    """Refresh one instrument's events and factors (when it has an adjusted twin) and describe them."""
    twin = _twin(universe, instrument_id)
    if twin is None:
        return StepOutcome({"sessions": 0, "note": f"{instrument_id} has no adjusted series in the universe"})
    factors, events = refresh_adjustment_factors(store, instrument_id, source(twin))
    rows = events.to_dicts()
    return StepOutcome(
        {
            "sessions": factors.height,
            "adjusted_series": twin,
            "splits": sum("split" in r["kind"] for r in rows),
            "dividends": sum("dividend" in r["kind"] for r in rows),
            "corporate_actions": Markdown("\n".join(f"- {describe_event(r)}" for r in rows) or "none"),
            "file": store.adjustment_file(instrument_id),
        }
    )


def check_adjustments(
    store: CatalogStore, universe: Universe, source: AdjustedSource, instrument_ids: Iterable[str]
) -> CheckOutcome:
    """The stored events of each instrument against a fresh ADJUSTED_LAST request: fails naming each
    event that is new or gone, or a newest factor not 1."""
    compared = {
        instrument_id: compare_with_fresh_anchor(store, instrument_id, source(twin))
        for instrument_id in instrument_ids
        if (twin := _twin(universe, instrument_id)) is not None
    }
    if not compared:
        return CheckOutcome(passed=True, metadata={"note": "no adjusted series"})
    disagree = {i: r for i, r in compared.items() if not r.agrees}
    shown = disagree or compared
    return CheckOutcome(
        passed=not disagree,
        description="; ".join(
            f"{i}: {r.describe()}" if len(shown) > 1 else r.describe() for i, r in shown.items()
        ),
        metadata={
            "new_events": sum(len(r.new) for r in compared.values()),
            "gone_events": sum(len(r.gone) for r in compared.values()),
        },
    )
