"""One backtest chain per declaration of the backtests file, partitioned by instrument.

The launchpad config of each chain defaults to its declaration; an override is validated like the file
(same messages). The backtest depends on its `<name>_inputs` data versions (its own instrument and the
benchmark index), so a re-fetched session inside its window makes it show as unsynced. A run may cover a
range of instruments (the nightly refresh): instruments the backtest does not trade are left out, and
those whose inputs did not change are not rerun (defs/instrument_assets.py).
"""

from pathlib import Path

import dagster as dg
from pydantic import create_model

from ntrader_pipeline.adjustments.modes import Adjustment
from ntrader_pipeline.app.backtests import run_backtest
from ntrader_pipeline.app.launchpad import config_class_name, effective_declaration, launchpad_fields
from ntrader_pipeline.app.locations import Locations
from ntrader_pipeline.app.outcomes import StepOutcome
from ntrader_pipeline.backtest.declarations import BacktestDeclaration
from ntrader_pipeline.backtest.run import declared_code_version
from ntrader_pipeline.defs.adjustments import ADJUSTMENT_FACTORS
from ntrader_pipeline.defs.instrument_assets import ChainStep, Declared, instrument_chain
from ntrader_pipeline.defs.instrument_data import index_dep, inputs_step
from ntrader_pipeline.defs.metrics import metrics_step
from ntrader_pipeline.defs.names import BACKTEST_GROUP, backtest_asset_name, backtest_inputs_asset_name
from ntrader_pipeline.defs.reports import report_step
from ntrader_pipeline.markets.universe import Universe


def build_config_class(declaration: BacktestDeclaration, declarations_path: Path) -> type[dg.Config]:
    """A `dg.Config` whose fields default to the declaration: the launchpad shows and overrides them."""
    fields = launchpad_fields(declaration, declarations_path)
    return create_model(config_class_name(declaration), __base__=dg.Config, **fields)  # type: ignore[call-overload]


def backtest_step(declaration: BacktestDeclaration, universe: Universe, declarations_path: Path) -> ChainStep:
    inputs_key = dg.AssetKey(backtest_inputs_asset_name(declaration.name))
    adjusts = declaration.adjustment is not Adjustment.NONE

    def compute(locations: Locations, instrument_id: str, config: dg.Config) -> StepOutcome:
        effective = effective_declaration(declaration, config.model_dump(), declarations_path, universe)
        return run_backtest(locations, effective, instrument_id, universe)

    def inputs(instrument_id: str, _: object) -> dict[dg.AssetKey, list[str]]:
        read = {inputs_key: [instrument_id]}
        return read | ({dg.AssetKey(ADJUSTMENT_FACTORS): [instrument_id]} if adjusts else {})

    return ChainStep(_backtest_spec(declaration, universe, declarations_path), compute, inputs)


def _backtest_spec(
    declaration: BacktestDeclaration, universe: Universe, declarations_path: Path
) -> dg.AssetSpec:
    adjusts = declaration.adjustment is not Adjustment.NONE
    return dg.AssetSpec(
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
            f"{declaration.name}: {declaration.strategy_classes().strategy_path} long only on "
            f"{declaration.spec} bars of {', '.join(declaration.instruments)}, "
            f"{declaration.window.start}..{declaration.window.end}, {declaration.costs.commission} "
            f"commissions; buy-and-hold of the instrument and {declaration.index_instrument} as "
            f"benchmarks. Declared in {declarations_path.name}."
        ),
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
        declared=Declared(declaration.instruments, f"backtest {declaration.name}", str(declarations_path)),
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
