"""Results in Python: what the assets wrote, as polars frames, for notebooks and scripts.

    from ntrader_pipeline.results import list_backtests, load_backtest, load_bars

    list_backtests()                               # every stored backtest × instrument, headline metrics
    run = load_backtest("sma_cross", "SPY.ARCA")   # equity, fills, trades, metrics, drawdowns, manifest
    bars = load_bars("SPY.ARCA", "2024-01-02", "2024-01-31", bar_spec="1-MINUTE-LAST")
    sweep = load_sweep("sma_grid", "SPY.ARCA")     # every point's metrics, folds, out-of-sample curve
    events = load_corporate_events("ILLQ.NASDAQ")  # splits and dividends: ex-date, ratio, amount

The locations come from the same settings as the code location (NTRADER_ARTIFACTS, NTRADER_CATALOG,
NTRADER_UNIVERSE), or from the keyword arguments. Nothing here needs Dagster or a gateway.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ntrader_pipeline.analytics import METRICS_JSON, PerformanceMetrics, load_metrics
from ntrader_pipeline.backtest.artifacts import load_backtest_artifacts
from ntrader_pipeline.backtest.manifest import BacktestManifest, read_manifest
from ntrader_pipeline.backtest.run import artifact_directory
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.bar_specs import BarSpec, bars_asset_name
from ntrader_pipeline.markets.session_months import fetch_command
from ntrader_pipeline.markets.universe import load_universe
from ntrader_pipeline.settings import load_settings
from ntrader_pipeline.sweeps.results import RESULTS_PARQUET, SUMMARY_JSON, results_directory
from ntrader_pipeline.sweeps.walk_forward import FOLDS_PARQUET, OOS_EQUITY_PARQUET

HEADLINE_METRICS = ("total_return", "cagr", "sharpe", "max_drawdown", "trade_count", "benchmark_total_return")


class ResultsNotFoundError(LookupError):
    """A backtest or bars that are not stored (yet); the message says what to materialize."""


@dataclass(frozen=True)
class BacktestResults:
    """One stored backtest of one instrument: the frames and files its assets wrote."""

    name: str
    instrument_id: str
    directory: Path
    equity: pl.DataFrame
    fills: pl.DataFrame
    trades: pl.DataFrame
    benchmarks: pl.DataFrame | None
    metrics: PerformanceMetrics | None  # None until the `<name>_metrics` asset has run
    drawdowns: pl.DataFrame | None
    manifest: BacktestManifest


@dataclass(frozen=True)
class SweepResultsFrames:
    """One stored sweep of one instrument: the results table and, when declared, its walk-forward."""

    name: str
    instrument_id: str
    directory: Path
    points: pl.DataFrame  # one row per point: point, parameters, metrics
    summary: dict  # best point, results and sweep hashes, data version, overfitting statistics
    folds: pl.DataFrame | None
    out_of_sample_equity: pl.DataFrame | None


def load_sweep(name: str, instrument_id: str, *, artifacts: Path | str | None = None) -> SweepResultsFrames:
    directory = results_directory(_artifacts(artifacts), name, instrument_id)
    if not (directory / SUMMARY_JSON).exists():
        raise ResultsNotFoundError(
            f"no stored sweep {name!r} for {instrument_id} under {directory}; run its job first, e.g. "
            f"`dagster asset materialize -m ntrader_pipeline.definitions --select 'group:sweep_{name}' "
            f"--partition {instrument_id}`"
        )
    folds = directory / FOLDS_PARQUET
    equity = directory / OOS_EQUITY_PARQUET
    return SweepResultsFrames(
        name=name,
        instrument_id=instrument_id,
        directory=directory,
        points=pl.read_parquet(directory / RESULTS_PARQUET),
        summary=json.loads((directory / SUMMARY_JSON).read_text()),
        folds=pl.read_parquet(folds) if folds.exists() else None,
        out_of_sample_equity=pl.read_parquet(equity) if equity.exists() else None,
    )


def _artifacts(artifacts: Path | str | None) -> Path:
    return Path(artifacts) if artifacts is not None else load_settings().ntrader.artifacts


def load_backtest(name: str, instrument_id: str, *, artifacts: Path | str | None = None) -> BacktestResults:
    directory = artifact_directory(_artifacts(artifacts), name, instrument_id)
    if not (directory / "manifest.json").exists():
        raise ResultsNotFoundError(
            f"no stored backtest {name!r} for {instrument_id} under {directory.parent.parent}; materialize "
            f"`{name}_backtest` (partition {instrument_id}) and `{name}_metrics` first, e.g. "
            f"`dagster asset materialize -m ntrader_pipeline.definitions --select {name}_backtest,"
            f"{name}_metrics --partition {instrument_id}`"
        )
    frames = load_backtest_artifacts(directory)
    metrics, drawdowns = load_metrics(directory) if (directory / METRICS_JSON).exists() else (None, None)
    return BacktestResults(
        name=name,
        instrument_id=instrument_id,
        directory=directory,
        equity=frames.equity,
        fills=frames.fills,
        trades=frames.trades,
        benchmarks=frames.benchmarks,
        metrics=metrics,
        drawdowns=drawdowns,
        manifest=read_manifest(directory),
    )


def list_backtests(*, artifacts: Path | str | None = None) -> pl.DataFrame:
    """One row per stored backtest × instrument that has metrics, with the headline metrics and the
    config and data versions it ran with; sorted by backtest and instrument."""
    root = _artifacts(artifacts)
    rows = []
    for metrics_file in sorted(root.glob(f"*/*/{METRICS_JSON}")):
        directory = metrics_file.parent
        values = json.loads(metrics_file.read_text())
        manifest = read_manifest(directory)
        rows.append(
            {
                "backtest": directory.parent.name,
                "instrument_id": directory.name,
                **{name: values.get(name) for name in HEADLINE_METRICS},
                "window_start": manifest.window_start,
                "window_end": manifest.window_end,
                "config_hash": manifest.config_hash,
                "data_version": manifest.data_version,
                "directory": str(directory),
            }
        )
    schema = {
        "backtest": pl.String,
        "instrument_id": pl.String,
        **dict.fromkeys(HEADLINE_METRICS, pl.Float64),
    }
    frame = pl.DataFrame(rows, schema_overrides=schema) if rows else pl.DataFrame(schema=schema)
    return frame.with_columns(pl.col("trade_count").cast(pl.Int64))


def load_bars(
    instrument_id: str,
    start: str | dt.date,
    end: str | dt.date,
    *,
    bar_spec: str = "1-MINUTE-LAST",
    catalog: str | None = None,
    universe: Path | str | None = None,
) -> pl.DataFrame:
    """Stored bars of one instrument and bar spec over `start`..`end` (sessions of the instrument's
    calendar), columns ts_event, ts_init (UTC), open, high, low, close, volume. A session that is not
    stored raises, naming it and the command that fetches it; sessions IB had no data for are skipped."""
    settings = load_settings().ntrader
    store = CatalogStore(catalog if catalog is not None else settings.catalog)
    spec = BarSpec.parse(bar_spec)
    calendar = load_universe(universe or settings.universe).instrument(instrument_id).calendar
    bar_type = spec.bar_type(instrument_id)
    sessions = calendar.sessions_between(_date(start), _date(end))
    empty = set(store.empty_session_dates(bar_type))
    wanted = [s for s in sessions if s.date not in empty]
    stored = store.stored_session_dates(bar_type)
    missing = [s.key for s in wanted if s.date not in stored]
    if missing:
        first, last = missing[0], missing[-1]
        raise ResultsNotFoundError(
            f"{len(missing)} {bar_spec} session(s) of {instrument_id} are not in the catalog "
            f"{store.path}: {', '.join(missing[:10])}{' …' if len(missing) > 10 else ''}; fetch them with "
            f"`{fetch_command(bars_asset_name(spec), instrument_id, first, last)}`"
        )
    return store.read_bar_frame(bar_type, wanted)


def load_corporate_events(instrument_id: str, *, catalog: str | None = None) -> pl.DataFrame:
    """The instrument's corporate events (ex_date, kind, split_ratio, dividend, dividend_share and the
    evidence; see docs/concepts/back-adjustment.md), as the `adjustment_factors` asset stored them."""
    store = CatalogStore(catalog if catalog is not None else load_settings().ntrader.catalog)
    events = store.corporate_events(instrument_id)
    if events is None:
        raise ResultsNotFoundError(
            f"no corporate events of {instrument_id} are stored in {store.path}; materialize "
            f"`dagster asset materialize -m ntrader_pipeline.definitions --select adjustment_factors "
            f"--partition {instrument_id}` (it needs the daily bars and the universe's adjusted twin)"
        )
    return events


def _date(value: str | dt.date) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
