"""A declared backtest's chain for one instrument: the data version of its inputs, the Nautilus run, its
metrics and its HTML report; and the comparison of every declared backtest."""

import hashlib
import time
from pathlib import Path

import polars as pl

from ntrader_pipeline.analytics import load_metrics
from ntrader_pipeline.analytics.backtest_metrics import write_backtest_metrics
from ntrader_pipeline.app.locations import Locations
from ntrader_pipeline.app.outcomes import Link, Metadata, StepError, StepOutcome
from ntrader_pipeline.backtest.artifacts import load_backtest_artifacts
from ntrader_pipeline.backtest.declarations import BacktestDeclaration, Window
from ntrader_pipeline.backtest.manifest import read_manifest
from ntrader_pipeline.backtest.run import BacktestInputError, DeclaredRun, run_declared_backtest
from ntrader_pipeline.backtest.window_inputs import window_data_version
from ntrader_pipeline.markets.bar_specs import bars_asset_name
from ntrader_pipeline.markets.universe import Universe
from ntrader_pipeline.reports import write_comparison_report
from ntrader_pipeline.reports.backtest_report import write_backtest_report


def over_window(declaration: BacktestDeclaration, start: str | None, end: str | None) -> BacktestDeclaration:
    """The declaration over another window (a run's launchpad `start`/`end`), when it has one."""
    if start is None or end is None:
        return declaration
    return declaration.model_copy(update={"window": Window(start=start, end=end)})


def backtest_inputs_version(
    locations: Locations, declaration: BacktestDeclaration, instrument_id: str
) -> StepOutcome:
    """The data version of what the backtest reads over its window: per-session digests of its
    instrument's and benchmark index's bars, definitions and adjustment factors."""
    version, counts = window_data_version(locations.store, declaration, instrument_id)
    return StepOutcome(metadata={**counts, "data_version": version}, data_version=version)


def run_backtest(
    locations: Locations, declaration: BacktestDeclaration, instrument_id: str, universe: Universe
) -> StepOutcome:
    """Run the backtest on the instrument's stored bars and write its artefacts; the data version
    changes with its config, code and inputs."""
    started = time.monotonic()
    try:
        run = run_declared_backtest(
            declaration,
            instrument_id,
            locations.store,
            locations.backtests_dir,
            bars_asset_name(declaration.spec),
            max_missing_fraction=universe.max_missing_fractions,
        )
    except BacktestInputError as exc:
        raise StepError(str(exc)) from exc
    manifest = run.manifest
    output_version = hashlib.sha256(
        f"{manifest.config_hash}|{manifest.code_version}|{manifest.data_version}".encode()
    ).hexdigest()[:16]
    return StepOutcome(_run_metadata(run, time.monotonic() - started), data_version=output_version)


def _run_metadata(run: DeclaredRun, seconds: float) -> Metadata:
    manifest = run.manifest
    return {
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
        "backtest_seconds": round(seconds, 3),
        "config_hash": manifest.config_hash,
        "code_version": manifest.code_version,
        "data_version": manifest.data_version,
        "catalog_files": len(manifest.catalog_files),
        "artifacts": run.directory,
    }


def write_metrics(locations: Locations, backtest: str, instrument_id: str) -> StepOutcome:
    """Performance metrics of the stored run, saved beside its artefacts and returned as metadata."""
    directory = locations.artifact_dir(backtest, instrument_id)
    metrics, paths = write_backtest_metrics(directory)
    manifest = read_manifest(directory)
    return StepOutcome(
        metadata={
            **metrics.numeric(),
            "config_hash": manifest.config_hash,
            "data_version": manifest.data_version,
            **{name.replace(".", "_"): path for name, path in paths.items()},
        }
    )


def write_report(locations: Locations, backtest: str, instrument_id: str) -> StepOutcome:
    """The offline HTML report of the stored run and its metrics."""
    directory = locations.artifact_dir(backtest, instrument_id)
    path = write_backtest_report(
        directory,
        f"{backtest} on {instrument_id}",
        locations.reports_dir / backtest / f"{instrument_id}.html",
        assets_dir=locations.reports_assets_dir,
    )
    return StepOutcome(
        metadata={
            "report": path,
            "report_url": Link(locations.report_url(path)),
            "size_bytes": path.stat().st_size,
            "config_hash": read_manifest(directory).config_hash,
        }
    )


def compare_backtests(
    locations: Locations, declarations: list[BacktestDeclaration], rank_by: str
) -> StepOutcome:
    """Every declared backtest × instrument with metrics, side by side and ranked by `rank_by`."""
    rows: list[dict[str, object]] = []
    curves: dict[str, pl.DataFrame] = {}
    results: list[dict[str, object]] = []
    for declaration in declarations:
        for instrument_id in declaration.instruments:
            directory = locations.artifact_dir(declaration.name, instrument_id)
            if not (directory / "metrics.parquet").exists():
                continue
            metrics, _ = load_metrics(directory)
            label = f"{declaration.name} / {instrument_id}"
            rows.append({"backtest": declaration.name, "instrument_id": instrument_id, **metrics.as_dict()})
            curves[label] = load_backtest_artifacts(directory).equity.select("ts", "equity")
            results.append(_provenance(label, directory))
    if not rows:
        raise StepError("no backtest has metrics yet; materialize the <name>_metrics assets first")
    if rank_by not in rows[0]:
        raise StepError(f"rank_by {rank_by!r} is not a metric; choose one of {sorted(rows[0])}")
    path = write_comparison_report(
        rows,
        curves,
        locations.reports_dir / "comparison.html",
        rank_by=rank_by,
        assets_dir=locations.reports_assets_dir,
        provenance={"results": results},
    )
    return StepOutcome(
        metadata={
            "backtests": len(rows),
            "rank_by": rank_by,
            "report": path,
            "report_url": Link(locations.report_url(path)),
            "size_bytes": path.stat().st_size,
        }
    )


def _provenance(label: str, directory: Path) -> dict[str, object]:
    manifest = read_manifest(directory)
    return {
        "result": label,
        "sessions": manifest.sessions,
        "bars": manifest.bars,
        "config_hash": manifest.config_hash,
        "data_version": manifest.data_version or "",
    }
