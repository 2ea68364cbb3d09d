"""Performance metrics of each declared backtest: saved beside its artefacts and emitted as metadata."""

import dagster as dg

from ntrader_pipeline.analytics.backtest_metrics import write_backtest_metrics
from ntrader_pipeline.backtest.declarations import BacktestDeclaration
from ntrader_pipeline.backtest.manifest import read_manifest
from ntrader_pipeline.defs.instrument_assets import ChainStep, PartitionResult
from ntrader_pipeline.defs.names import (
    BACKTEST_GROUP,
    backtest_artifact_dir,
    backtest_asset_name,
    metrics_asset_name,
)


def metrics_step(declaration: BacktestDeclaration) -> ChainStep:
    backtest = dg.AssetKey(backtest_asset_name(declaration.name))

    def compute(context: dg.AssetExecutionContext, instrument_id: str, _: None) -> PartitionResult | None:
        if instrument_id not in declaration.instruments:
            return None
        directory = backtest_artifact_dir(context.resources.storage, declaration.name, instrument_id)
        metrics, paths = write_backtest_metrics(directory)
        manifest = read_manifest(directory)
        return PartitionResult(
            metadata={
                **metrics.numeric(),
                "config_hash": manifest.config_hash,
                "data_version": manifest.data_version,
                **{name.replace(".", "_"): dg.MetadataValue.path(str(p)) for name, p in paths.items()},
            }
        )

    spec = dg.AssetSpec(
        metrics_asset_name(declaration.name),
        group_name=BACKTEST_GROUP,
        deps=[backtest],
        kinds={"polars"},
        skippable=True,
        description=(
            f"{declaration.name}: performance metrics from the equity curve and fills (vectorized), "
            f"relative to buy-and-hold of {declaration.index_instrument}; also as numeric metadata."
        ),
    )
    return ChainStep(spec, compute, lambda instrument_id, _: {backtest: [instrument_id]})
