"""The asyncio gateway server: listens on loopback and hands each client to a `ClientConnection`."""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import logging
from collections.abc import Mapping

from ntrader_pipeline.gateway import messages
from ntrader_pipeline.gateway.connection import ClientConnection, Clock, GatewayContext, utc_now
from ntrader_pipeline.gateway.contracts import ListedContract
from ntrader_pipeline.gateway.faults import GatewayFaults
from ntrader_pipeline.gateway.latency import AnswerTimeModel
from ntrader_pipeline.gateway.pacing import HistoricalPacing
from ntrader_pipeline.gateway.realities import GatewayRealities
from ntrader_pipeline.gateway.request_log import RequestLog
from ntrader_pipeline.gateway.universe import listing
from ntrader_pipeline.markets.sessions import nyse_calendar

LOGGER = logging.getLogger("ntrader_pipeline.gateway")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_ACCOUNT = "DU1234567"


def require_loopback(host: str) -> None:
    """The gateway has no authentication, so it must never listen beyond this machine."""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"the embedded gateway binds to loopback only (e.g. 127.0.0.1), not {host!r}")


class GatewayState:
    """The state a gateway's users read and script, all from its `GatewayContext`: shared by the server
    and the embedded gateway that runs one."""

    context: GatewayContext

    @property
    def server_version(self) -> int | None:
        return self.context.server_version

    @property
    def faults(self) -> GatewayFaults:
        return self.context.faults

    @property
    def realities(self) -> GatewayRealities:
        """Per-symbol market realities; `gateway.realities.set("SPY", MarketReality(...))`."""
        return self.context.realities

    @property
    def requests(self) -> RequestLog:
        return self.context.requests

    @property
    def pacing(self) -> HistoricalPacing | None:
        """The pacing emulation's state, or None when it is off."""
        return self.context.pacing

    @property
    def contracts(self) -> Mapping[str, ListedContract]:
        """What the gateway lists: the fixed contracts and its synthetic stocks, by registry key."""
        return self.context.contracts


class GatewayServer(GatewayState):
    """Serves the TWS socket protocol on a loopback port; run it inside an asyncio event loop."""

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = 0,
        *,
        server_version: int | None = None,
        faults: GatewayFaults | None = None,
        account: str = DEFAULT_ACCOUNT,
        clock: Clock = utc_now,
        requests: RequestLog | None = None,
        pacing: bool | HistoricalPacing = False,
        realities: GatewayRealities | None = None,
        synthetic_stocks: int = 0,
        answer_time: AnswerTimeModel | None = None,
    ) -> None:
        """`realities`: per-symbol market realities (realities.py; default: ILLQ's).

        `synthetic_stocks`: list that many generated stocks beside the fixed contracts (universe.py).
        `answer_time`: hold each historical answer back as IB would (latency.py); None answers at once.

        `pacing=True` enforces IB's historical-data pacing rules (a `HistoricalPacing` with an
        injected clock may be passed instead); off by default, like the rest of the gateway's leniency."""
        require_loopback(host)
        low, high = messages.MIN_SUPPORTED_VERSION, messages.MAX_SUPPORTED_VERSION
        if server_version is not None and not low <= server_version <= high:
            raise ValueError(f"server_version must be within {low}..{high}, got {server_version}")
        self.host = host
        self._requested_port = port
        self.context = GatewayContext(
            server_version=server_version,
            faults=faults if faults is not None else GatewayFaults(),
            account=account,
            clock=clock,
            requests=requests if requests is not None else RequestLog(),
            pacing=pacing
            if isinstance(pacing, HistoricalPacing)
            else (HistoricalPacing() if pacing else None),
            realities=realities if realities is not None else GatewayRealities(),
            contracts=listing(synthetic_stocks),
            answer_time=answer_time,
        )
        self._server: asyncio.Server | None = None
        self._connections: dict[int, ClientConnection] = {}
        self._connection_ids = itertools.count(1)

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the gateway is not listening; call start() first")
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        nyse_calendar()  # load the exchange calendar (about a second) before the first client waits on it
        self._server = await asyncio.start_server(self._accept, self.host, self._requested_port)
        LOGGER.info("embedded IB gateway listening on %s:%d", self.host, self.port)

    async def stop(self, timeout: float = 2.0) -> None:
        if self._server is not None:
            self._server.close()
        connections = list(self._connections.values())
        for connection in connections:
            connection.close()
        tasks = [c.task for c in connections if c.task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
        if self._server is not None:
            try:
                await asyncio.wait_for(self._server.wait_closed(), timeout)
            except TimeoutError:
                LOGGER.warning("gateway server did not close within %.1fs", timeout)
        LOGGER.info("embedded IB gateway stopped")

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = ClientConnection(self.context, next(self._connection_ids), reader, writer)
        self._connections[connection.id] = connection
        connection.task = asyncio.current_task()
        try:
            await connection.run()
        finally:
            self._connections.pop(connection.id, None)
