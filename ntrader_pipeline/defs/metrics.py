"""Performance metrics of each declared backtest: saved beside its artefacts and emitted as metadata."""

import dagster as dg

from ntrader_pipeline.app.backtests import write_metrics
from ntrader_pipeline.backtest.declarations import BacktestDeclaration
from ntrader_pipeline.defs.instrument_assets import ChainStep, artefact_step
from ntrader_pipeline.defs.names import BACKTEST_GROUP, backtest_asset_name, metrics_asset_name


def metrics_step(declaration: BacktestDeclaration) -> ChainStep:
    backtest = dg.AssetKey(backtest_asset_name(declaration.name))
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
    return artefact_step(spec, backtest, lambda locations, i: write_metrics(locations, declaration.name, i))
