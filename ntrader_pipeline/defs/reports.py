"""The interactive HTML report of each declared backtest, and one comparison across all of them."""

from pathlib import Path

import dagster as dg
import polars as pl
from pydantic import Field

from ntrader_pipeline.analytics import load_metrics
from ntrader_pipeline.backtest.artifacts import load_backtest_artifacts
from ntrader_pipeline.backtest.declarations import BacktestDeclaration
from ntrader_pipeline.backtest.manifest import read_manifest
from ntrader_pipeline.defs.instrument_assets import ChainStep, PartitionResult
from ntrader_pipeline.defs.names import (
    BACKTEST_GROUP,
    COMPARISON_ASSET,
    backtest_artifact_dir,
    metrics_asset_name,
    report_asset_name,
)
from ntrader_pipeline.defs.resources import StorageResource
from ntrader_pipeline.reports import write_comparison_report
from ntrader_pipeline.reports.assets import ASSETS_DIR_NAME
from ntrader_pipeline.reports.backtest_report import write_backtest_report


def reports_assets_dir(storage: StorageResource) -> Path:
    """Where every report of the reports directory finds the one shared copy of plotly.js."""
    return storage.reports_dir / ASSETS_DIR_NAME


def report_step(declaration: BacktestDeclaration) -> ChainStep:
    metrics = dg.AssetKey(metrics_asset_name(declaration.name))

    def compute(context: dg.AssetExecutionContext, instrument_id: str, _: None) -> PartitionResult | None:
        if instrument_id not in declaration.instruments:
            return None
        storage: StorageResource = context.resources.storage
        directory = backtest_artifact_dir(storage, declaration.name, instrument_id)
        path = write_backtest_report(
            directory,
            f"{declaration.name} on {instrument_id}",
            storage.reports_dir / declaration.name / f"{instrument_id}.html",
            assets_dir=reports_assets_dir(storage),
        )
        context.log.info(f"report for {declaration.name} on {instrument_id}: {path}")
        return PartitionResult(
            metadata={
                "report": dg.MetadataValue.path(str(path)),
                "report_url": dg.MetadataValue.url(storage.report_url(path)),
                "size_bytes": path.stat().st_size,
                "config_hash": read_manifest(directory).config_hash,
            }
        )

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
    return ChainStep(spec, compute, lambda instrument_id, _: {metrics: [instrument_id]})


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
    def backtest_comparison(
        context: dg.AssetExecutionContext, config: ComparisonConfig, storage: StorageResource
    ) -> dg.MaterializeResult:
        return _compare(context, config, storage, declarations)

    return backtest_comparison


def _compare(
    context: dg.AssetExecutionContext,
    config: ComparisonConfig,
    storage: StorageResource,
    declarations: list[BacktestDeclaration],
) -> dg.MaterializeResult:
    rows: list[dict[str, object]] = []
    curves: dict[str, pl.DataFrame] = {}
    results: list[dict[str, object]] = []
    for declaration in declarations:
        for instrument_id in declaration.instruments:
            directory = backtest_artifact_dir(storage, declaration.name, instrument_id)
            if not (directory / "metrics.parquet").exists():
                continue
            metrics, _ = load_metrics(directory)
            label = f"{declaration.name} / {instrument_id}"
            rows.append({"backtest": declaration.name, "instrument_id": instrument_id, **metrics.as_dict()})
            curves[label] = load_backtest_artifacts(directory).equity.select("ts", "equity")
            manifest = read_manifest(directory)
            results.append(
                {
                    "result": label,
                    "sessions": manifest.sessions,
                    "bars": manifest.bars,
                    "config_hash": manifest.config_hash,
                    "data_version": manifest.data_version or "",
                }
            )
    if not rows:
        raise dg.Failure("no backtest has metrics yet; materialize the <name>_metrics assets first")
    if config.rank_by not in rows[0]:
        raise dg.Failure(f"rank_by {config.rank_by!r} is not a metric; choose one of {sorted(rows[0])}")
    path = write_comparison_report(
        rows,
        curves,
        storage.reports_dir / "comparison.html",
        rank_by=config.rank_by,
        assets_dir=reports_assets_dir(storage),
        provenance={"results": results},
    )
    context.log.info(f"comparison of {len(rows)} backtests: {path}")
    return dg.MaterializeResult(
        metadata={
            "backtests": len(rows),
            "rank_by": config.rank_by,
            "report": dg.MetadataValue.path(str(path)),
            "report_url": dg.MetadataValue.url(storage.report_url(path)),
            "size_bytes": path.stat().st_size,
        }
    )
