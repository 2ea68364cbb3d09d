"""One factory for each declared backtest's chain downstream of the bars (its inputs' data version, the
backtest, its metrics and report): one step, partitioned by instrument, covering one instrument (a click
in the UI) or a range of them (the nightly refresh: one run for every instrument whose data changed).

Each asset × partition is computed by a plain function and recorded as its own materialization the moment it
is done, with the provenance Dagster's staleness reads (code version, data version, the upstream events it
saw), so "unsynced" works per instrument as for a one-partition run. A partition whose function returns
None is left as it is (e.g. not declared for this asset). In a run over several instruments, a partition
whose inputs, code and config are those of its last materialization is not recomputed: the nightly
refresh does work in proportion to what changed. A partition that fails does not stop the others: the
step fails at the end naming each failed instrument. An instrument the chain is not declared for is left
out of a range, and fails a run of its own naming where to declare it.
"""

import hashlib
import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg

from ntrader_pipeline.app.locations import Locations
from ntrader_pipeline.app.outcomes import StepOutcome
from ntrader_pipeline.defs.outcomes import dagster_metadata, step_errors_as_failures
from ntrader_pipeline.defs.run_tags import tag_run

# Dagster's provenance tags on a materialization (dagster._core.definitions.data_version; pinned by
# ntrader_pipeline_tests/defs/test_instrument_assets.py).
CODE_VERSION_TAG = "dagster/code_version"
DATA_VERSION_TAG = "dagster/data_version"
USER_PROVIDED_TAG = "dagster/data_version_is_user_provided"
INPUT_DATA_VERSION_PREFIX = "dagster/input_data_version/"
INPUT_EVENT_POINTER_PREFIX = "dagster/input_event_pointer/"
NULL_EVENT_POINTER = "NULL"
CONFIG_HASH_TAG = "ntrader/config_hash"
STABLE_CODE_VERSION_TAG = "ntrader/code_version"

# (instrument id, the run's config or None) → the upstream assets and partitions its computation reads
Inputs = Callable[[str, Any], Mapping[dg.AssetKey, Sequence[str]]]


# (where the run reads and writes, instrument id, the run's config or None) → the partition's outcome
# (the application layer's function; a StepError fails the partition).
Compute = Callable[[Locations, str, Any], StepOutcome]


@dataclass(frozen=True)
class Declared:
    """The instruments a chain is declared for: what it is and where it is declared name a missing one."""

    instruments: Collection[str]
    what: str  # "backtest sma_cross"
    where: str  # the declarations file


def newest_inputs(
    instance: dg.DagsterInstance, inputs: Mapping[dg.AssetKey, Sequence[str]]
) -> dict[dg.AssetKey, list]:
    """For each upstream asset, its newest materialization among the partitions read (one query each,
    shared by `is_current` and `provenance_tags`: at 500 instruments × 131 months a query is ~50 ms)."""
    return {key: _latest(instance, key, partitions) for key, partitions in inputs.items()}


def provenance_tags(
    code_version: str, data_version: str | None, newest: Mapping[dg.AssetKey, list]
) -> dict[str, str]:
    """The tags Dagster writes on an output's materialization, for a runtime one: for each upstream asset,
    the newest event among the partitions read (as the step started) and its data version."""
    tags = {CODE_VERSION_TAG: code_version}
    if data_version is not None:
        tags |= {DATA_VERSION_TAG: data_version, USER_PROVIDED_TAG: "true"}
    for key, records in newest.items():
        name = key.to_user_string()
        if not records:
            tags[INPUT_DATA_VERSION_PREFIX + name] = "INITIAL"
            tags[INPUT_EVENT_POINTER_PREFIX + name] = NULL_EVENT_POINTER
            continue
        entry = records[0].event_log_entry
        upstream_version = (entry.tags or {}).get(DATA_VERSION_TAG, str(records[0].storage_id))
        tags[INPUT_DATA_VERSION_PREFIX + name] = upstream_version
        tags[INPUT_EVENT_POINTER_PREFIX + name] = str(records[0].storage_id)
    return tags


def _latest(instance: dg.DagsterInstance, key: dg.AssetKey, partitions: Sequence[str]) -> list:
    return instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=list(partitions) or None), limit=1
    ).records


def is_current(
    instance: dg.DagsterInstance,
    key: dg.AssetKey,
    instrument_id: str,
    code_version: str,
    newest_inputs: Mapping[dg.AssetKey, list],
    config_hash: str,
) -> bool:
    """True when the partition's last materialization saw the newest event of every input, with this
    code version and config: recomputing it would give the same result."""
    records = _latest(instance, key, [instrument_id])
    if not records:
        return False
    tags = records[0].event_log_entry.tags or {}
    if tags.get(STABLE_CODE_VERSION_TAG) != code_version or tags.get(CONFIG_HASH_TAG) != config_hash:
        return False
    for input_key, newest in newest_inputs.items():
        if newest and not _seen(tags, input_key.to_user_string(), newest[0]):
            return False
    return True


def _seen(tags: Mapping[str, str], name: str, newest: Any) -> bool:
    """The newest input event is the one recorded, or carries the data version recorded (a recompute
    upstream that gave the same data)."""
    if tags.get(INPUT_EVENT_POINTER_PREFIX + name) == str(newest.storage_id):
        return True
    version = (newest.event_log_entry.tags or {}).get(DATA_VERSION_TAG)
    return version is not None and tags.get(INPUT_DATA_VERSION_PREFIX + name) == version


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _config_hash(config: Any) -> str:
    if config is None:
        return "none"
    return _short_hash(json.dumps(config.model_dump(), sort_keys=True, default=str))


