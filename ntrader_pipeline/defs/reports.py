"""The interactive HTML report of each declared backtest, and one comparison across all of them."""

import dagster as dg
from pydantic import Field

from ntrader_pipeline.app.backtests import compare_backtests, write_report
from ntrader_pipeline.backtest.declarations import BacktestDeclaration
from ntrader_pipeline.defs.instrument_assets import ChainStep, artefact_step
from ntrader_pipeline.defs.names import (
    BACKTEST_GROUP,
    COMPARISON_ASSET,
    metrics_asset_name,
    report_asset_name,
)
from ntrader_pipeline.defs.outcomes import materialize_result, step_errors_as_failures
from ntrader_pipeline.defs.resources import StorageResource


def report_step(declaration: BacktestDeclaration) -> ChainStep:
    metrics = dg.AssetKey(metrics_asset_name(declaration.name))
    spec = dg.AssetSpec(
        report_asset_name(declaration.name),
        group_name=BACKTEST_GROUP,
        deps=[metrics],
        kinds={"plotly", "html"},
        skippable=True,
        description=(
            f"{declaration.name}: offline HTML report (plotly.js shared in the reports directory's "
            f"assets/) — headline numbers, equity vs buy-and-hold of the instrument and "
            f"{declaration.index_instrument}, drawdown, trades, metrics, provenance."
        ),
    )
    return artefact_step(spec, metrics, lambda locations, i: write_report(locations, declaration.name, i))


class ComparisonConfig(dg.Config):
    rank_by: str = Field(default="sharpe", description="metric the comparison ranks backtests by")


def build_comparison_asset(declarations: list[BacktestDeclaration]) -> dg.AssetsDefinition:
    @dg.asset(
        name=COMPARISON_ASSET,
        group_name=BACKTEST_GROUP,
        deps=[metrics_asset_name(d.name) for d in declarations],
        kinds={"plotly", "html"},
        description="All declared backtests × instruments side by side, ranked by a metric (`rank_by`).",
    )
    def backtest_comparison(config: ComparisonConfig, storage: StorageResource) -> dg.MaterializeResult:
        with step_errors_as_failures():
            return materialize_result(compare_backtests(storage.locations(), declarations, config.rank_by))

    return backtest_comparison
