"""Serve the HTML reports directory over HTTP on loopback, so the Dagster UI can link to them.

Browsers refuse to open `file://` links from an `http://` page (the Dagster UI), so the UI launcher serves
the reports directory read-only with the stdlib server; the report assets then put
`<base URL>/<path relative to the reports directory>` in their metadata.

What it serves is narrow on purpose: regular files whose real path (symlinks resolved) lies inside the
reports directory, by GET or HEAD. Directories are never listed (404), anything else is 404, other methods
are 405, and it binds to loopback unless the caller explicitly allows another address.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self

LOOPBACK = "127.0.0.1"


ALLOWED_METHODS = ("GET", "HEAD")


class NonLoopbackBindError(ValueError):
    """The reports server was asked to listen on an address other hosts can reach."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _QuietReportsHandler(SimpleHTTPRequestHandler):
    """Regular files inside the reports directory only, GET and HEAD only; no listings, no access log."""

    def do_GET(self) -> None:
        # Browsers ask every page's origin for a favicon; "no content" instead of a 404 console error.
        if self.path == "/favicon.ico":
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()

    def send_head(self):  # type: ignore[no-untyped-def]
        """Refuse before opening anything: a directory (listing or index), a path whose real location is
        outside the directory (`..`, encoded or via a symlink), or anything that is not a regular file."""
        root = os.path.realpath(self.directory)
        real = os.path.realpath(self.translate_path(self.path))
        if os.path.commonpath([root, real]) != root or not os.path.isfile(real):
            self.send_error(404, "Not found")
            return None
        return super().send_head()

    def list_directory(self, path):  # type: ignore[no-untyped-def]
        self.send_error(404, "Not found")  # never reached through send_head; kept as a second lock
        return None

    def _method_not_allowed(self) -> None:
        self.send_response(405)
        self.send_header("Allow", ", ".join(ALLOWED_METHODS))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        # BaseHTTPRequestHandler dispatches to do_<METHOD>; every method but GET and HEAD gets a 405.
        if name.startswith("do_") and name[3:] not in ALLOWED_METHODS:
            return self._method_not_allowed
        raise AttributeError(name)

    def log_message(self, format: str, *args: object) -> None:
        pass


class ReportsServer:
    """A `ThreadingHTTPServer` for one directory on 127.0.0.1 in a daemon thread; port 0 picks a free one.

    Another `host` than a loopback address is refused unless `allow_remote=True`: the reports are meant for
    the operator's own browser, and the server has no authentication."""

    def __init__(
        self, directory: Path, port: int = 0, host: str = LOOPBACK, *, allow_remote: bool = False
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise NonLoopbackBindError(
                f"the reports server binds to loopback only; {host!r} would expose the reports to other "
                "hosts (pass allow_remote=True to mean it)"
            )
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
