"""`ntrader connect`: handshake with a gateway and report what it says, or a list of what to check."""

from __future__ import annotations

import socket
import sys

from ntrader_pipeline.ib.client import IBConnection
from ntrader_pipeline.ingest.errors import GatewayUnavailableError
from ntrader_pipeline.settings import IBSettings

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


def run_connect(host: str, port: int, client_id: int, timeout_s: float) -> int:
    settings = IBSettings(host=host, port=port, client_id=client_id, connect_timeout_s=timeout_s)
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
    finally:
        connection.close()
    print(f"connected to {host}:{port} as client id {client_id}")
    print(f"server version: {info.server_version}")
    print(f"accounts: {', '.join(info.accounts) or '(none reported)'}")
    return 0


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
