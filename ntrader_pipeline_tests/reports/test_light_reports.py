"""Light reports that lead with the result: one shared plotly.js, demo-sized pages under 1 MB, headline
numbers before any chart, time axes without closed hours, and a place for dated event markers."""

import dataclasses
import datetime as dt
import os
import re
from pathlib import Path

import polars as pl
import pytest
from plotly.offline import get_plotlyjs

from ntrader_pipeline.reports import (
    ReportConfig,
    ReportEvent,
    plotly_js_name,
    render_report_html,
    time_axis_breaks,
    write_comparison_report,
    write_plotly_js,
    write_report,
)
from ntrader_pipeline.reports.figures import drawdown_chart
from ntrader_pipeline_tests.analytics.sample_backtest import UTC_DATETIME, random_equity, sample_equity
from ntrader_pipeline_tests.reports.sample_comparison import comparison_inputs
from ntrader_pipeline_tests.reports.sample_report import demo_sized_inputs, full_inputs

MAX_DEMO_REPORT_BYTES = 1_000_000
SCRIPT_SRC = re.compile(r'<script[^>]*\bsrc="([^"]+)"')


def test_reports_share_one_plotly_js_referenced_relatively(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    nested = write_report(
        full_inputs(), reports / "sma_cross" / "SPY.ARCA.html", assets_dir=reports / "assets"
    )
    rows, curves = comparison_inputs(400)
    top = write_comparison_report(rows, curves, reports / "comparison.html", assets_dir=reports / "assets")

    assert SCRIPT_SRC.findall(nested.read_text()) == [f"../assets/{plotly_js_name()}"]
    assert SCRIPT_SRC.findall(top.read_text()) == [f"assets/{plotly_js_name()}"]
    assert sorted(path.name for path in (reports / "assets").iterdir()) == [plotly_js_name()]
    for page in (nested, top):
        (script,) = SCRIPT_SRC.findall(page.read_text())
        assert (page.parent / script).resolve().read_text() == get_plotlyjs()
        assert get_plotlyjs() not in page.read_text()
        assert not re.search(r"https?://", page.read_text())


def test_plotly_js_is_written_only_when_missing_or_different(tmp_path: Path) -> None:
    path = write_plotly_js(tmp_path)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))

    write_plotly_js(tmp_path)
    untouched = path.stat().st_mtime_ns
    path.write_text("truncated")
    write_plotly_js(tmp_path)

    assert untouched == 1_000_000_000
    assert path.read_text() == get_plotlyjs()
    assert [item.name for item in tmp_path.iterdir()] == [plotly_js_name()]  # no temp files left


def test_demo_sized_report_and_comparison_stay_under_1_mb(tmp_path: Path) -> None:
    inputs = demo_sized_inputs()
    assert inputs.equity.height == 61 * 390 and inputs.fills.height > 800
    assert len(inputs.provenance["catalog_files"]) == 62

    report = write_report(inputs, tmp_path / "sma_cross" / "SPY.ARCA.html", assets_dir=tmp_path / "assets")
    curves = {f"backtest{number} / SPY.ARCA": inputs.equity for number in range(9)}
    rows = [{"backtest": key.split(" / ")[0], "instrument": "SPY.ARCA", "sharpe": 1.0} for key in curves]
    comparison = write_comparison_report(
        rows, curves, tmp_path / "comparison.html", assets_dir=tmp_path / "assets"
    )

    assert report.stat().st_size <= MAX_DEMO_REPORT_BYTES
    assert comparison.stat().st_size <= MAX_DEMO_REPORT_BYTES
    assert (tmp_path / "assets" / plotly_js_name()).stat().st_size > 3_000_000  # plotly.js is there once


def test_header_leads_with_the_headline_numbers_then_the_equity_curve() -> None:
    inputs = full_inputs()
    page = render_report_html(inputs, plotly_js="assets/plotly.min.js")
    header = page[page.index("<header>") : page.index("</header>")]
    labels = re.findall(r'<div class="label">([^<]+)</div>', header)
    values = dict(zip(labels, re.findall(r'<div class="value[^"]*">([^<]+)</div>', header), strict=True))

    assert labels == [
        "Total return",
        "CAGR",
        "Sharpe (annualized)",
        "Max drawdown",
        "Trades",
        "vs buy and hold",
    ]
    assert values["Total return"] == "0.56%" and values["Sharpe (annualized)"] == "3.31"
    assert values["Max drawdown"] == "1.20%" and values["Trades"] == "2"
    assert values["vs buy and hold"].endswith(" pts")
    assert "3 sessions = 0.01 years" in header  # CAGR is measured in trading sessions
    # The max drawdown is still under water at the last bar: no "peak to recovery" for it.
    assert "not recovered, 2.0 days so far" in header and "peak to recovery" not in header
    after_header = page[page.index("</header>") :]
    assert after_header.index('id="figure-equity"') == min(
        after_header.index(f'id="{part}"') for part in ("figure-equity", "figure-metrics", "provenance")
    )


