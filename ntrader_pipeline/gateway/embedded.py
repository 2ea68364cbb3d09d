"""Run the gateway in-process: an asyncio loop in a daemon thread, for tests and local demos.

with EmbeddedGateway() as gateway:
    client = HistoricInteractiveBrokersClient(host=gateway.host, port=gateway.port)
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType
from typing import Self

from ntrader_pipeline.gateway.connection import Clock, utc_now
from ntrader_pipeline.gateway.faults import GatewayFaults
from ntrader_pipeline.gateway.latency import AnswerTimeModel
from ntrader_pipeline.gateway.pacing import HistoricalPacing
from ntrader_pipeline.gateway.realities import GatewayRealities
from ntrader_pipeline.gateway.server import (
    DEFAULT_ACCOUNT,
    DEFAULT_HOST,
    LOGGER,
    GatewayServer,
    GatewayState,
)


class EmbeddedGateway(GatewayState):
    """A `GatewayServer` on its own event loop thread; `start()` returns once it listens."""

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = 0,
        *,
        server_version: int | None = None,
        faults: GatewayFaults | None = None,
        account: str = DEFAULT_ACCOUNT,
        clock: Clock = utc_now,
        start_timeout: float = 15.0,
        pacing: bool | HistoricalPacing = False,
        realities: GatewayRealities | None = None,
        synthetic_stocks: int = 0,
        answer_time: AnswerTimeModel | None = None,
    ) -> None:
        """`synthetic_stocks` and `answer_time` as for GatewayServer: in-process gateways (tests, the
        demo) answer at once unless given an AnswerTimeModel."""
        self._server = GatewayServer(
            host,
            port,
            server_version=server_version,
            faults=faults,
            account=account,
            clock=clock,
            pacing=pacing,
            realities=realities,
            synthetic_stocks=synthetic_stocks,
            answer_time=answer_time,
        )
        self.context = self._server.context  # what GatewayState reads; the server never replaces it
        self._start_timeout = start_timeout
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._port: int | None = None

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the embedded gateway is not running; call start() first")
        return self._port

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("the embedded gateway was already started")
        self._thread = threading.Thread(target=self._run, name="embedded-ib-gateway", daemon=True)
        self._thread.start()
        if not self._ready.wait(self._start_timeout):
            self.stop()
            raise TimeoutError(f"embedded gateway did not start within {self._start_timeout}s")
        if self._startup_error is not None:
            self.stop()
            raise RuntimeError("embedded gateway failed to start") from self._startup_error
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server and join its thread; returns within about `timeout` seconds whatever happens."""
        loop, event, thread = self._loop, self._stop_event, self._thread
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed: nothing left to stop
                loop.call_soon_threadsafe(event.set)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                LOGGER.warning(
                    "embedded gateway thread did not stop within %.1fs; leaving it (daemon)", timeout
                )

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # surface startup failures to start() instead of dying silently
            self._startup_error = exc
            LOGGER.exception("embedded gateway thread failed")
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        await self._server.start()
        self._port = self._server.port
        self._ready.set()
        await self._stop_event.wait()
        await self._server.stop()
