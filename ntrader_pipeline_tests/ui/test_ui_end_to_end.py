"""The Dagster UI end to end: `python -m ntrader_pipeline.cli.ui` on free ports, a backfill of January 2024
(every instrument × every session, every declared backtest over that month) launched through GraphQL, then
headless Chromium on the asset graph and on a report opened from the asset's URL metadata. One month, not
the demo's three: the path through the daemon, the runs and the UI is the same, and `make demo` and the
CLI tests cover the whole window.

Screenshots go to $NTRADER_SCREENSHOTS (default: the test's tmp dir); paths and the backfill's wall time
are printed (`pytest -s` shows them).
"""

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from playwright.sync_api import ConsoleMessage, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from ntrader_pipeline.defs.bars import MARKET_DATA_GROUP
from ntrader_pipeline.defs.names import BACKTEST_GROUP
from ntrader_pipeline.defs.partitions import bar_partition_key
from ntrader_pipeline.markets.bar_specs import bars_asset_name
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline_tests.cli import IN_PROCESS
from ntrader_pipeline_tests.defs.helpers import code_location
from ntrader_pipeline_tests.ui.graphql import AssetNode, DagsterGraphQL
from ntrader_pipeline_tests.ui.launcher import RunningUi, start_ui, still_listening, stop_ui

SETTINGS, UNIVERSE, DECLARATIONS = code_location()
WINDOW = ("2024-01-02", "2024-01-31")  # the month the backfill covers, and the backtests' window
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
BACKFILL_TIMEOUT_S = 1200
PAGE_TIMEOUT_MS = 90_000
# A fresh browser gets Dagster's "Join the Dagster community" dialog over the graph; it may not come.
COMMUNITY_DIALOG_TIMEOUT_MS = 20_000

# Console errors that are not faults of the page under test, each with why it is benign.
BENIGN_CONSOLE_ERRORS: dict[str, str] = {}

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"headless Chromium needs {CHROMIUM}"),
    pytest.mark.long_running(minutes=4),  # started first under xdist (tiers.order_for_workers)
]


def _backtests_over_window(tmp_path: Path) -> Path:
    """The repo's backtests file with every declared backtest's window narrowed to WINDOW."""
    declared = yaml.safe_load(SETTINGS.ntrader.backtests.read_text())
    for backtest in declared["backtests"].values():
        backtest["window"] = {"start": WINDOW[0], "end": WINDOW[1]}
    path = tmp_path / "backtests.yaml"
    path.write_text(yaml.safe_dump(declared, sort_keys=False))
    return path


@pytest.fixture
def ui(tmp_path: Path) -> Iterator[RunningUi]:
    running = start_ui(tmp_path, {"NTRADER_BACKTESTS": str(_backtests_over_window(tmp_path))})
    try:
        yield running
    finally:
        code = stop_ui(running)
    assert code == 0, f"the UI launcher exited with {code}:\n{running.output()[-4000:]}"
    assert still_listening(running) == [], "servers outlived the launcher"


def _screenshots_dir(tmp_path: Path) -> Path:
    directory = Path(os.environ.get("NTRADER_SCREENSHOTS") or tmp_path / "screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _instruments_of(asset: str) -> list[str]:
    """The instruments an asset has work for: a bars asset those that provide its bar spec, a declared
    chain's assets those its declaration trades, the per-instrument data assets every one."""
    for spec in UNIVERSE.all_bar_specs:
        if asset == bars_asset_name(spec):
            return [i for i in UNIVERSE.instrument_ids if UNIVERSE.provides(UNIVERSE.instrument(i), spec)]
    for declaration in DECLARATIONS:
        if asset in {f"{declaration.name}_{kind}" for kind in ("inputs", "backtest", "metrics", "report")}:
            return list(declaration.instruments)
    return UNIVERSE.instrument_ids


def _backfill_selection(nodes: list[AssetNode], start: str, end: str) -> list[dict]:
    """The demo window for every bars asset (one range per instrument) and every backtest-group asset
    (by group: their names differ per declared backtest) for the instruments each has work for."""
    selection = []
    for node in nodes:
        if node.group not in (MARKET_DATA_GROUP, BACKTEST_GROUP):
            continue
        instruments = _instruments_of(node.path[-1])
        if node.partitions_type == "MULTIPARTITIONED":
            # month partitions: the months of the window (a month fetches its closed sessions)
            ranges = [
                {"start": str(bar_partition_key(start, i)), "end": str(bar_partition_key(end, i))}
                for i in instruments
            ]
        elif node.partitions_type == "STATIC":
            ranges = [{"start": i, "end": i} for i in instruments]
        elif node.partitions_type is None:
            ranges = None
        else:
            raise AssertionError(f"asset {node.path} has {node.partitions_type} partitions; extend the test")
        partitions = {"ranges": ranges} if ranges else None
        selection.append({"assetKey": {"path": node.path}, "partitions": partitions})
    return selection


def _screenshot_running_backfill(
    ui: RunningUi, graphql: DagsterGraphQL, backfill_id: str, screenshots: Path
) -> tuple[Path, str]:
    """The backfill's page in the UI once its first runs are going (its partition counts fill in while the
    runs write sessions); returns the screenshot and the backfill's status at that moment."""
    path = screenshots / "backfill_running.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            deadline = time.monotonic() + PAGE_TIMEOUT_MS / 1000
            while not graphql.backfill_runs(backfill_id) and time.monotonic() < deadline:
                time.sleep(1)
            page.goto(f"{ui.ui_url}/runs/b/{backfill_id}", timeout=PAGE_TIMEOUT_MS)  # the backfill page
            with contextlib.suppress(PlaywrightTimeout):
                page.get_by_role("button", name="Skip").click(timeout=COMMUNITY_DIALOG_TIMEOUT_MS)
            page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
            status = graphql.backfill_status(backfill_id)
            page.screenshot(path=path)
        finally:
            browser.close()
    return path, status


def _asset_graph_url(ui_url: str) -> str:
    """The global asset lineage with our groups expanded (collapsed group boxes hide the assets)."""
    expanded = ",".join(f"global@global:{group}" for group in (MARKET_DATA_GROUP, BACKTEST_GROUP))
    return f"{ui_url}/asset-groups?expanded={quote(expanded, safe='')}"


def _watch_console(page: Page) -> list[str]:
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not any(text in message.text for text in BENIGN_CONSOLE_ERRORS):
            errors.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"{page.url}: uncaught {error}"))
    return errors


