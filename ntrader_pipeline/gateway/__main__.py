"""CLI: `python -m ntrader_pipeline.gateway --port 4002 [--port-file PATH] [--fault SPEC]... [--pacing]
[--synthetic-stocks N [--write-universe PATH]] [--no-latency | --latency-base-s S --latency-per-bar-s S]`.

Unlike the in-process `EmbeddedGateway`, the CLI gateway answers historical requests as slowly as IB
does by default (latency.py); `--no-latency` answers at once."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from ntrader_pipeline.gateway.faults import GatewayFaults
from ntrader_pipeline.gateway.latency import AnswerTimeModel
from ntrader_pipeline.gateway.messages import MAX_SUPPORTED_VERSION, MIN_SUPPORTED_VERSION
from ntrader_pipeline.gateway.realities import GatewayRealities
from ntrader_pipeline.gateway.server import DEFAULT_ACCOUNT, DEFAULT_HOST, LOGGER, GatewayServer
from ntrader_pipeline.gateway.universe import write_universe

DEFAULT_PORT = 4002  # IB Gateway's paper-trading port
# AnswerTimeModel field → (option, help): one table for the options and the model built from them
_ANSWER_TIME_FLAGS = {
    "base_s": ("--latency-base-s", "base answer time (default %(default)s s)"),
    "per_bar_s": (
        "--latency-per-bar-s",
        "answer time per bar sent (default %(default)s s: 0.6 s for a session of minute bars)",
    ),
    "throttle_free_open": (
        "--throttle-free-open",
        "open requests answered at full speed before the soft throttle (default %(default)s)",
    ),
    "throttle_step_s": (
        "--throttle-step-s",
        "added per open request beyond that, bars > 30 s (default %(default)s s)",
    ),
    "throttle_max_s": ("--throttle-max-s", "most the throttle adds to one answer (default %(default)s s)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ntrader_pipeline.gateway",
        description="Embedded IB gateway: speaks the TWS socket protocol and serves deterministic synthetic "
        "bars for NYSE sessions.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="loopback address to bind (default %(default)s)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="0 picks a free port (default %(default)s)"
    )
    parser.add_argument("--port-file", type=Path, help="write the bound port to this file once listening")
    parser.add_argument(
        "--server-version",
        type=int,
        help=f"force a server version ({MIN_SUPPORTED_VERSION}..{MAX_SUPPORTED_VERSION}); "
        "default: the highest the client allows",
    )
    parser.add_argument("--account", default=DEFAULT_ACCOUNT, help="managed account id (default %(default)s)")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="inject a fault, repeatable: SPY:short_bars=5, SPY@2024-01-05:error=162[:text], "
        "QQQ:high_below_low, SPY:pacing, SPY:no_data, SPY:connectivity=1100|1101|1102, SPY:drop, "
        "SPY:delay=2.5, SPY:malformed; add times=N (e.g. SPY:pacing,times=2) to apply it to the next N "
        "matching requests only",
    )
    parser.add_argument(
        "--pacing",
        action="store_true",
        help="enforce IB's historical-data pacing rules (162 for identical requests within 15 s, a 6th "
        "request per contract/tick type within 2 s, a 61st small-bar request within 10 min, >50 open)",
    )
    parser.add_argument(
        "--reality",
        action="append",
        default=[],
        metavar="SPEC",
        help="set a symbol's market reality, repeatable: ILLQ:no_trade_share=0.3, "
        "SPY:permission=no_permissions "
        "(no_permissions|not_subscribed|api_subscription|delayed_disabled|competing_session|delayed), "
        "QQQ:listed=2024-01-08, IWM:halt=2024-01-10@11:00+30, IWM:late_open=2024-01-11+15, "
        "IWM:split=2024-02-15@4, IWM:dividend=2024-03-14@0.25",
    )
    parser.add_argument(
        "--ideal",
        action="store_true",
        help="no default market realities (ILLQ becomes as ideal as the other symbols)",
    )
    _add_scale_arguments(parser)
    parser.add_argument("--log-level", default="INFO", help="stdlib logging level (default %(default)s)")
    return parser


def _add_scale_arguments(parser: argparse.ArgumentParser) -> None:
    """Universe size and IB's answer time (docs/reference/gateway-scale.md)."""
    model = AnswerTimeModel()
    parser.add_argument(
        "--synthetic-stocks",
        type=int,
        default=0,
        metavar="N",
        help="also list N generated stocks (deterministic tickers on NYSE/NASDAQ/ARCA with ISINs and "
        "synthetic bars); unknown symbols still get error 200",
    )
    parser.add_argument(
        "--write-universe",
        type=Path,
        metavar="PATH",
        help="write the universe file of the --synthetic-stocks for the code location (NTRADER_UNIVERSE)",
    )
    parser.add_argument(
        "--no-latency", action="store_true", help="answer historical requests at once (no answer-time model)"
    )
    for name, (flag, help_text) in _ANSWER_TIME_FLAGS.items():
        default = getattr(model, name)
        parser.add_argument(flag, type=type(default), default=default, help=help_text)


def answer_time_model(args: argparse.Namespace) -> AnswerTimeModel | None:
    """The CLI's answer-time model (None with --no-latency); a negative setting raises ValueError."""
    if args.no_latency:
        return None
    return AnswerTimeModel(
        **{name: getattr(args, _dest(flag)) for name, (flag, _) in _ANSWER_TIME_FLAGS.items()}
    )


def _dest(flag: str) -> str:
    """argparse's attribute name for a long option."""
    return flag.removeprefix("--").replace("-", "_")


def _write_port_file(path: Path, port: int) -> None:
    # write then rename, so a reader polling for the file never sees it half written
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(f"{port}\n")
    os.replace(temporary, path)


async def serve(
    args: argparse.Namespace, faults: GatewayFaults, realities: GatewayRealities | None = None
) -> None:
    server = GatewayServer(
        args.host,
        args.port,
        server_version=args.server_version,
        faults=faults,
        account=args.account,
        pacing=args.pacing,
        realities=realities,
        synthetic_stocks=args.synthetic_stocks,
        answer_time=answer_time_model(args),
    )
    if args.write_universe:
        write_universe(args.write_universe, args.synthetic_stocks)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"embedded IB gateway listening on {server.host}:{server.port}", flush=True)
    if args.port_file:
        _write_port_file(args.port_file, server.port)
    try:
        await stop.wait()
    finally:
        await server.stop()
        if args.port_file:
            args.port_file.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        faults = GatewayFaults.from_specs(args.fault)
        realities = GatewayRealities.from_specs(args.reality, defaults=not args.ideal)
        asyncio.run(serve(args, faults, realities))
    except ValueError as exc:  # bad --fault, --reality, --host, --server-version or scale setting
        parser.error(str(exc))
    except OSError as exc:
        LOGGER.error("cannot listen on %s:%s: %s", args.host, args.port, exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
