"""`ntrader gateway | connect | catalog | fetch | strategies | backtest run | results | report`.

argparse only at the top; each command imports what it needs (Dagster only for `fetch`), so the CLI starts
fast."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ntrader_pipeline.settings import Settings, SettingsError, load_settings


def build_parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ntrader", description="ntrader_pipeline tools: embedded IB gateway, connection check, catalog."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "gateway",
        help="start the embedded IB gateway (options of `ntrader-gateway`: --port, --fault, --pacing …)",
        add_help=False,
    )
    ib = settings.ib
    connect = commands.add_parser(
        "connect", help="check an IB Gateway/TWS: server version and accounts, or what to fix"
    )
    connect.add_argument("--host", default=ib.host, help="default: IB_HOST or %(default)s")
    connect.add_argument("--port", type=int, default=ib.port, help="default: IB_PORT or %(default)s")
    connect.add_argument(
        "--client-id", type=int, default=ib.client_id, help="default: IB_CLIENT_ID or %(default)s"
    )
    connect.add_argument(
        "--timeout", type=float, default=ib.connect_timeout_s, help="handshake bound in seconds (%(default)s)"
    )
    connect.add_argument(
        "--check-data",
        metavar="IDS",
        default="",
        help="also request one daily bar per instrument (comma-separated SYMBOL.PRIMARY_EXCHANGE, e.g. "
        "SPY.ARCA,ILLQ.NASDAQ) and report the market-data permissions IB grants for each",
    )
    catalog = commands.add_parser(
        "catalog", help="inventory the catalog: instruments, bar types, sessions present / empty / missing"
    )
    catalog.add_argument("--path", type=Path, default=None, help="catalog root (default: NTRADER_CATALOG)")
    catalog.add_argument("--start", help="first session to check for gaps (default: first stored)")
    catalog.add_argument("--end", help="last session to check for gaps (default: last stored)")
    catalog.add_argument("--json", action="store_true", help="print JSON instead of a table")
    catalog.add_argument(
        "--verify",
        action="store_true",
        help="open every file: list unreadable, foreign and missing ones with the remedy (exit 1 if any)",
    )
    catalog.add_argument(
        "--convert",
        action="store_true",
        help="merge bar files of the one-file-per-session layout into month files (idempotent; each "
        "session file is deleted only after its rows are found in its month file), then verify",
    )
    _add_research_commands(commands, settings)
    return parser


def _add_research_commands(commands: argparse._SubParsersAction, settings: Settings) -> None:
    fetch = commands.add_parser(
        "fetch",
        help="fetch bars through Dagster (runs on DAGSTER_HOME's instance): one run per instrument over the "
        "months of --start..--end, narrowed to those sessions",
    )
    fetch.add_argument("--instruments", required=True, help="comma-separated ids, e.g. SPY.ARCA,QQQ.NASDAQ")
    fetch.add_argument("--start", required=True, help="first session (YYYY-MM-DD)")
    fetch.add_argument("--end", required=True, help="last session (YYYY-MM-DD)")
    fetch.add_argument(
        "--bar-spec", action="append", help="e.g. 1-MINUTE-LAST (repeatable; default: the universe's)"
    )
    fetch.add_argument("--verbose", action="store_true", help="Dagster's full event stream on the terminal")
    strategies = commands.add_parser("strategies", help="strategies with their parameters and defaults")
    strategies.add_argument(
        "strategy", nargs="*", help="also describe these (import path package.module:Class)"
    )
    backtest = commands.add_parser("backtest", help="run an ad-hoc backtest on catalog bars")
    run = backtest.add_subparsers(dest="backtest_command", required=True, metavar="COMMAND").add_parser(
        "run", help="one strategy on one instrument over a window; writes artefacts, metrics and a report"
    )
    run.add_argument("--strategy", required=True, help="a built-in name or package.module:Class")
    run.add_argument("--instrument", required=True, help="instrument id, e.g. SPY.ARCA")
    run.add_argument("--start", required=True, help="first session (YYYY-MM-DD)")
    run.add_argument("--end", required=True, help="last session (YYYY-MM-DD)")
    run.add_argument("--param", action="append", default=[], help="strategy parameter key=value (repeatable)")
    run.add_argument("--bar-spec", default="1-MINUTE-LAST", help="bars to run on (%(default)s)")
    run.add_argument("--cash", type=float, default=100_000.0, help="starting cash (%(default)s)")
    run.add_argument("--index", help="benchmark index instrument (default: the instrument itself)")
    run.add_argument("--name", help="name of the run's artefacts and report (default: adhoc_<strategy>)")
    commands.add_parser("results", help="stored backtests with headline metrics")
    report = commands.add_parser("report", help="one backtest's metrics summary and report path")
    report.add_argument("name", help="backtest name, e.g. sma_cross")
    report.add_argument("instrument", help="instrument id, e.g. SPY.ARCA")


def _run_research(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "fetch":
        from ntrader_pipeline.cli.fetch import run_fetch

        instruments = [i.strip() for i in args.instruments.split(",") if i.strip()]
        return run_fetch(settings, instruments, args.start, args.end, args.bar_spec, verbose=args.verbose)
    from ntrader_pipeline.backtest.declarations import BacktestDeclarationError
    from ntrader_pipeline.cli import research
    from ntrader_pipeline.markets.universe import load_universe

    if args.command == "strategies":
        return research.run_strategies(settings, args.strategy)
    if args.command == "results":
        return research.run_results(settings)
    if args.command == "report":
        return research.run_report(settings, args.name, args.instrument)
    try:
        declaration = research.adhoc_declaration(
            load_universe(settings.ntrader.universe),
            args.strategy,
            args.instrument,
            args.start,
            args.end,
            research.parse_params(args.param),
            name=args.name,
            bar_spec=args.bar_spec,
            starting_cash=args.cash,
            index_instrument=args.index,
        )
    except (BacktestDeclarationError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    return research.run_adhoc_backtest(settings, declaration, args.instrument)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "gateway":
        from ntrader_pipeline.gateway.__main__ import main as gateway_main

        return gateway_main(argv[1:])
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    args = build_parser(settings).parse_args(argv)
    if args.command == "connect":
        from ntrader_pipeline.cli.connect import run_connect

        check = [part for part in args.check_data.split(",") if part.strip()]
        return run_connect(args.host, args.port, args.client_id, args.timeout, check_data=check)
    if args.command in ("fetch", "strategies", "backtest", "results", "report"):
        return _run_research(args, settings)
    from ntrader_pipeline.cli.inventory import run_catalog

    path = args.path or settings.ntrader.catalog
    return run_catalog(
        path,
        args.start,
        args.end,
        as_json=args.json,
        universe_path=settings.ntrader.universe,
        verify=args.verify or args.convert,
        convert=args.convert,
    )


if __name__ == "__main__":
    sys.exit(main())
