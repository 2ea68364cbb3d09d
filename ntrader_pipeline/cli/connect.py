"""`ntrader connect`: handshake with a gateway and report what it says, or a list of what to check."""

from __future__ import annotations

import datetime as dt
import socket
import sys
from collections.abc import Callable, Sequence

from ntrader_pipeline.ib.client import IBConnection
from ntrader_pipeline.ib.codes import is_no_data, is_notice, is_permission_error, permission_message
from ntrader_pipeline.ingest.errors import FetchError, GatewayUnavailableError
from ntrader_pipeline.markets.bar_specs import BarSpec
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline.markets.universe import InstrumentSpec
from ntrader_pipeline.settings import IBSettings

PERMISSIONS_MISSING = 3  # exit code of `--check-data` when IB refused data for a symbol

NOTHING_LISTENING = [
    "Start IB Gateway or TWS and log in (or `ntrader gateway --port PORT` for the embedded one).",
    "Check the port: IB Gateway live 4001 / paper 4002, TWS live 7496 / paper 7497 (IB_PORT).",
    "Check the host (IB_HOST); for a remote gateway, a firewall may block the port.",
]
NO_HANDSHAKE = [
    "Enable the API: Global Configuration → API → Settings → 'Enable ActiveX and Socket Clients'.",
    "Another client may already use this client id: pick another with --client-id (IB_CLIENT_ID).",
    "Add this machine to 'Trusted IPs' in the API settings, or accept the incoming-connection prompt.",
    "The gateway may still be logging in or showing a dialog: finish the login and retry.",
    "Something else may be listening on this port (not an IB gateway).",
]


def run_connect(
    host: str,
    port: int,
    client_id: int,
    timeout_s: float,
    check_data: Sequence[str] = (),
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> int:
    settings = IBSettings(
        host=host, port=port, client_id=client_id, connect_timeout_s=timeout_s, request_timeout_s=timeout_s
    )
    connection = IBConnection(settings)
    try:
        connection.connect()
    except GatewayUnavailableError as exc:
        _troubleshoot(
            str(exc), NOTHING_LISTENING if _nothing_listening(host, port, timeout_s) else NO_HANDSHAKE
        )
        return 1
    try:
        info = connection.server_info()
        print(f"connected to {host}:{port} as client id {client_id}")
        print(f"server version: {info.server_version}")
        print(f"accounts: {', '.join(info.accounts) or '(none reported)'}")
        if not check_data:
            return 0
        print("market data (one daily TRADES bar of the last closed session per symbol):")
        refused = [symbol for symbol in check_data if not _check_symbol(connection, symbol, now())]
    finally:
        connection.close()
    if refused:
        print(f"no market data for {', '.join(refused)}: see the lines above for what to check")
        return PERMISSIONS_MISSING
    return 0


def _instrument(text: str) -> InstrumentSpec:
    """`SPY.ARCA` → a stock on SMART with primary exchange ARCA."""
    symbol, _, primary = text.strip().upper().rpartition(".")
    if not symbol or not primary:
        raise ValueError(f"{text!r}: give SYMBOL.PRIMARY_EXCHANGE, e.g. SPY.ARCA or ILLQ.NASDAQ")
    return InstrumentSpec(symbol=symbol, primary_exchange=primary)


def _check_symbol(connection: IBConnection, text: str, now: dt.datetime) -> bool:
    """Print one line for the symbol: ok, delayed, no data, unknown contract, or IB's refusal and what to
    check. False when IB refused the data or does not know the contract."""
    try:
        spec = _instrument(text)
        connection.fetch_instrument(spec)
    except (ValueError, FetchError) as exc:
        print(f"  {text}: UNKNOWN CONTRACT — {exc}")
        return False
    closed = [s for s in sessions_between(now.date() - dt.timedelta(days=10), now.date()) if s.close <= now]
    last = closed[-1]
    bars, errors = connection.fetch_bars_as_asked(
        spec, BarSpec.parse("1-DAY-LAST"), last.close.astimezone(dt.UTC).replace(tzinfo=None), "1 D"
    )
    refused = next((e for e in errors if is_permission_error(e)), None)
    if refused is not None:
        message = permission_message(spec.instrument_id, "TRADES", refused)
        print(f"  {spec.instrument_id}: NO PERMISSION — {message}")
        return False
    notes = [f"IB notice {e.code}: {e.text}" for e in errors if is_notice(e)]
    if bars:
        note = f" ({'; '.join(notes)})" if notes else ""
        print(f"  {spec.instrument_id}: ok — {len(bars)} bar for {last.key}, close {bars[-1].close}{note}")
        return True
    if any(is_no_data(e) for e in errors):
        print(
            f"  {spec.instrument_id}: permitted, but IB has no data for {last.key} (not listed yet or halted)"
        )
        return True
    said = "; ".join(str(e) for e in errors) or "no answer"
    print(f"  {spec.instrument_id}: UNKNOWN — no bar for {last.key}: {said}")
    return True


def _nothing_listening(host: str, port: int, timeout_s: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return False
    except OSError:
        return True


def _troubleshoot(error: str, steps: list[str]) -> None:
    print(f"cannot connect: {error}", file=sys.stderr)
    print("check:", file=sys.stderr)
    for number, step in enumerate(steps, 1):
        print(f"  {number}. {step}", file=sys.stderr)
