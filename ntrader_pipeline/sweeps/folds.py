"""Walk-forward folds over a window of trading sessions: consecutive out-of-sample (OOS) blocks at the end of
the window, each preceded by the in-sample (IS) sessions its parameters are chosen on.

The last `folds × oos` sessions form the OOS blocks (the last block ends at the last session); by default
oos = n // (folds + 3), so the first IS span is at least three OOS blocks long. ROLLING keeps the IS length
fixed and slides it with the OOS block; ANCHORED starts every IS at the same session so it grows fold by
fold. IS never overlaps its OOS block, and OOS blocks never overlap each other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class WalkForwardMode(StrEnum):
    ROLLING = "rolling"
    ANCHORED = "anchored"


@dataclass(frozen=True, slots=True)
class Fold:
    """One walk-forward step; date ranges are inclusive first..last session."""

    index: int  # 0-based, in time order
    in_sample: tuple[dt.date, dt.date]
    out_of_sample: tuple[dt.date, dt.date]
    in_sample_sessions: int
    out_of_sample_sessions: int


def walk_forward_folds(
    sessions: Sequence[dt.date],
    folds: int,
    mode: WalkForwardMode,
    out_of_sample_sessions: int | None = None,
    in_sample_sessions: int | None = None,
) -> list[Fold]:
    """`folds` walk-forward folds over `sessions` (ordered, unique trading dates of the window).

    OOS length: `out_of_sample_sessions`, default n // (folds + 3). IS length: `in_sample_sessions`, default
    every session before the first OOS block. ROLLING: IS = the IS-length sessions right before each OOS
    block. ANCHORED: IS runs from the first fold's IS start (sessions[0] by default) to just before each
    OOS block.
    """
    mode = _mode(mode)
    n = len(sessions)
    for i in range(1, n):
        if not sessions[i - 1] < sessions[i]:
            raise ValueError(
                f"sessions must be strictly increasing: {sessions[i - 1]} is followed by {sessions[i]} at "
                f"position {i}; sort the window's sessions and drop duplicates"
            )
    if folds < 1:
        raise ValueError(f"walk_forward.folds={folds} must be at least 1")
    oos = n // (folds + 3) if out_of_sample_sessions is None else out_of_sample_sessions
    if oos < 1:
        if out_of_sample_sessions is None:
            raise ValueError(
                "walk_forward.out_of_sample_sessions: the default n // (folds + 3) = "
                f"{n} // {folds + 3} is 0; the window has {n} sessions, too few for {folds} folds: "
                f"lengthen it to at least {folds + 3} sessions, lower walk_forward.folds or set "
                "walk_forward.out_of_sample_sessions"
            )
        raise ValueError(f"walk_forward.out_of_sample_sessions={oos} must be at least 1")
    if in_sample_sessions is not None and in_sample_sessions < 1:
        raise ValueError(
            f"walk_forward.in_sample_sessions={in_sample_sessions} must be at least 1; "
            "leave it out to use every session before the first out-of-sample block"
        )
    first_oos = n - folds * oos
    in_sample = first_oos if in_sample_sessions is None else in_sample_sessions
    if in_sample < 1 or first_oos < in_sample:
        needed = max(in_sample, 1) + folds * oos
        raise ValueError(
            f"walk_forward: {folds} folds × {oos} out-of-sample sessions + {max(in_sample, 1)} in-sample "
            f"session(s) need {needed} sessions, the window has {n}; lengthen the window by {needed - n} "
            "sessions or lower walk_forward.folds, walk_forward.out_of_sample_sessions or "
            "walk_forward.in_sample_sessions"
        )

    anchor = first_oos - in_sample
    result = []
    for index in range(folds):
        oos_start = first_oos + index * oos
        is_start = anchor if mode is WalkForwardMode.ANCHORED else oos_start - in_sample
        result.append(
            Fold(
                index=index,
                in_sample=(sessions[is_start], sessions[oos_start - 1]),
                out_of_sample=(sessions[oos_start], sessions[oos_start + oos - 1]),
                in_sample_sessions=oos_start - is_start,
                out_of_sample_sessions=oos,
            )
        )
    return result


def _mode(mode: WalkForwardMode | str) -> WalkForwardMode:
    try:
        return WalkForwardMode(mode)
    except ValueError:
        choices = ", ".join(m.value for m in WalkForwardMode)
        raise ValueError(f"walk_forward.mode={mode!r} is not a mode; use one of {choices}") from None
