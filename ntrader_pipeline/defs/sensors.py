"""Downstream refresh: when a bars run ends, ONE run refreshes the backtests whose declared window holds a
session the run stored, and when that run ends, ONE run re-ranks the comparison.

A bars run that fails for some instruments still stored the others' months (defs/bars.py), so the
refresh follows failed runs too, for what they stored. The backtests run covers the affected instruments
as one partition range (universe order); the chains skip instruments they do not trade and those whose
inputs did not change (defs/instrument_assets.py), so the work is proportional to what changed.
"""

from collections.abc import Iterable

import dagster as dg

from ntrader_pipeline.adjustments.modes import Adjustment
from ntrader_pipeline.app.refresh import affected
from ntrader_pipeline.backtest.declarations import BacktestDeclaration
from ntrader_pipeline.defs.adjustments import ADJUSTMENT_FACTORS, builds_adjustment_factors
from ntrader_pipeline.defs.jobs import Jobs
from ntrader_pipeline.defs.names import chain_asset_names
from ntrader_pipeline.defs.partitions import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG
from ntrader_pipeline.defs.run_tags import INSTRUMENT_TAG, SESSIONS_TAG, instruments_label
from ntrader_pipeline.markets.universe import Universe

AFTER_RUN_TAG = "ntrader/after_run"


def stored_by_run(instance: dg.DagsterInstance, run_id: str) -> dict[str, set[str]]:
    """{bars asset name: {instrument ids}} of the month partitions a run recorded."""
    stored: dict[str, set[str]] = {}
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        materialization = entry.asset_materialization
        if (
            materialization is None
            or materialization.partition is None
            or "|" not in materialization.partition
        ):
            continue
        stored.setdefault(materialization.asset_key.to_user_string(), set()).add(
            materialization.partition.rsplit("|", 1)[-1]
        )
    return stored


def session_bounds(tags: dict[str, str]) -> tuple[str, str] | None:
    """The first and last session a bars run fetched (its `ntrader/sessions` tag), when it names dates."""
    label = tags.get(SESSIONS_TAG, "")
    first, _, last = label.partition("...")
    last = last or first
    if len(first) != 10 or len(last) != 10 or "|" in label:
        return None
    return first, last


def chain_keys(universe: Universe, declarations: Iterable[BacktestDeclaration]) -> list[dg.AssetKey]:
    """The declarations' chains, after the adjustment factors when one of them adjusts its bars."""
    declarations = list(declarations)
    adjusts = any(d.adjustment is not Adjustment.NONE for d in declarations)
    factors = [dg.AssetKey(ADJUSTMENT_FACTORS)] if adjusts and builds_adjustment_factors(universe) else []
    return factors + [dg.AssetKey(name) for d in declarations for name in chain_asset_names(d.name)]


def instrument_range_tags(universe: Universe, instruments: Iterable[str]) -> dict[str, str]:
    """A partition range over the instruments (universe order) and a short tag naming them."""
    wanted = set(instruments)
    ordered = [i for i in universe.instrument_ids if i in wanted]
    return {
        PARTITION_RANGE_START_TAG: ordered[0],
        PARTITION_RANGE_END_TAG: ordered[-1],
        INSTRUMENT_TAG: instruments_label(ordered),
    }


def refresh_request(
    universe: Universe,
    declarations: list[BacktestDeclaration],
    run: dg.DagsterRun,
    instance: dg.DagsterInstance,
) -> dg.RunRequest | dg.SkipReason:
    """One run of the affected backtests' chains over the range of affected instruments."""
    chains = affected(declarations, stored_by_run(instance, run.run_id), session_bounds(dict(run.tags)))
    if not chains:
        return dg.SkipReason(f"run {run.run_id} stored nothing inside a declared backtest's window")
    return dg.RunRequest(
        run_key=f"after:{run.run_id}",
        asset_selection=chain_keys(universe, [d for d in declarations if d.name in chains]),
        tags={**instrument_range_tags(universe, set().union(*chains.values())), AFTER_RUN_TAG: run.run_id},
    )


def build_sensors(
    universe: Universe, declarations: list[BacktestDeclaration], jobs: Jobs
) -> list[dg.SensorDefinition]:
    def after_bars(context: dg.RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
        return refresh_request(universe, declarations, context.dagster_run, context.instance)

    refresh_after_bars = [
        dg.run_status_sensor(
            name=name,
            run_status=status,
            monitored_jobs=[jobs.market_data],
            request_job=jobs.backtests,
            default_status=dg.DefaultSensorStatus.RUNNING,
            description=description,
        )(after_bars)
        for name, status, description in (
            (
                "refresh_backtests_after_bars",
                dg.DagsterRunStatus.SUCCESS,
                "After a market_data_job run, one run refreshes the backtests its sessions affect.",
            ),
            (
                "refresh_backtests_after_partial_bars",
                dg.DagsterRunStatus.FAILURE,
                "After a failed market_data_job run, refresh the backtests of what it did store.",
            ),
        )
    ]

    @dg.run_status_sensor(
        name="refresh_comparison_after_backtests",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[jobs.backtests],
        request_job=jobs.comparison,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="After a successful backtests_job run, re-rank every backtest in the comparison report.",
    )
    def refresh_comparison_after_backtests(context: dg.RunStatusSensorContext) -> dg.RunRequest:
        run = context.dagster_run
        return dg.RunRequest(run_key=f"after:{run.run_id}", tags={AFTER_RUN_TAG: run.run_id})

    return [*refresh_after_bars, refresh_comparison_after_backtests]
