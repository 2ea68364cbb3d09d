"""One declared backtest on one instrument, from the catalog to its artefact directory.

Gate the window (instrument and index sessions stored and clean), run the strategy, build the
buy-and-hold benchmarks, record provenance, write everything. No Dagster here: the asset is a thin call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from nautilus_trader.model.data import Bar
from nautilus_trader.model.instruments import Instrument

from ntrader_pipeline.adjustments.apply import MissingFactorsError, adjust_bars, adjusted_instrument
from ntrader_pipeline.adjustments.factors import corporate_actions
from ntrader_pipeline.adjustments.modes import Adjustment
from ntrader_pipeline.backtest.artifacts import save_backtest_artifacts
from ntrader_pipeline.backtest.benchmarks import benchmarks_frame
from ntrader_pipeline.backtest.declarations import BacktestDeclaration
from ntrader_pipeline.backtest.engine import run_backtest
from ntrader_pipeline.backtest.manifest import (
    BacktestManifest,
    CorporateActionRecord,
    PositionSizingRecord,
    QualityRecord,
    write_manifest,
)
from ntrader_pipeline.backtest.result import BacktestResult
from ntrader_pipeline.backtest.versions import (
    CatalogFile,
    catalog_files,
    code_version,
    config_hash,
    data_version,
    strategy_code_hash,
)
from ntrader_pipeline.catalog.file_cache import IdentityCache, directory_identity, is_local, settled
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE, TradingSession, sessions_between
from ntrader_pipeline.quality.gate import require_clean_sessions
from ntrader_pipeline.quality.session_quality import SessionQuality


class BacktestInputError(ValueError):
    """The catalog cannot feed this backtest (no sessions, missing instrument, unclean sessions)."""


@dataclass(frozen=True)
class DeclaredRun:
    result: BacktestResult
    benchmarks: pl.DataFrame
    manifest: BacktestManifest
    directory: Path
    paths: dict[str, Path]


def artifact_directory(backtests_dir: Path, backtest: str, instrument_id: str) -> Path:
    return backtests_dir / backtest / instrument_id


def effective_config(declaration: BacktestDeclaration, instrument_id: str) -> dict[str, object]:
    """The declaration as run for one instrument (what `config_hash` hashes)."""
    values = declaration.model_dump(mode="json", exclude={"instruments"})
    return {**values, "instrument_id": instrument_id}


def declared_code_version(declaration: BacktestDeclaration) -> str:
    """Package code version plus the strategy module's hash (a user strategy may live outside)."""
    return f"{code_version()}+s{strategy_code_hash(declaration.strategy_classes().strategy)}"


@dataclass(frozen=True)
class BacktestInputs:
    """What a declared backtest reads from the catalog for one instrument, gated and adjusted: everything
    but the strategy's parameters, so a sweep reuses it across points."""

    instrument_id: str
    instrument: Instrument
    bars: list[Bar]
    sessions: list[TradingSession]
    checked: list[SessionQuality]
    # The benchmark index's closes (ts, close); None when the index is the instrument itself.
    index_bars: pl.DataFrame | None
    files: list[CatalogFile]
    data_version: str
    actions: list[CorporateActionRecord]


def load_backtest_inputs(
    declaration: BacktestDeclaration,
    instrument_id: str,
    store: CatalogStore,
    asset_hint: str,
    *,
    max_missing_fraction: Mapping[str, float | None] | None = None,
) -> BacktestInputs:
    """
    Gate the window (instrument and index sessions stored and clean) and read what the backtest needs.

    Raises
    ------
    BacktestInputError
        If the window has no sessions, the instrument is not in the catalog, or a session of the
        instrument or the index is missing or fails the quality rules (the message names them).

    """
    sessions = _window_sessions(declaration)
    checked = _gate_sessions(
        declaration, instrument_id, store, sessions, asset_hint, max_missing_fraction or {}
    )
    instrument = store.instrument(instrument_id)
    if instrument is None:
        raise BacktestInputError(
            f"backtest {declaration.name}: instrument {instrument_id} is not in the catalog; "
            f"materialize {asset_hint} for it"
        )
    bars = _adjusted_bars(declaration, instrument_id, store, sessions)
    index_bars = _index_closes(declaration, instrument_id, store, sessions)
    files = _input_files(declaration, instrument_id, store, sessions)
    if declaration.adjustment is not Adjustment.NONE:
        instrument = adjusted_instrument(instrument)  # the adjusted bars' full precision
    return BacktestInputs(
        instrument_id=instrument_id,
        instrument=instrument,
        sessions=sessions,
        checked=checked,
        actions=_window_actions(store.corporate_events(instrument_id), checked, sessions),
        bars=bars,
        index_bars=index_bars,
        files=files,
        data_version=data_version(files),
    )


