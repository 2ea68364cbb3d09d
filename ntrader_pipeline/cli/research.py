"""`ntrader strategies | backtest run | results | report`: quick research on catalog bars, on the same
domain code as the declared backtests (quality gate, engine, artefacts, metrics, report), without Dagster."""

from __future__ import annotations

import math
import re
import typing
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import yaml
from nautilus_trader.config import StrategyConfig
from rich.table import Table

from ntrader_pipeline.analytics.backtest_metrics import write_backtest_metrics
from ntrader_pipeline.backtest.declarations import (
    BacktestDeclaration,
    declaration_from,
    load_declarations,
)
from ntrader_pipeline.backtest.run import BacktestInputError, run_declared_backtest
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.cli.console import console
from ntrader_pipeline.markets.bar_specs import bars_asset_name
from ntrader_pipeline.markets.universe import Universe, load_universe
from ntrader_pipeline.reports.assets import ASSETS_DIR_NAME
from ntrader_pipeline.reports.backtest_report import write_backtest_report
from ntrader_pipeline.results import ResultsNotFoundError, list_backtests, load_backtest
from ntrader_pipeline.settings import Settings
from ntrader_pipeline.strategies.registry import BUILTIN_STRATEGIES, StrategyLookupError, resolve_strategy

_BASE_FIELDS = {f.name for f in msgspec.structs.fields(StrategyConfig)}
_SET_PER_RUN = {"instrument_id", "bar_type"}  # filled in for each instrument, never a parameter


def strategy_parameters(strategy: str) -> list[tuple[str, str, str]]:
    """(name, type, default) of the parameters a strategy's config adds to Nautilus' StrategyConfig."""
    classes = resolve_strategy(strategy)
    rows = []
    for field in msgspec.structs.fields(classes.config):
        if field.name in _BASE_FIELDS or field.name in _SET_PER_RUN:
            continue
        default = "required" if field.required else _default_text(field.default)
        rows.append((field.name, _type_name(field.type), default))
    return rows


def _type_name(annotation: object) -> str:
    """`Annotated[int, Meta(gt=0)]` → `int > 0`; `Decimal | None` as written."""
    if typing.get_origin(annotation) is typing.Annotated:
        base, *metas = typing.get_args(annotation)
        bounds = [
            f"{symbol} {getattr(meta, name)}"
            for meta in metas
            for name, symbol in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="))
            if getattr(meta, name, None) is not None
        ]
        return " ".join([_type_name(base), *bounds])
    text = getattr(annotation, "__name__", None) or str(annotation)
    return text.replace("decimal.", "")


def _default_text(value: object) -> str:
    return str(value) if isinstance(value, Decimal) else repr(value)


def run_strategies(settings: Settings, extra: list[str]) -> int:
    """Built-in strategies, those the backtests file names by import path, and any given ones."""
    names = list(BUILTIN_STRATEGIES)
    try:
        universe = load_universe(settings.ntrader.universe)
        names += [d.strategy for d in load_declarations(settings.ntrader.backtests, universe)]
    except (OSError, ValueError) as exc:
        console.print(f"[yellow]backtests file not read ({exc}); listing the built-in strategies[/]")
    names += extra
    for name in dict.fromkeys(names):
        try:
            rows = strategy_parameters(name)
        except StrategyLookupError as exc:
            console.print(f"[red]{name}[/]: {exc}")
            return 2
        table = Table(title=name, caption=BUILTIN_STRATEGIES.get(name, name), title_justify="left")
        for column in ("parameter", "type", "default"):
            table.add_column(column)
        for row in rows:
            table.add_row(*row)
        console.print(table)
    return 0


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """`k=v` pairs; values read as YAML scalars (10 → int, 0.5 → float, true → bool, else text)."""
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--param {pair!r} is not key=value (e.g. --param fast_period=5)")
        values[key.strip()] = yaml.safe_load(raw)
    return values


