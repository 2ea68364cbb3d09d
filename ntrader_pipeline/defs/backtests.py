"""One backtest asset per declaration of the backtests file, partitioned by instrument.

The launchpad config of each asset defaults to its declaration; an override is validated like the file
(same messages). The asset depends on its `<name>_inputs` data versions (its own instrument and the
benchmark index), so a re-fetched session inside its window makes it show as unsynced. A run may cover a
range of instruments (the nightly refresh): instruments the backtest does not trade are left out, and
those whose inputs did not change are not rerun (defs/instrument_assets.py).
"""

import hashlib
import time
from pathlib import Path

import dagster as dg
from pydantic import Field, create_model

from ntrader_pipeline.adjustments.modes import Adjustment
from ntrader_pipeline.backtest.declarations import (
    BacktestDeclaration,
    BacktestDeclarationError,
    declaration_from,
)
from ntrader_pipeline.backtest.run import BacktestInputError, declared_code_version, run_declared_backtest
from ntrader_pipeline.defs.adjustments import ADJUSTMENT_FACTORS
from ntrader_pipeline.defs.bars import bars_asset_name
from ntrader_pipeline.defs.instrument_assets import ChainStep, PartitionResult, instrument_chain
from ntrader_pipeline.defs.instrument_data import index_dep, inputs_step
from ntrader_pipeline.defs.metrics import metrics_step
from ntrader_pipeline.defs.names import BACKTEST_GROUP, backtest_asset_name, backtest_inputs_asset_name
from ntrader_pipeline.defs.reports import report_step
from ntrader_pipeline.defs.resources import StorageResource
from ntrader_pipeline.defs.run_tags import tag_run
from ntrader_pipeline.markets.universe import Universe

_SCALARS = (bool, int, float, str)


def build_config_class(declaration: BacktestDeclaration, declarations_path: Path) -> type[dg.Config]:
    """A `dg.Config` whose fields default to the declaration: the launchpad shows and overrides them."""
    d = declaration
    fields: dict[str, tuple] = {
        "start": (str, Field(default=d.window.start.isoformat(), description="first session (YYYY-MM-DD)")),
        "end": (str, Field(default=d.window.end.isoformat(), description="last session (YYYY-MM-DD)")),
        "starting_cash": (float, d.starting_cash),
        "sizing": (
            str,
            Field(
                default=d.sizing.method.value, description="fixed_shares | fixed_notional | percent_of_equity"
            ),
        ),
        "size": (float, Field(default=float(d.sizing.size), description="shares, notional or percent")),
        "commission": (str, Field(default=d.costs.commission, description="ibkr_fixed | ibkr_tiered")),
        "prob_slippage": (float, d.costs.prob_slippage),
        "random_seed": (int, d.costs.random_seed),
        "max_notional_per_order": (
            float | None,
            None if d.risk.max_notional_per_order is None else float(d.risk.max_notional_per_order),
        ),
        "max_gross_exposure": (
            float | None,
            None if d.risk.max_gross_exposure is None else float(d.risk.max_gross_exposure),
        ),
        "index_instrument": (str, d.index_instrument),
        "adjustment": (
            str,
            Field(default=d.adjustment.value, description="none | splits | splits_and_dividends"),
        ),
    }
    for key, value in d.parameters.items():
        if key in fields:
            raise BacktestDeclarationError(
                f"backtests file {declarations_path}, backtest {d.name!r}: field parameters.{key} clashes "
                f"with the launchpad field {key!r}; rename the strategy config field"
            )
        if isinstance(value, _SCALARS):
            fields[key] = (type(value), Field(default=value, description="strategy parameter"))
    camel = "".join(part.capitalize() for part in d.name.split("_"))
    return create_model(f"{camel}BacktestConfig", __base__=dg.Config, **fields)


def effective_declaration(
    declaration: BacktestDeclaration, config: dg.Config, declarations_path: Path, universe: Universe
) -> BacktestDeclaration:
    """The declaration with the launchpad's values, validated like the file."""
    values = config.model_dump()
    parameters = {**declaration.parameters, **{k: values[k] for k in declaration.parameters if k in values}}
    raw = declaration.model_dump(mode="json", exclude={"name"}) | {
        "window": {"start": values["start"], "end": values["end"]},
        "starting_cash": values["starting_cash"],
        "sizing": {"method": values["sizing"], "size": values["size"]},
        "costs": declaration.costs.model_dump(mode="json")
        | {k: values[k] for k in ("commission", "prob_slippage", "random_seed")},
        "risk": {k: values[k] for k in ("max_notional_per_order", "max_gross_exposure")},
        "index_instrument": values["index_instrument"],
        "adjustment": values["adjustment"],
        "parameters": parameters,
    }
    return declaration_from(f"{declarations_path} (launchpad config)", declaration.name, raw, universe)


