"""`ntrader gateway | connect | catalog`: argparse only, no Dagster (the CLI must start fast)."""

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
    return parser


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

        return run_connect(args.host, args.port, args.client_id, args.timeout)
    from ntrader_pipeline.cli.inventory import run_catalog

    path = args.path or settings.ntrader.catalog
    return run_catalog(
        path,
        args.start,
        args.end,
        as_json=args.json,
        universe_path=settings.ntrader.universe,
        verify=args.verify,
    )


if __name__ == "__main__":
    sys.exit(main())
