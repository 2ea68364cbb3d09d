import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs

from ntrader_pipeline.analytics import compute_metrics
from ntrader_pipeline.backtest.manifest import CorporateActionRecord
from ntrader_pipeline.reports import (
    ReportConfig,
    ReportInputs,
    UnknownSectionError,
    plotly_js_name,
    render_report_html,
    write_report,
)
from ntrader_pipeline.reports.backtest_report import action_events, adjustment_note
from ntrader_pipeline_tests.analytics.sample_backtest import (
    STARTING_CASH,
    empty_fills,
    empty_trades,
    sample_equity,
    sample_fills,
    sample_trades,
)


@pytest.fixture
def inputs() -> ReportInputs:
    equity, fills, trades = sample_equity(), sample_fills(), sample_trades()
    return ReportInputs(
        title="SMA cross <SPY>",
        instrument_id="SPY.ARCA",
        bar_type="SPY.ARCA-1-MINUTE-LAST-EXTERNAL",
        strategy="SmaCross",
        parameters={"fast_period": 10, "slow_period": 20},
        window_start=dt.date(2024, 1, 2),
        window_end=dt.date(2024, 1, 4),
        equity=equity,
        fills=fills,
        trades=trades,
        metrics=compute_metrics(equity, trades, fills, STARTING_CASH),
        starting_cash=STARTING_CASH,
    )


def _without_plotly_js(page: str) -> str:
    # plotly.js itself holds URL strings (map tiles, topojson) it only fetches for geo/map traces.
    assert page.count(get_plotlyjs()) == 1
    return page.replace(get_plotlyjs(), "")


def test_rendered_string_without_a_plotly_js_url_embeds_plotly_js_once(inputs: ReportInputs) -> None:
    page = render_report_html(inputs)

    rest = _without_plotly_js(page)
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, flags=re.IGNORECASE)
    assert not re.search(r"<link\b", rest, flags=re.IGNORECASE)
    assert "https://cdn" not in rest
    assert not re.search(r"https?://", rest)
    assert rest.startswith("<!DOCTYPE html>")


def test_report_has_header_every_section_and_metric_values(inputs: ReportInputs) -> None:
    page = render_report_html(inputs)

    for text in (
        "SmaCross",
        "fast_period = 10",
        "slow_period = 20",
        "SPY.ARCA",
        "SPY.ARCA-1-MINUTE-LAST-EXTERNAL",
    ):
        assert text in page
    assert "2024-01-02 to 2024-01-04" in page
    assert "SMA cross &lt;SPY&gt;" in page  # header text is escaped
    for section in ("equity", "drawdown", "price", "metrics", "trades"):
        assert f'id="figure-{section}"' in page
    # total return, Sharpe, profit factor, win rate, max drawdown as shown in the metrics table
    for formatted in ('"0.56%"', '"3.31"', '"2.33"', '"50.00%"', '"1.20%"'):
        assert formatted in page


def test_same_inputs_render_byte_identical_html(inputs: ReportInputs) -> None:
    assert render_report_html(inputs) == render_report_html(inputs)


def test_write_report_creates_the_file_atomically_and_rewrites_identically(
    inputs: ReportInputs, tmp_path: Path
) -> None:
    target = tmp_path / "reports" / "SPY.ARCA" / "report.html"

    written = write_report(inputs, target)
    first = written.read_bytes()
    write_report(inputs, target)

    assert written == target
    assert target.read_bytes() == first
    assert first.decode("utf-8") == render_report_html(inputs, plotly_js=f"assets/{plotly_js_name()}")
    # no temp files left, beside the page or in the shared assets
    assert sorted(path.name for path in target.parent.iterdir()) == ["assets", "report.html"]
    assert [path.name for path in (target.parent / "assets").iterdir()] == [plotly_js_name()]


def test_failed_render_leaves_the_previous_report_untouched(inputs: ReportInputs, tmp_path: Path) -> None:
    target = write_report(inputs, tmp_path / "report.html")
    before = target.read_bytes()
    broken = dataclasses.replace(inputs, equity=inputs.equity.drop("close"))

    with pytest.raises(Exception, match="close"):
        write_report(broken, target)

    assert target.read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["assets", "report.html"]


def test_report_works_without_fills_or_trades(inputs: ReportInputs) -> None:
    quiet = dataclasses.replace(inputs, fills=empty_fills(), trades=empty_trades())

    page = render_report_html(quiet)

    assert 'id="figure-trades"' in page
    assert '"Exits (SELL)"' in page


def test_config_chooses_sections_order_template_and_height(inputs: ReportInputs) -> None:
    config = ReportConfig(sections=("metrics", "equity"), template="plotly_dark", height=321)

    page = render_report_html(inputs, config)

    assert page.index('id="figure-metrics"') < page.index('id="figure-equity"')
    assert 'id="figure-drawdown"' not in page
    assert "height:321px" in page
    assert "rgb(17,17,17)" in page  # plotly_dark background: the template is applied


def test_unknown_section_names_the_registered_ones(inputs: ReportInputs) -> None:
    with pytest.raises(UnknownSectionError, match="registered sections"):
        render_report_html(inputs, ReportConfig(sections=("equity", "tearsheet")))


@pytest.mark.parametrize(
    "arguments",
    [{"sections": ()}, {"sections": ("equity", "equity")}, {"template": "no-such-theme"}, {"height": 0}],
)
def test_invalid_config_is_rejected(arguments: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ReportConfig(**arguments)


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ReportConfig().height = 10  # type: ignore[misc]


def test_report_states_the_adjustment_and_marks_corporate_actions(inputs: ReportInputs) -> None:
    actions = [CorporateActionRecord(date=dt.date(2024, 1, 3), kind="split", detail="4:1")]
    adjusted = dataclasses.replace(
        inputs, data_note=adjustment_note("splits", actions), events=action_events(actions)
    )
    page = _without_plotly_js(render_report_html(adjusted))
    assert "prices split-adjusted (earlier prices ÷ split ratio" in page
    assert "corporate actions: 2024-01-03 split 4:1" in page
    assert "2024-01-03 split 4:1" in page.split("corporate actions:", 1)[1]  # the chart marker's hover text
    unadjusted = _without_plotly_js(
        render_report_html(dataclasses.replace(inputs, data_note=adjustment_note("none", [])))
    )
    assert "prices unadjusted" in unadjusted and "corporate actions" not in unadjusted
