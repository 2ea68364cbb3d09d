"""Run tags naming what a run covered (`ntrader/instrument`, `ntrader/sessions`), to filter runs in the UI.

Added from inside the asset because a UI launch, a backfill and the CLI all start runs without them.
"""

import dagster as dg

from ntrader_pipeline.defs.partitions import split_bar_partition_keys

INSTRUMENT_TAG = "ntrader/instrument"
SESSIONS_TAG = "ntrader/sessions"


def sessions_label(sessions: list[str]) -> str:
    """One session as itself, several as `first...last` (the CLI's range syntax)."""
    ordered = sorted(set(sessions))
    return ordered[0] if len(ordered) == 1 else f"{ordered[0]}...{ordered[-1]}"


def tag_run(context: dg.AssetExecutionContext, instruments: list[str], sessions: list[str]) -> None:
    tags = {INSTRUMENT_TAG: ",".join(sorted(set(instruments))), SESSIONS_TAG: sessions_label(sessions)}
    context.instance.add_run_tags(context.run_id, tags)


def tag_bars_run(context: dg.AssetExecutionContext) -> None:
    """Tags from the run's `date|instrument` partition keys (one key, or a single-run range)."""
    by_instrument = split_bar_partition_keys(list(context.partition_keys))
    tag_run(context, list(by_instrument), [d for dates in by_instrument.values() for d in dates])