@dataclass(frozen=True)
class ChainStep:
    """One asset of a chain: its spec, how to compute a partition, and what a partition reads."""

    spec: dg.AssetSpec
    compute: Compute
    inputs: Inputs


def artefact_step(
    spec: dg.AssetSpec, upstream: dg.AssetKey, write: Callable[[Locations, str], StepOutcome]
) -> ChainStep:
    """A step that reads its upstream asset's partition of the same instrument (metrics, report)."""
    return ChainStep(
        spec,
        lambda locations, instrument_id, _: write(locations, instrument_id),
        lambda instrument_id, _: {upstream: [instrument_id]},
    )


def _record(
    context: dg.AssetExecutionContext,
    step: ChainStep,
    instrument_id: str,
    result: StepOutcome,
    newest: Mapping[dg.AssetKey, list],
    config_hash: str,
) -> dg.AssetMaterialization:
    # Without a declared code version every run is new code (Dagster's own rule); our own tag keeps the
    # definition's, so a range run can tell an unchanged partition.
    tags = provenance_tags(step.spec.code_version or context.run_id, result.data_version, newest)
    tags[CONFIG_HASH_TAG] = config_hash
    tags[STABLE_CODE_VERSION_TAG] = _stable_version(step)
    metadata = dagster_metadata(result.metadata)
    return dg.AssetMaterialization(
        asset_key=step.spec.key, partition=instrument_id, metadata=metadata, tags=tags
    )


def _stable_version(step: ChainStep) -> str:
    return _short_hash(step.spec.code_version or "unversioned")  # a tag value: [A-Za-z0-9_.-], ≤ 63


def _run_instruments(context: dg.AssetExecutionContext, declared: Declared, config: Any) -> list[str]:
    """The run's declared instruments (a range over the universe leaves the others out); tags the run
    with them and the config's window."""
    instruments = [i for i in context.partition_keys if i in declared.instruments]
    if len(context.partition_keys) == 1 and not instruments:
        raise dg.Failure(
            f"{context.partition_key} is not declared for {declared.what} "
            f"({', '.join(declared.instruments)}); add it to {declared.where}"
        )
    window = [w for w in (getattr(config, "start", None), getattr(config, "end", None)) if w]
    if instruments and window:
        tag_run(context, instruments, window)
    return instruments


def materialize_chain(
    context: dg.AssetExecutionContext, steps: Sequence[ChainStep], declared: Declared, config: Any = None
) -> Iterator[dg.AssetMaterialization]:
    """For each instrument of the run, each selected step in order; yield each result as it is done."""
    selected = [step for step in steps if step.spec.key in context.selected_asset_keys]
    locations: Locations = context.resources.storage.locations()
    failures: list[str] = []
    config_hash = _config_hash(config)
    ranged = len(context.partition_keys) > 1
    for instrument_id in _run_instruments(context, declared, config):
        upstream_recomputed = False
        for step in selected:
            newest = newest_inputs(context.instance, step.inputs(instrument_id, config))
            if (
                ranged
                and not upstream_recomputed
                and is_current(
                    context.instance, step.spec.key, instrument_id, _stable_version(step), newest, config_hash
                )
            ):
                context.log.info(f"{step.spec.key.to_user_string()} {instrument_id}: inputs unchanged, kept")
                continue
            try:
                with step_errors_as_failures():
                    result = step.compute(locations, instrument_id, config)
            except dg.Failure as exc:
                if not ranged:
                    raise
                failures.append(f"{step.spec.key.to_user_string()} {instrument_id}: {exc.description}")
                context.log.error(failures[-1])
                break  # the rest of this instrument's chain would read what failed
            upstream_recomputed = True
            yield _record(context, step, instrument_id, result, newest, config_hash)
    if failures:
        raise dg.Failure(
            description=(
                f"{len(failures)} instruments failed; the others were refreshed. First: {failures[0]}"
            ),
            metadata={"failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in failures))},
        )


def instrument_chain(
    *,
    name: str,
    steps: Sequence[ChainStep],
    declared: Declared,
    partitions_def: dg.StaticPartitionsDefinition,
    config_class: type[dg.Config] | None = None,
) -> dg.AssetsDefinition:
    """The chain's assets as one step (a subset may be selected), partitioned by instrument: one run
    covers one instrument or a range of them. No output is yielded (each partition is recorded as it is
    done), so an asset that must run after the chain in the same run is skipped: the comparison runs in
    its own job. With `config_class`, the launchpad shows and validates the run's config."""
    if config_class is None:

        def _chain(context: dg.AssetExecutionContext) -> Iterator[dg.AssetMaterialization]:
            yield from materialize_chain(context, steps, declared)

    else:

        def _chain(context: dg.AssetExecutionContext, config) -> Iterator[dg.AssetMaterialization]:
            yield from materialize_chain(context, steps, declared, config)

        _chain.__annotations__["config"] = config_class  # Dagster reads the config class off the signature

    return dg.multi_asset(
        name=name,
        specs=[step.spec for step in steps],
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        can_subset=True,
        required_resource_keys={"storage"},
    )(_chain)
