"""Reports over HTTP: the loopback server serves only the reports directory; links follow the setting."""

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ntrader_pipeline.cli.reports_server import ReportsServer
from ntrader_pipeline.defs.resources import StorageResource


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_serves_reports_directory_only(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    (reports / "sma_cross").mkdir(parents=True)
    (reports / "sma_cross" / "SPY.ARCA.html").write_text("<html>spy</html>")
    (tmp_path / "secret.txt").write_text("outside")
    with ReportsServer(reports) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert _get(f"{server.url}/sma_cross/SPY.ARCA.html") == (200, b"<html>spy</html>")
        assert _get(f"{server.url}/../secret.txt")[0] == 404
        assert _get(f"{server.url}/%2e%2e/secret.txt")[0] == 404
        assert _get(f"{server.url}/favicon.ico") == (204, b"")  # no 404 in the browser console
        port = server.port
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)


def test_busy_port_is_named(tmp_path: Path) -> None:
    with ReportsServer(tmp_path) as first, pytest.raises(OSError, match=f"127.0.0.1:{first.port}"):
        ReportsServer(tmp_path, first.port).start()


def test_report_url_over_http_or_file(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    report = reports / "sma cross" / "SPY.ARCA.html"
    served = StorageResource(
        catalog=str(tmp_path / "c"),
        artifacts=str(tmp_path / "b"),
        reports=str(reports),
        reports_url="http://127.0.0.1:3001/",
    )
    assert served.report_url(report) == "http://127.0.0.1:3001/sma%20cross/SPY.ARCA.html"
    local = served.model_copy(update={"reports_url": None})
    assert local.report_url(report) == report.resolve().as_uri()
    with pytest.raises(ValueError, match="outside the reports directory"):
        served.report_url(tmp_path / "elsewhere.html")