def test_backfill_through_graphql_and_screenshots(ui: RunningUi, tmp_path: Path) -> None:
    graphql = DagsterGraphQL(ui.ui_url)
    start, end = WINDOW
    sessions = len(sessions_between(start, end))
    instruments = UNIVERSE.instrument_ids
    selection = _backfill_selection(graphql.asset_nodes(), start, end)
    groups = {tuple(entry["assetKey"]["path"]) for entry in selection}
    assert len(groups) >= 3, f"expected bars and backtest assets in the code location, got {groups}"

    started = time.monotonic()
    # In-process runs: the default multiprocess executor starts a Python per step, and each re-imports
    # Nautilus and Dagster (15-40 s on 2 busy cores); the work itself is the same.
    backfill_id = graphql.launch_backfill(
        selection, title="UI end-to-end: January 2024", run_config=json.loads(IN_PROCESS)
    )
    screenshots = _screenshots_dir(tmp_path)
    running_png, status_then = _screenshot_running_backfill(ui, graphql, backfill_id, screenshots)
    print(f"\nbackfill page while {status_then}: {running_png}")
    status = graphql.wait_for_backfill(backfill_id, BACKFILL_TIMEOUT_S)
    elapsed = time.monotonic() - started
    runs = graphql.backfill_runs(backfill_id)
    print(
        f"\nbackfill {backfill_id}: {len(instruments)} instruments × {sessions} sessions "
        f"+ {len(selection)} assets: {status} in {elapsed:.1f} s over {len(runs)} runs"
    )
    failed = [run for run in runs if run["status"] != "SUCCESS"]
    assert status == "COMPLETED_SUCCESS" and runs and not failed, (
        f"backfill {status}; runs not successful: {failed}\n{ui.output()[-4000:]}"
    )

    report_urls = {}
    for entry in selection:
        for partition, urls in graphql.url_metadata(entry["assetKey"]["path"]).items():
            served = [url for url in urls if url.startswith(ui.reports_url + "/")]
            if served:
                report_urls[partition] = served[0]
    # One report per instrument a backtest trades, and the unpartitioned comparison (partition None).
    traded = {i for declaration in DECLARATIONS for i in declaration.instruments}
    assert set(report_urls) == {*traded, None}, f"report URLs in metadata: {report_urls}"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            errors = _watch_console(page)
            page.goto(_asset_graph_url(ui.ui_url), timeout=PAGE_TIMEOUT_MS)
            with contextlib.suppress(PlaywrightTimeout):
                page.get_by_role("button", name="Skip").click(timeout=COMMUNITY_DIALOG_TIMEOUT_MS)
            # Every asset is a node box; long names are shortened with an ellipsis when the graph is zoomed
            # out to fit, so count the boxes and look for a name that is never shortened.
            page.wait_for_function(
                "n => document.querySelectorAll('foreignObject').length >= n",
                arg=len(selection),
                timeout=PAGE_TIMEOUT_MS,
            )
            page.locator("foreignObject").get_by_text("bars_1_minute", exact=True).first.wait_for(
                timeout=PAGE_TIMEOUT_MS
            )
            page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
            graph_png = screenshots / "asset_graph.png"
            page.screenshot(path=graph_png)

            report_url = report_urls[instruments[0]]
            response = page.goto(report_url, timeout=PAGE_TIMEOUT_MS)
            assert response is not None and response.ok, f"{report_url}: {response and response.status}"
            page.wait_for_selector(".plotly-graph-div .main-svg", timeout=PAGE_TIMEOUT_MS)
            graphs = page.locator(".plotly-graph-div").count()
            rendered = page.locator(".plotly-graph-div:has(.main-svg)").count()
            report_png = screenshots / "report.png"
            page.screenshot(path=report_png, full_page=True)
        finally:
            browser.close()
    print(f"screenshots: {graph_png} {report_png}")
    assert graphs > 0 and rendered == graphs, f"{rendered} of {graphs} plotly graphs rendered in {report_url}"
    assert errors == [], "console errors:\n" + "\n".join(errors)
