"""The reports render in a real headless Chromium: every figure drawn, no console or page errors, and no
network request (the pages are self-contained). Uses the system Chromium; Playwright downloads nothing."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from ntrader_pipeline.reports import ReportConfig, write_comparison_report, write_report
from ntrader_pipeline_tests.reports.sample_comparison import comparison_inputs
from ntrader_pipeline_tests.reports.sample_report import long_intraday_inputs

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no system Chromium at /usr/bin/chromium to render the reports in"
)

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")

RENDERED_GRAPHS = """() => [...document.querySelectorAll('.js-plotly-plot')]
    .filter(graph => graph.querySelector('.main-svg') !== null).length"""


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        chromium.close()


class RenderedPage:
    """A page that records console errors, uncaught exceptions and any request leaving the file."""

    def __init__(self, browser: object, path: Path) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page()
        self.page.on("console", lambda message: self._console(message))
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.route("**/*", self._route)
        self.page.goto(path.as_uri())

    def _console(self, message: object) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def _route(self, route: object) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            self.requests.append(route.request.url)
            route.abort()

    def wait_for_graphs(self, count: int) -> int:
        self.page.wait_for_function(f"() => ({RENDERED_GRAPHS})() >= {count}", timeout=60_000)
        return self.page.evaluate(RENDERED_GRAPHS)


def test_backtest_report_renders_every_figure_without_errors(browser: object, tmp_path: Path) -> None:
    path = write_report(long_intraday_inputs(), tmp_path / "SPY.ARCA.html")
    expected = len(ReportConfig().sections)

    rendered = RenderedPage(browser, path)
    drawn = rendered.wait_for_graphs(expected)
    rendered.page.get_by_text("Log", exact=True).first.click()  # the equity chart's log-scale button
    axis = rendered.page.evaluate("() => document.getElementById('figure-equity').layout.yaxis.type")

    assert drawn == expected == 10
    assert rendered.page.locator("#provenance table.provenance").count() >= 1
    assert axis == "log"
    assert rendered.errors == []
    assert rendered.requests == []


def test_comparison_report_renders_both_figures_without_errors(browser: object, tmp_path: Path) -> None:
    rows, curves = comparison_inputs()
    path = write_comparison_report(rows, curves, tmp_path / "comparison.html", rank_by="sortino")

    rendered = RenderedPage(browser, path)
    drawn = rendered.wait_for_graphs(2)
    traces = rendered.page.evaluate("() => document.getElementById('figure-overlay').data.length")

    assert drawn == 2
    assert traces == len(curves) == 3
    assert rendered.errors == []
    assert rendered.requests == []
