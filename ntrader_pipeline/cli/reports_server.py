"""Serve the HTML reports directory over HTTP on loopback, so the Dagster UI can link to them.

Browsers refuse to open `file://` links from an `http://` page (the Dagster UI), so the UI launcher serves
the reports directory read-only with the stdlib server; the report assets then put
`<base URL>/<path relative to the reports directory>` in their metadata.
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self

LOOPBACK = "127.0.0.1"


class _QuietReportsHandler(SimpleHTTPRequestHandler):
    """Only the reports directory (SimpleHTTPRequestHandler refuses paths that escape it); no access log."""

    def do_GET(self) -> None:
        # Browsers ask every page's origin for a favicon; "no content" instead of a 404 console error.
        if self.path == "/favicon.ico":
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


class ReportsServer:
    """A `ThreadingHTTPServer` for one directory on 127.0.0.1 in a daemon thread; port 0 picks a free one."""

    def __init__(self, directory: Path, port: int = 0, host: str = LOOPBACK) -> None:
        self.directory = Path(directory).resolve()
        self._host = host
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the reports server is not running; call start() first")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def start(self) -> Self:
        # The directory may not exist before the first report is written; serve it empty meanwhile.
        self.directory.mkdir(parents=True, exist_ok=True)
        handler = functools.partial(_QuietReportsHandler, directory=str(self.directory))
        try:
            self._server = ThreadingHTTPServer((self._host, self._port), handler)
        except OSError as exc:
            raise OSError(
                f"cannot serve reports on {self._host}:{self._port} ({exc}); choose another port (0 = free)"
            ) from exc
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="reports-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