def _window_sessions(declaration: BacktestDeclaration) -> list[TradingSession]:
    sessions = sessions_between(declaration.window.start, declaration.window.end)
    if not sessions:
        raise BacktestInputError(
            f"backtest {declaration.name}: no NYSE sessions between {declaration.window.start} and "
            f"{declaration.window.end}; widen the window"
        )
    return sessions


def _gate_sessions(
    declaration: BacktestDeclaration,
    instrument_id: str,
    store: CatalogStore,
    sessions: list[TradingSession],
    asset_hint: str,
    thresholds: Mapping[str, float | None],
) -> list[SessionQuality]:
    """Require the instrument's sessions and the benchmark index's stored and clean; the instrument's
    quality records (its definition is required too: the backtest trades it)."""
    checked: dict[str, list[SessionQuality]] = {}
    for needed in dict.fromkeys([instrument_id, declaration.index_instrument]):
        try:
            checked[needed] = require_clean_sessions(
                store,
                needed,
                declaration.spec,
                sessions,
                asset_hint=asset_hint,
                require_definition=needed == instrument_id,
                max_missing_fraction=thresholds.get(needed),
            )
        except ValueError as exc:
            role = "" if needed == instrument_id else f"benchmark index {needed}: "
            raise BacktestInputError(f"backtest {declaration.name}: {role}{exc}") from exc
    return checked[instrument_id]


def _adjusted_bars(
    declaration: BacktestDeclaration, instrument_id: str, store: CatalogStore, sessions: list[TradingSession]
) -> list[Bar]:
    """The window's bars under the declared adjustment; a missing factor names what to materialize."""
    factors = store.adjustment_factors(instrument_id)
    bars = _read_bars(store, declaration.spec.bar_type(instrument_id), sessions)
    try:
        return adjust_bars(bars, factors, declaration.adjustment)
    except MissingFactorsError as exc:
        raise BacktestInputError(
            f"backtest {declaration.name}: adjustment {declaration.adjustment.value} of {instrument_id}: "
            f"{exc}. "
            f"Materialize the daily bars of {instrument_id} and its adjusted series for the window, then "
            "adjustment_factors for the instrument, and rerun."
        ) from exc


def _index_closes(
    declaration: BacktestDeclaration, instrument_id: str, store: CatalogStore, sessions: list[TradingSession]
) -> pl.DataFrame | None:
    """The benchmark index's (ts, close); None when the index is the instrument itself."""
    index_id = declaration.index_instrument
    if index_id == instrument_id:
        return None
    frame = store.read_bar_frame(declaration.spec.bar_type(index_id), sessions)
    return frame.select(pl.col("ts_init").alias("ts"), "close")


def _input_files(
    declaration: BacktestDeclaration, instrument_id: str, store: CatalogStore, sessions: list[TradingSession]
) -> list[CatalogFile]:
    """Every catalog file the backtest read: what its data version hashes."""
    spec = declaration.spec
    return catalog_files(
        store.path,
        [
            *store.bar_files(spec.bar_type(instrument_id), sessions),
            *store.bar_files(spec.bar_type(declaration.index_instrument), sessions),
            *store.definition_files(instrument_id),
            *_factor_files(store, instrument_id, declaration),
        ],
    )


def run_declared_backtest(
    declaration: BacktestDeclaration,
    instrument_id: str,
    store: CatalogStore,
    backtests_dir: Path,
    asset_hint: str,
    *,
    max_missing_fraction: Mapping[str, float | None] | None = None,
) -> DeclaredRun:
    """
    Run `declaration` for `instrument_id` and write its artefacts under
    `<backtests_dir>/<backtest>/<instrument_id>/`.

    Raises
    ------
    BacktestInputError
        As `load_backtest_inputs`.

    """
    inputs = load_backtest_inputs(
        declaration, instrument_id, store, asset_hint, max_missing_fraction=max_missing_fraction
    )
    return run_on_inputs(
        declaration, inputs, artifact_directory(backtests_dir, declaration.name, instrument_id)
    )


def run_strategy(declaration: BacktestDeclaration, inputs: BacktestInputs) -> BacktestResult:
    """The engine run alone: the declaration's strategy, parameters, cash, costs and caps on the bars."""
    classes = declaration.strategy_classes()
    values = declaration.strategy_values(classes, inputs.instrument_id)
    return run_backtest(
        inputs.instrument,
        inputs.bars,
        lambda _bar_type: classes.build(values),
        declaration.starting_cash,
        declaration.costs,
        declaration.risk,
    )