def adhoc_declaration(
    universe: Universe,
    strategy: str,
    instrument_id: str,
    start: str,
    end: str,
    parameters: dict[str, Any],
    *,
    name: str | None = None,
    bar_spec: str = "1-MINUTE-LAST",
    starting_cash: float = 100_000.0,
    index_instrument: str | None = None,
) -> BacktestDeclaration:
    """A one-off declaration, validated like the backtests file (same messages, `command line` as file)."""
    short = strategy if strategy in BUILTIN_STRATEGIES else strategy.rpartition(":")[2]
    name = name or "adhoc_" + re.sub(r"(?<!^)(?=[A-Z])", "_", short).lower()
    values: dict[str, Any] = {
        "strategy": strategy,
        "parameters": parameters,
        "instruments": [instrument_id],
        "bar_spec": bar_spec,
        "window": {"start": start, "end": end},
        "starting_cash": starting_cash,
        "index_instrument": index_instrument or instrument_id,
    }
    return declaration_from("command line", name, values, universe)


def run_adhoc_backtest(settings: Settings, declaration: BacktestDeclaration, instrument_id: str) -> int:
    store = CatalogStore(settings.ntrader.catalog)
    spec = declaration.spec
    window = declaration.window
    fetch = f"{bars_asset_name(spec)} (`ntrader fetch --instruments {instrument_id} --start {window.start} "
    fetch += f"--end {window.end} --bar-spec {spec}`)"
    with console.status(f"backtest {declaration.name} on {instrument_id} ({window.start}..{window.end})"):
        try:
            run = run_declared_backtest(declaration, instrument_id, store, settings.ntrader.artifacts, fetch)
        except BacktestInputError as exc:
            console.print(f"[red]{exc}[/]")
            return 1
        metrics, _ = write_backtest_metrics(run.directory)
        report = write_backtest_report(
            run.directory,
            f"{declaration.name} on {instrument_id}",
            settings.ntrader.reports / declaration.name / f"{instrument_id}.html",
            assets_dir=settings.ntrader.reports / ASSETS_DIR_NAME,
        )
    _print_summary(declaration.name, instrument_id, metrics.as_dict(), report, run.directory)
    return 0


def run_results(settings: Settings) -> int:
    table = list_backtests(artifacts=settings.ntrader.artifacts)
    if table.is_empty():
        console.print(f"no backtests with metrics under {settings.ntrader.artifacts}; run `make demo`, "
                      "`ntrader backtest run …` or materialize a <name>_metrics asset")  # fmt: skip
        return 0
    view = Table(title=f"backtests in {settings.ntrader.artifacts}", title_justify="left")
    for column in ("backtest", "instrument", "total return", "CAGR", "Sharpe", "max DD", "trades", "window"):
        view.add_column(column, justify="right" if column not in ("backtest", "instrument") else "left")
    for row in table.iter_rows(named=True):
        view.add_row(
            row["backtest"],
            row["instrument_id"],
            _percent(row["total_return"]),
            _percent(row["cagr"]),
            _number(row["sharpe"]),
            _percent(row["max_drawdown"]),
            str(row["trade_count"]),
            f"{row['window_start']}..{row['window_end']}",
        )
    console.print(view)
    return 0


def run_report(settings: Settings, name: str, instrument_id: str) -> int:
    try:
        run = load_backtest(name, instrument_id, artifacts=settings.ntrader.artifacts)
    except ResultsNotFoundError as exc:
        console.print(f"[red]{exc}[/]")
        return 1
    if run.metrics is None:
        console.print(f"[red]{name} on {instrument_id} has no metrics yet; materialize {name}_metrics[/]")
        return 1
    report = settings.ntrader.reports / name / f"{instrument_id}.html"
    _print_summary(
        name, instrument_id, run.metrics.as_dict(), report if report.exists() else None, run.directory
    )
    return 0


def _print_summary(
    name: str, instrument_id: str, metrics: dict[str, Any], report: Path | None, directory: Path
) -> None:
    table = Table(title=f"{name} on {instrument_id}", title_justify="left", show_header=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [
        ("total return", _percent(metrics["total_return"])),
        ("CAGR (sessions / 252)", _percent(metrics["cagr"])),
        ("Sharpe (daily, annualized)", _number(metrics["sharpe"])),
        ("max drawdown", _percent(metrics["max_drawdown"])),
        ("trades", str(metrics["trade_count"])),
        ("vs benchmark total return", _percent(metrics.get("benchmark_total_return"))),
    ]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"artefacts: {directory}")
    console.print(
        f"report:    {report}" if report else "report:    not written yet (materialize the report asset)"
    )


def _percent(value: float | None) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.2%}"


def _number(value: float | None) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.2f}"
