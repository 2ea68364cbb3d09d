"""Run tags naming what a run covered (`ntrader/instrument`, `ntrader/sessions`), to filter runs in the UI.

Added from inside the asset because a UI launch, a backfill and the CLI all start runs without them.
"""

from collections.abc import Mapping, Sequence

import dagster as dg

INSTRUMENT_TAG = "ntrader/instrument"
SESSIONS_TAG = "ntrader/sessions"


def sessions_label(sessions: list[str]) -> str:
    """One session as itself, several as `first...last` (the CLI's range syntax)."""
    ordered = sorted(set(sessions))
    return ordered[0] if len(ordered) == 1 else f"{ordered[0]}...{ordered[-1]}"


def instruments_label(instruments: list[str]) -> str:
    """A few instruments listed; many (a universe) as `first...last (N)`, so the tag stays short."""
    ordered = sorted(set(instruments))
    if len(ordered) <= 10:
        return ",".join(ordered)
    return f"{ordered[0]}...{ordered[-1]} ({len(ordered)})"


def tag_run(context: dg.AssetExecutionContext, instruments: list[str], sessions: list[str]) -> None:
    tags = {INSTRUMENT_TAG: instruments_label(instruments), SESSIONS_TAG: sessions_label(sessions)}
    context.instance.add_run_tags(context.run_id, tags)


def tag_bars_run(context: dg.AssetExecutionContext, requested: Mapping[str, Sequence[str]]) -> None:
    """Tags from the sessions a bars run fetches ({instrument: [dates]}); its months when it fetches none."""
    sessions = [d for dates in requested.values() for d in dates]
    tag_run(context, list(requested), sessions or list(context.partition_keys))
