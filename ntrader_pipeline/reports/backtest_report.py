"""The HTML report of one stored backtest, from its artefact directory (frames, metrics, manifest)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from ntrader_pipeline.adjustments.modes import Adjustment
from ntrader_pipeline.analytics import load_metrics
from ntrader_pipeline.backtest.artifacts import load_backtest_artifacts
from ntrader_pipeline.backtest.manifest import CorporateActionRecord, read_manifest
from ntrader_pipeline.reports.html import write_report
from ntrader_pipeline.reports.inputs import ReportEvent, ReportInputs

_NEW_YORK = ZoneInfo("America/New_York")


def backtest_report_inputs(directory: Path, title: str) -> ReportInputs:
    manifest = read_manifest(directory)
    frames = load_backtest_artifacts(directory)
    metrics, drawdowns = load_metrics(directory)
    return ReportInputs(
        title=title,
        instrument_id=manifest.instrument_id,
        bar_type=manifest.bar_type,
        strategy=manifest.strategy_path,
        parameters=manifest.parameters(),
        window_start=manifest.window_start,
        window_end=manifest.window_end,
        equity=frames.equity,
        fills=frames.fills,
        trades=frames.trades,
        metrics=metrics,
        starting_cash=manifest.starting_cash,
        benchmarks=frames.benchmarks,
        index_instrument_id=manifest.index_instrument_id,
        config_hash=manifest.config_hash,
        code_version=manifest.code_version,
        data_version=manifest.data_version,
        provenance={
            "sessions": manifest.sessions,
            "bars": manifest.bars,
            "quality": manifest.quality.model_dump(),
            "catalog_files": [f.model_dump() for f in manifest.catalog_files],
        },
        drawdowns=drawdowns,
        data_note=adjustment_note(manifest.adjustment, manifest.corporate_actions),
        events=action_events(manifest.corporate_actions),
    )


def _action_text(action: CorporateActionRecord) -> str:
    return f"{action.date.isoformat()} {action.kind} {action.detail}"


def adjustment_note(adjustment: str, actions: Sequence[CorporateActionRecord]) -> str:
    """What prices the backtest used, and the corporate actions in its window (the header's data note)."""
    note = f"prices {Adjustment(adjustment).describe()}"
    if actions:
        note += "; corporate actions: " + "; ".join(_action_text(a) for a in actions)
    return note


def action_events(actions: Sequence[CorporateActionRecord]) -> tuple[ReportEvent, ...]:
    """A chart marker per corporate action, on the first bar of its session."""
    return tuple(
        ReportEvent(_session_start(a.date), f"{a.kind} {a.detail}", _action_text(a)) for a in actions
    )


def _session_start(date: dt.date) -> dt.datetime:
    """Midnight New York of the action's date: the marker goes on that session's first bar."""
    return dt.datetime.combine(date, dt.time(), tzinfo=_NEW_YORK).astimezone(dt.UTC)


def write_backtest_report(directory: Path, title: str, path: Path, *, assets_dir: Path) -> Path:
    """Write the report of the backtest stored in `directory` to `path` (atomically), loading plotly.js
    from `assets_dir` (the reports directory's shared copy); returns `path`."""
    return write_report(backtest_report_inputs(directory, title), path, assets_dir=assets_dir)
