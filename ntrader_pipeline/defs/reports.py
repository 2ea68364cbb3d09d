"""The interactive HTML report of each declared backtest, and one comparison across all of them."""

import dagster as dg
import polars as pl
from pydantic import Field

from ntrader_pipeline.analytics import load_metrics
from ntrader_pipeline.backtest.artifacts import load_backtest_artifacts
from ntrader_pipeline.backtest.declarations import BacktestDeclaration
from ntrader_pipeline.backtest.manifest import read_manifest
from ntrader_pipeline.defs.backtests import BACKTEST_GROUP, backtest_artifact_dir
from ntrader_pipeline.defs.metrics import metrics_asset_name
from ntrader_pipeline.defs.resources import StorageResource
from ntrader_pipeline.reports import ReportInputs, write_comparison_report, write_report

COMPARISON_ASSET = "backtest_comparison"


def report_asset_name(name: str) -> str:
    return f"{name}_report"


def build_report_asset(
    declaration: BacktestDeclaration, instrument_partitions: dg.StaticPartitionsDefinition
) -> dg.AssetsDefinition:
    @dg.asset(
        name=report_asset_name(declaration.name),
        group_name=BACKTEST_GROUP,
        partitions_def=instrument_partitions,
        deps=[metrics_asset_name(declaration.name)],
        kinds={"plotly", "html"},
        description=(
            f"{declaration.name}: self-contained HTML report — equity vs buy-and-hold of the instrument "
            f"and {declaration.index_instrument}, drawdown, trades, metrics, provenance."
        ),
    )
    def _report(context: dg.AssetExecutionContext, storage: StorageResource) -> dg.MaterializeResult:
        instrument_id = context.partition_key
        directory = backtest_artifact_dir(storage, declaration.name, instrument_id)
        manifest = read_manifest(directory)
        frames = load_backtest_artifacts(directory)
        metrics, drawdowns = load_metrics(directory)
        inputs = ReportInputs(
            title=f"{declaration.name} on {instrument_id}",
            instrument_id=instrument_id,
            bar_type=manifest.bar_type,
            strategy=manifest.strategy_path,
            parameters=manifest.parameters(),
            window_start=manifest.window_start,
            window_end=manifest.window_end,
            equity=frames.equity,
            fills=frames.fills,
            trades=frames.trades,
            metrics=metrics,
            starting_cash=manifest.starting_cash,
            benchmarks=frames.benchmarks,
            index_instrument_id=manifest.index_instrument_id,
            config_hash=manifest.config_hash,
            code_version=manifest.code_version,
            data_version=manifest.data_version,
            provenance={
                "sessions": manifest.sessions,
                "bars": manifest.bars,
                "quality": manifest.quality.model_dump(),
                "catalog_files": [f.model_dump() for f in manifest.catalog_files],
            },
            drawdowns=drawdowns,
            adjustment=manifest.adjustment,
            corporate_actions=tuple((a.date, f"{a.kind} {a.detail}") for a in manifest.corporate_actions),
        )
        path = write_report(inputs, storage.reports_dir / declaration.name / f"{instrument_id}.html")
        context.log.info(f"report for {declaration.name} on {instrument_id}: {path}")
        return dg.MaterializeResult(
            metadata={
                "report": dg.MetadataValue.path(str(path)),
                "report_url": dg.MetadataValue.url(storage.report_url(path)),
                "size_bytes": path.stat().st_size,
                "config_hash": manifest.config_hash,
            }
        )

    return _report


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
    for declaration in declarations:
        for instrument_id in declaration.instruments:
            directory = backtest_artifact_dir(storage, declaration.name, instrument_id)
            if not (directory / "metrics.parquet").exists():
                continue
            metrics, _ = load_metrics(directory)
            label = f"{declaration.name} / {instrument_id}"
            rows.append({"backtest": declaration.name, "instrument_id": instrument_id, **metrics.as_dict()})
            curves[label] = load_backtest_artifacts(directory).equity.select("ts", "equity")
    if not rows:
        raise dg.Failure("no backtest has metrics yet; materialize the <name>_metrics assets first")
    if config.rank_by not in rows[0]:
        raise dg.Failure(f"rank_by {config.rank_by!r} is not a metric; choose one of {sorted(rows[0])}")
    path = write_comparison_report(
        rows, curves, storage.reports_dir / "comparison.html", rank_by=config.rank_by
    )
    context.log.info(f"comparison of {len(rows)} backtests: {path}")
    return dg.MaterializeResult(
        metadata={
            "backtests": len(rows),
            "rank_by": config.rank_by,
            "report": dg.MetadataValue.path(str(path)),
            "report_url": dg.MetadataValue.url(storage.report_url(path)),
        }
    )


def build_report_assets(
    declarations: list[BacktestDeclaration], instrument_partitions: dg.StaticPartitionsDefinition
) -> list[dg.AssetsDefinition]:
    return [build_report_asset(d, instrument_partitions) for d in declarations]