def run_on_inputs(declaration: BacktestDeclaration, inputs: BacktestInputs, directory: Path) -> DeclaredRun:
    """Run the strategy on loaded inputs, build the benchmarks and manifest, write the artefacts."""
    instrument_id = inputs.instrument_id
    sessions = inputs.sessions
    result = run_strategy(declaration, inputs)
    # The instrument's own closes are in the equity frame already.
    index_bars = inputs.index_bars if inputs.index_bars is not None else result.equity.select("ts", "close")
    fee_model = declaration.costs.fee_model()
    benchmarks = benchmarks_frame(
        result.equity["ts"], result.equity["close"], index_bars, result.starting_cash, fee_model.commission
    )
    classes = declaration.strategy_classes()
    values = declaration.strategy_values(classes, instrument_id)
    manifest = BacktestManifest(
        backtest=declaration.name,
        strategy=declaration.strategy,
        strategy_path=classes.strategy_path,
        strategy_parameters={k: v for k, v in values.items() if k not in ("instrument_id", "bar_type")},
        instrument_id=instrument_id,
        bar_type=result.bar_type,
        window_start=sessions[0].date,
        window_end=sessions[-1].date,
        sessions=len(sessions),
        bars=len(inputs.bars),
        starting_cash=result.starting_cash,
        sizing=PositionSizingRecord(
            method=declaration.sizing.method.value, size=float(declaration.sizing.size)
        ),
        costs=declaration.costs,
        risk=declaration.risk,
        index_instrument_id=declaration.index_instrument,
        config_hash=config_hash(effective_config(declaration, instrument_id)),
        code_version=declared_code_version(declaration),
        data_version=inputs.data_version,
        catalog_files=inputs.files,
        quality=QualityRecord(
            sessions_checked=len(sessions),
            empty_sessions=len(sessions) - _sessions_with_bars(result),
            sessions_with_gaps=sum(1 for r in inputs.checked if r.missing_bars and r.bar_count),
            missing_bars=sum(r.missing_bars for r in inputs.checked if r.bar_count),
        ),
        orders_denied=result.orders_denied,
        adjustment=declaration.adjustment.value,
        corporate_actions=inputs.actions,
    )
    paths = save_backtest_artifacts(result, directory, benchmarks)
    paths["manifest"] = write_manifest(manifest, directory)
    return DeclaredRun(result, benchmarks, manifest, directory, paths)


def _window_actions(
    events: pl.DataFrame | None, checked: list[SessionQuality], sessions: list[TradingSession]
) -> list[CorporateActionRecord]:
    """Splits and dividends in the window from the stored corporate events, plus split-like jumps the
    quality rule saw on other dates (the bars hold a jump there, whatever the events say)."""
    first, last = sessions[0].date, sessions[-1].date
    records = [
        CorporateActionRecord(date=a.date, kind=a.kind, detail=a.detail)
        for a in (corporate_actions(events) if events is not None else [])
        if first <= a.date <= last
    ]
    known = {r.date for r in records}
    records += [
        CorporateActionRecord(date=r.session, kind="possible split", detail=r.split_ratio)
        for r in checked
        if r.split_ratio and r.session not in known
    ]
    return sorted(records, key=lambda r: r.date)


def _factor_files(store: CatalogStore, instrument_id: str, declaration: BacktestDeclaration) -> list[Path]:
    """The factor file an adjusted backtest read: part of its data version."""
    if declaration.adjustment is Adjustment.NONE:
        return []
    return [path] if (path := store.adjustment_file(instrument_id)).exists() else []


# Decoded bars of unchanged files (Bars are immutable): a rerun in the same process decodes them once.
_BARS = IdentityCache(maxsize=2)


def _read_bars(store: CatalogStore, bar_type: object, sessions: list[TradingSession]) -> list[Bar]:
    """`store.read_bars`, cached by the identity of every file in the bar type's directory."""
    if not is_local(store.path):
        return store.read_bars(bar_type, sessions)
    files = directory_identity(store.bar_directory(bar_type))
    key = (str(store.path.resolve()), str(bar_type), tuple(sessions), files)
    bars = _BARS.get_or_compute(key, lambda: store.read_bars(bar_type, sessions), cacheable=settled(files))
    return list(bars)


def _sessions_with_bars(result: BacktestResult) -> int:
    dates = result.equity["ts"].dt.convert_time_zone(EXCHANGE_TIMEZONE).dt.date()
    return dates.n_unique()
