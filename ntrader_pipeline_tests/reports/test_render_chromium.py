"""The reports render in a real headless Chromium, from `file://` and through the reports server: every
figure drawn, no console or page errors, the headline numbers and the equity graph on the first screen
(1280 x 800), the provenance panel collapsed, and no request but the page and the shared local plotly.js.
Uses the system Chromium; Playwright downloads nothing.

The first-screen screenshot is saved under the test's tmp dir and, when NTRADER_SCREENSHOTS names a
directory, there as `report_first_screen.png`."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ntrader_pipeline.cli.reports_server import ReportsServer
from ntrader_pipeline.reports import ReportConfig, plotly_js_name, write_comparison_report, write_report
from ntrader_pipeline_tests.reports.sample_comparison import comparison_inputs
from ntrader_pipeline_tests.reports.sample_report import demo_sized_inputs

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 800}

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no system Chromium at /usr/bin/chromium to render the reports in"
)

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")

RENDERED_GRAPHS = """() => [...document.querySelectorAll('.js-plotly-plot')]
    .filter(graph => graph.querySelector('.main-svg') !== null).length"""
EQUITY_TRACES = "() => document.querySelectorAll('#figure-equity .scatterlayer .trace path.js-line').length"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A reports directory as the pipeline writes it: a backtest report one level down, the comparison at
    the top, plotly.js once in assets/."""
    directory = tmp_path_factory.mktemp("reports")
    write_report(
        demo_sized_inputs(), directory / "sma_cross" / "SPY.ARCA.html", assets_dir=directory / "assets"
    )
    rows, curves = comparison_inputs()
    write_comparison_report(
        rows, curves, directory / "comparison.html", rank_by="sortino", assets_dir=directory / "assets"
    )
    return directory


@pytest.fixture(scope="module")
def server(reports: Path) -> Iterator[ReportsServer]:
    with ReportsServer(reports) as running:
        yield running


class RenderedPage:
    """A 1280 x 800 page that records console errors, uncaught exceptions and every request it makes."""

    def __init__(self, browser: object, url: str) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport=VIEWPORT)
        self.page.on("console", lambda message: self._console(message))
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.goto(url)

    def _console(self, message: object) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def wait_for_graphs(self, count: int) -> int:
        self.page.wait_for_function(f"() => ({RENDERED_GRAPHS})() >= {count}", timeout=60_000)
        return self.page.evaluate(RENDERED_GRAPHS)


def _report_url(kind: str, reports: Path, server: ReportsServer, page: str) -> str:
    return (reports / page).as_uri() if kind == "file" else f"{server.url}/{page}"


@pytest.mark.parametrize("kind", ["file", "http"])
def test_backtest_report_leads_with_the_result_and_loads_only_local_plotly_js(
    browser: object, reports: Path, server: ReportsServer, kind: str, tmp_path: Path
) -> None:
    url = _report_url(kind, reports, server, "sma_cross/SPY.ARCA.html")
    expected = len(ReportConfig().sections)

    rendered = RenderedPage(browser, url)
    drawn = rendered.wait_for_graphs(expected)
    equity_box = rendered.page.locator("#figure-equity").bounding_box()
    headline_box = rendered.page.locator("div.headline").bounding_box()
    traces = rendered.page.evaluate(EQUITY_TRACES)
    provenance_open = rendered.page.evaluate("() => document.getElementById('provenance').open")
    screenshot = rendered.page.screenshot(path=tmp_path / "report_first_screen.png")
    rendered.page.get_by_text("Log", exact=True).first.click()  # the equity chart's log-scale button
    axis = rendered.page.evaluate("() => document.getElementById('figure-equity').layout.yaxis.type")
    breaks = rendered.page.evaluate("() => document.getElementById('figure-equity').layout.xaxis.rangebreaks")

    if kind == "http" and (directory := os.environ.get("NTRADER_SCREENSHOTS")):
        Path(directory).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tmp_path / "report_first_screen.png", Path(directory) / "report_first_screen.png")
    assert drawn == expected == 10
    assert headline_box["y"] + headline_box["height"] <= VIEWPORT["height"]
    assert equity_box["y"] >= 0 and equity_box["y"] + equity_box["height"] <= VIEWPORT["height"]
    assert traces == 3  # strategy, buy and hold, index
    assert len(screenshot) > 10_000
    assert provenance_open is False
    assert axis == "log"
    assert breaks  # nights and weekends are skipped
    assert rendered.errors == []
    assert rendered.requests == [url, url.rsplit("/", 2)[0] + f"/assets/{plotly_js_name()}"]


@pytest.mark.parametrize("kind", ["file", "http"])
def test_comparison_report_renders_ranking_first_and_loads_only_local_plotly_js(
    browser: object, reports: Path, server: ReportsServer, kind: str
) -> None:
    url = _report_url(kind, reports, server, "comparison.html")
    _, curves = comparison_inputs()

    rendered = RenderedPage(browser, url)
    drawn = rendered.wait_for_graphs(2)
    traces = rendered.page.evaluate("() => document.getElementById('figure-overlay').data.length")
    ranking_top = rendered.page.locator("#figure-ranking").bounding_box()["y"]

    assert drawn == 2
    assert traces == len(curves) == 3
    assert ranking_top < VIEWPORT["height"]
    assert rendered.errors == []
    assert rendered.requests == [url, url.rsplit("/", 1)[0] + f"/assets/{plotly_js_name()}"]
