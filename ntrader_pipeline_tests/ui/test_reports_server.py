"""Reports over HTTP: the loopback server serves only the reports directory; links follow the setting."""

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ntrader_pipeline.cli.reports_server import NonLoopbackBindError, ReportsServer
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


def _request(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), b""


@pytest.fixture
def served(tmp_path: Path):
    """A reports directory with a report, an index-less directory, a directory with an index, and
    symlinks that point out of it (to a file and to a directory)."""
    reports = tmp_path / "reports"
    (reports / "sma_cross").mkdir(parents=True)
    (reports / "sma_cross" / "SPY.ARCA.html").write_text("<html>spy</html>")
    (reports / "with_index").mkdir()
    (reports / "with_index" / "index.html").write_text("<html>index</html>")
    (reports / "sma_cross" / "inside_link.html").symlink_to(reports / "sma_cross" / "SPY.ARCA.html")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("outside")
    (reports / "leak.txt").symlink_to(outside / "secret.txt")
    (reports / "leak_dir").symlink_to(outside, target_is_directory=True)
    (tmp_path / "secret.txt").write_text("outside")
    with ReportsServer(reports) as server:
        yield server


@pytest.mark.parametrize("path", ["/", "/sma_cross", "/sma_cross/", "/with_index/", "/with_index"])
def test_directories_are_never_listed(served: ReportsServer, path: str) -> None:
    status, _, body = _request(served.url + path)
    assert status == 404 and b"SPY.ARCA" not in body and b"index" not in body


@pytest.mark.parametrize(
    "path",
    [
        "/leak.txt",  # a symlink to a file outside
        "/leak_dir/secret.txt",  # through a symlinked directory
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/sma_cross/..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "//etc/passwd",
        "/%2Fetc%2Fpasswd",
    ],
)
def test_nothing_outside_the_reports_directory(served: ReportsServer, path: str) -> None:
    status, _, body = _request(served.url + path)
    assert status == 404 and b"outside" not in body and b"root:" not in body


def test_a_symlink_inside_the_directory_is_served(served: ReportsServer) -> None:
    assert _request(f"{served.url}/sma_cross/inside_link.html")[0::2] == (200, b"<html>spy</html>")


def test_get_and_head_only(served: ReportsServer) -> None:
    url = f"{served.url}/sma_cross/SPY.ARCA.html"
    status, headers, body = _request(url, "HEAD")
    assert (status, body, headers["Content-Length"]) == (200, b"", str(len("<html>spy</html>")))
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"):
        status, headers, _ = _request(url, method)
        assert status == 405, method
        assert headers["Allow"] == "GET, HEAD"
    assert (served.directory / "sma_cross" / "SPY.ARCA.html").read_text() == "<html>spy</html>"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "reports.example"])
def test_binds_to_loopback_unless_asked(tmp_path: Path, host: str) -> None:
    with pytest.raises(NonLoopbackBindError, match=f"'{host}' would expose the reports"):
        ReportsServer(tmp_path, host=host)
    for loopback in ("127.0.0.1", "localhost", "::1"):
        ReportsServer(tmp_path, host=loopback)  # accepted (not started)
    assert ReportsServer(tmp_path, host="0.0.0.0", allow_remote=True).directory == tmp_path.resolve()