def test_conventions_say_how_the_numbers_differ_from_common_tools() -> None:
    page = render_report_html(full_inputs(), plotly_js="assets/plotly.min.js")
    note = page[page.index('<section id="conventions">') : page.index('<details id="provenance">')]

    for text in (
        "daily session returns",
        "252 sessions a year",
        "3 / 252",
        "every bar",
        "net of commissions",
    ):
        assert text.lower() in note.lower()


def test_data_note_joins_the_summary_line_and_events_mark_the_first_bar_at_or_after() -> None:
    event = ReportEvent(dt.datetime(2024, 1, 3, 5, 0, tzinfo=dt.UTC), "split 2:1", "ex-date 2024-01-03")
    inputs = dataclasses.replace(full_inputs(), data_note="prices: not adjusted", events=(event,))

    page = render_report_html(inputs, plotly_js="assets/plotly.min.js")

    summary = re.search(r'<p class="summary">(.*?)</p>', page).group(1)
    assert summary.endswith("· prices: not adjusted")
    assert page.count('"text":"split 2:1"') == 2  # equity and price charts
    assert '"x0":"2024-01-03 10:00:00"' in page  # the first bar of 2024-01-03 (15:00 UTC)


def _local(values: list[str]) -> list[dt.datetime]:
    return [dt.datetime.fromisoformat(value) for value in values]


def test_intraday_axis_skips_nights_weekends_and_holidays() -> None:
    # NYSE 1-minute bars around Martin Luther King Day (Monday 2024-01-15 closed): Thu, Fri, Tue.
    days = [dt.date(2024, 1, 11), dt.date(2024, 1, 12), dt.date(2024, 1, 16)]
    ts = pl.Series(
        [
            dt.datetime.combine(day, dt.time(14, 30), tzinfo=dt.UTC) + dt.timedelta(minutes=minute)
            for day in days
            for minute in range(1, 391)
        ],
        dtype=UTC_DATETIME,
    )

    breaks = time_axis_breaks(ts)

    spans = sorted(
        (start, start + dt.timedelta(milliseconds=item["dvalue"]))
        for item in breaks
        for start in _local(item["values"])
    )
    assert spans == [
        (dt.datetime(2024, 1, 11, 16, 1), dt.datetime(2024, 1, 12, 9, 31)),  # night
        (dt.datetime(2024, 1, 12, 16, 1), dt.datetime(2024, 1, 16, 9, 31)),  # weekend and holiday
    ]


def test_fx_24x5_axis_keeps_its_nights_and_skips_only_the_weekend() -> None:
    # 5-minute bars from Sunday 17:00 to Friday 17:00 New York, continuous through the nights.
    start = dt.datetime(2024, 3, 10, 21, 0, tzinfo=dt.UTC)  # Sunday 17:00 EDT
    week = [start + dt.timedelta(minutes=5 * step) for step in range(1, 5 * 24 * 12 + 1)]
    following = [moment + dt.timedelta(days=7) for moment in week]
    ts = pl.Series(week + following, dtype=UTC_DATETIME)

    (weekend,) = time_axis_breaks(ts)

    assert _local(weekend["values"]) == [dt.datetime(2024, 3, 15, 17, 5)]
    assert weekend["dvalue"] == 48 * 3_600_000  # Friday 17:05 to the first bar, Sunday 17:05


def test_daily_axes_skip_weekends_and_a_short_series_has_no_breaks() -> None:
    weekdays = [dt.date(2024, 3, 1) + dt.timedelta(days=offset) for offset in range(14)]
    sessions = pl.Series([day for day in weekdays if day.weekday() < 5])

    (weekends,) = time_axis_breaks(sessions)

    assert _local(weekends["values"]) == [dt.datetime(2024, 3, 2), dt.datetime(2024, 3, 9)]
    assert weekends["dvalue"] == 2 * 86_400_000
    assert time_axis_breaks(sample_equity()["ts"].head(2)) == []


def test_figures_apply_the_breaks_unless_told_not_to() -> None:
    equity = random_equity(2_000, seed=3)

    assert drawdown_chart(equity).layout.xaxis.rangebreaks
    assert not drawdown_chart(equity, skip_closed_hours=False).layout.xaxis.rangebreaks


@pytest.mark.parametrize("sections", [("metrics",), ("equity", "drawdown")])
def test_reports_without_time_charts_still_render(sections: tuple[str, ...]) -> None:
    page = render_report_html(full_inputs(), ReportConfig(sections=sections), plotly_js="p.js")

    assert page.count('src="p.js"') == 1
