"""The quality rules on one session's bars: `check_sessions` for a frame of a single session."""

from __future__ import annotations

import polars as pl

from ntrader_pipeline.markets.sessions import TradingSession
from ntrader_pipeline.markets.universe import BarSpec
from ntrader_pipeline.quality.session_quality import SessionQuality, check_sessions, label_sessions


def check_session(
    frame: pl.DataFrame, bar_type: str, session: TradingSession, spec: BarSpec, **rules: object
) -> SessionQuality:
    """Validate one session's bars (a frame of `catalog.frames` shape); `rules`: max_missing_fraction,
    previous_close."""
    labelled = label_sessions(frame.with_columns(file=pl.lit(0, pl.Int32)), [session], spec)
    return check_sessions(labelled, [session], bar_type, spec, **rules)[0]  # type: ignore[arg-type]
