"""Blocking data-quality checks on the bars assets: a failed session never reaches a backtest."""

import dagster as dg

from ntrader_pipeline.defs.partitions import BarPartitions, split_bar_partition_keys
from ntrader_pipeline.defs.resources import StorageResource
from ntrader_pipeline.ingest.run import split_not_listed
from ntrader_pipeline.markets.universe import BarSpec, Universe
from ntrader_pipeline.quality.catalog_quality import check_stored_sessions, failure_counts, warning_counts
from ntrader_pipeline.quality.session_quality import GAPS_RULE, SAMPLE_ROWS, SPLIT_RULE

BAR_QUALITY_CHECK = "bar_quality"


def build_bar_quality_check(
    spec: BarSpec, asset: dg.AssetsDefinition, universe: Universe, partitions: BarPartitions
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset,
        name=BAR_QUALITY_CHECK,
        blocking=True,
        partitions_def=partitions.bars,
        description=(
            "pandera BarFrame rules (OHLC, prices, volume, timestamps, in session); missing bars and "
            "split-like overnight jumps as warnings (missing bars block above the instrument's "
            "max_missing_fraction)."
        ),
    )
    def _check(context: dg.AssetCheckExecutionContext, storage: StorageResource) -> dg.AssetCheckResult:
        store = storage.catalog_store()
        keys = list(context.op_execution_context.partition_keys)
        results = []
        closed_days = not_listed_days = 0
        for instrument_id, dates in split_bar_partition_keys(keys).items():
            sessions, closed = universe.split_sessions(instrument_id, dates)  # closed: nothing to check
            closed_days += len(closed)
            sessions, not_listed = split_not_listed(store, instrument_id, spec, sessions)  # before the head
            not_listed_days += len(not_listed)
            threshold = universe.instrument(instrument_id).max_missing_fraction
            results.extend(
                check_stored_sessions(store, instrument_id, spec, sessions, max_missing_fraction=threshold)
            )
        failed = [r for r in results if not r.passed]
        samples = [dict(s, session=str(r.session)) for r in failed for s in r.samples][:SAMPLE_ROWS]
        metadata: dict[str, object] = {
            "sessions_checked": len(results),
            "closed_days": closed_days,
            "not_listed_days": not_listed_days,
            "sessions_failed": len(failed),
            "bars_checked": sum(r.bar_count for r in results),
            **{f"failures_{rule}": count for rule, count in failure_counts(results).items()},
        }
        gaps = [r for r in results if r.missing_bars]
        metadata["sessions_with_gaps"] = len(gaps)
        metadata["missing_bars"] = sum(r.missing_bars for r in gaps)
        metadata["longest_gap"] = max((r.longest_gap for r in gaps), default=0)
        metadata.update({f"warnings_{rule}": count for rule, count in warning_counts(results).items()})
        if gaps:
            metadata["gaps"] = dg.MetadataValue.md(
                "| session | bars | expected | missing | longest gap | blocking |\n"
                "|---|---|---|---|---|---|\n"
                + "\n".join(
                    f"| {r.session} | {r.bar_count} | {r.expected_bars} | {r.missing_bars} "
                    f"({r.missing_fraction:.1%}) | {r.longest_gap} | "
                    f"{'yes' if GAPS_RULE in r.failures else 'no'} |"
                    for r in gaps
                )
            )
        splits = [r for r in results if SPLIT_RULE in r.warnings]
        if splits:
            metadata["possible_splits"] = dg.MetadataValue.md(
                "\n".join(f"- {r.warnings[SPLIT_RULE]}" for r in splits)
            )
        if failed:
            metadata["failed_sessions"] = dg.MetadataValue.md("\n".join(f"- {r.describe()}" for r in failed))
            metadata["sample_rows"] = dg.MetadataValue.json(samples)
        return dg.AssetCheckResult(passed=not failed, metadata=metadata)

    return _check


def build_bar_quality_checks(
    universe: Universe, partitions: BarPartitions, bars_assets: list[dg.AssetsDefinition]
) -> list[dg.AssetChecksDefinition]:
    return [
        build_bar_quality_check(spec, asset, universe, partitions)
        for spec, asset in zip(universe.all_bar_specs, bars_assets, strict=True)
    ]