def backtest_step(declaration: BacktestDeclaration, universe: Universe, declarations_path: Path) -> ChainStep:
    spec = declaration.spec
    strategy = declaration.strategy_classes()
    inputs_key = dg.AssetKey(backtest_inputs_asset_name(declaration.name))
    adjusts = declaration.adjustment is not Adjustment.NONE

    def compute(
        context: dg.AssetExecutionContext, instrument_id: str, config: dg.Config
    ) -> PartitionResult | None:
        if instrument_id not in declaration.instruments:
            if len(context.partition_keys) > 1:
                return None  # a range over the universe: not this backtest's instrument
            raise dg.Failure(
                f"{instrument_id} is not declared for backtest {declaration.name} "
                f"({', '.join(declaration.instruments)}); add it to {declarations_path}"
            )
        tag_run(context, [instrument_id], [config.start, config.end])
        try:
            effective = effective_declaration(declaration, config, declarations_path, universe)
        except BacktestDeclarationError as exc:
            raise dg.Failure(description=str(exc)) from exc
        return _run(context.resources.storage, effective, instrument_id, universe)

    def inputs(instrument_id: str, _: object) -> dict[dg.AssetKey, list[str]]:
        read = {inputs_key: [instrument_id]}
        return read | ({dg.AssetKey(ADJUSTMENT_FACTORS): [instrument_id]} if adjusts else {})

    asset_spec = dg.AssetSpec(
        backtest_asset_name(declaration.name),
        group_name=BACKTEST_GROUP,
        deps=[
            index_dep(universe, backtest_inputs_asset_name(declaration.name), declaration.index_instrument),
            *([ADJUSTMENT_FACTORS] if adjusts else []),
        ],
        code_version=declared_code_version(declaration),
        kinds={"nautilus", "parquet"},
        skippable=True,
        description=(
            f"{declaration.name}: {strategy.strategy_path} long only on {spec} bars of "
            f"{', '.join(declaration.instruments)}, {declaration.window.start}..{declaration.window.end}, "
            f"{declaration.costs.commission} commissions; buy-and-hold of the instrument and "
            f"{declaration.index_instrument} as benchmarks. Declared in {declarations_path.name}."
        ),
    )
    return ChainStep(asset_spec, compute, inputs)


def _run(
    storage: StorageResource, declaration: BacktestDeclaration, instrument_id: str, universe: Universe
) -> PartitionResult:
    started = time.monotonic()
    try:
        run = run_declared_backtest(
            declaration,
            instrument_id,
            storage.catalog_store(),
            storage.backtests_dir,
            bars_asset_name(declaration.spec),
            max_missing_fraction={i.instrument_id: i.max_missing_fraction for i in universe.instruments},
        )
    except BacktestInputError as exc:
        raise dg.Failure(description=str(exc)) from exc
    manifest = run.manifest
    output_version = hashlib.sha256(
        f"{manifest.config_hash}|{manifest.code_version}|{manifest.data_version}".encode()
    ).hexdigest()[:16]
    return PartitionResult(
        data_version=output_version,
        metadata={
            "bars": manifest.bars,
            "sessions": manifest.sessions,
            "adjustment": manifest.adjustment,
            "corporate_actions": len(manifest.corporate_actions),
            "fills": run.result.fills.height,
            "trades": run.result.trades.height,
            "orders_denied": manifest.orders_denied,
            "final_equity": float(run.result.equity["equity"][-1]),
            "buy_and_hold_final_equity": float(run.benchmarks["instrument_equity"][-1]),
            "index_final_equity": float(run.benchmarks["index_equity"][-1]),
            "backtest_seconds": round(time.monotonic() - started, 3),
            "config_hash": manifest.config_hash,
            "code_version": manifest.code_version,
            "data_version": manifest.data_version,
            "catalog_files": len(manifest.catalog_files),
            "artifacts": dg.MetadataValue.path(str(run.directory)),
        },
    )


def build_backtest_chain(
    declaration: BacktestDeclaration,
    universe: Universe,
    declarations_path: Path,
    instrument_partitions: dg.StaticPartitionsDefinition,
) -> dg.AssetsDefinition:
    """The declaration's inputs → backtest → metrics → report, one step per run."""
    return instrument_chain(
        name=declaration.name,
        steps=[
            inputs_step(declaration),
            backtest_step(declaration, universe, declarations_path),
            metrics_step(declaration),
            report_step(declaration),
        ],
        partitions_def=instrument_partitions,
        config_class=build_config_class(declaration, declarations_path),
    )


def build_backtest_assets(
    declarations: list[BacktestDeclaration],
    universe: Universe,
    declarations_path: Path,
    instrument_partitions: dg.StaticPartitionsDefinition,
) -> list[dg.AssetsDefinition]:
    return [build_backtest_chain(d, universe, declarations_path, instrument_partitions) for d in declarations]
