"""Walk-forward folds on the NYSE sessions of 2024-01-02..2024-03-28 (61 sessions: MLK day, Presidents' Day
and Good Friday are holidays), with boundaries read off the calendar by hand."""

from datetime import date

import pytest

from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline.sweeps.folds import Fold, WalkForwardMode, walk_forward_folds

SESSIONS = [s.date for s in sessions_between(date(2024, 1, 2), date(2024, 3, 28))]
D = date


def test_the_window_is_the_expected_61_sessions() -> None:
    assert len(SESSIONS) == 61
    assert (SESSIONS[0], SESSIONS[30], SESSIONS[31], SESSIONS[60]) == (
        D(2024, 1, 2),
        D(2024, 2, 14),
        D(2024, 2, 15),
        D(2024, 3, 28),
    )


def test_rolling_defaults() -> None:
    # oos = 61 // (3 + 3) = 10; OOS = sessions 31..60 in three blocks; IS = 61 - 30 = 31 sessions.
    folds = walk_forward_folds(SESSIONS, 3, WalkForwardMode.ROLLING)

    assert folds == [
        Fold(0, (D(2024, 1, 2), D(2024, 2, 14)), (D(2024, 2, 15), D(2024, 2, 29)), 31, 10),  # 0..30 | 31..40
        Fold(1, (D(2024, 1, 17), D(2024, 2, 29)), (D(2024, 3, 1), D(2024, 3, 14)), 31, 10),  # 10..40 | 41..50
        Fold(
            2, (D(2024, 1, 31), D(2024, 3, 14)), (D(2024, 3, 15), D(2024, 3, 28)), 31, 10
        ),  # 20..50 | 51..60
    ]


def test_anchored_defaults_grow_from_the_first_session() -> None:
    folds = walk_forward_folds(SESSIONS, 3, WalkForwardMode.ANCHORED)

    assert folds == [
        Fold(0, (D(2024, 1, 2), D(2024, 2, 14)), (D(2024, 2, 15), D(2024, 2, 29)), 31, 10),
        Fold(1, (D(2024, 1, 2), D(2024, 2, 29)), (D(2024, 3, 1), D(2024, 3, 14)), 41, 10),
        Fold(2, (D(2024, 1, 2), D(2024, 3, 14)), (D(2024, 3, 15), D(2024, 3, 28)), 51, 10),
    ]


def test_rolling_with_explicit_sizes() -> None:
    # 4 folds × 5 OOS from session 41 (2024-03-01); IS 20 sessions, the first from session 21 (2024-02-01).
    folds = walk_forward_folds(SESSIONS, 4, "rolling", out_of_sample_sessions=5, in_sample_sessions=20)

    assert folds == [
        Fold(0, (D(2024, 2, 1), D(2024, 2, 29)), (D(2024, 3, 1), D(2024, 3, 7)), 20, 5),  # 21..40 | 41..45
        Fold(1, (D(2024, 2, 8), D(2024, 3, 7)), (D(2024, 3, 8), D(2024, 3, 14)), 20, 5),  # 26..45 | 46..50
        Fold(2, (D(2024, 2, 15), D(2024, 3, 14)), (D(2024, 3, 15), D(2024, 3, 21)), 20, 5),  # 31..50 | 51..55
        Fold(3, (D(2024, 2, 23), D(2024, 3, 21)), (D(2024, 3, 22), D(2024, 3, 28)), 20, 5),  # 36..55 | 56..60
    ]


def test_anchored_with_an_explicit_in_sample_starts_at_the_first_folds_in_sample() -> None:
    folds = walk_forward_folds(SESSIONS, 4, WalkForwardMode.ANCHORED, 5, 20)

    assert [f.in_sample for f in folds] == [
        (D(2024, 2, 1), D(2024, 2, 29)),
        (D(2024, 2, 1), D(2024, 3, 7)),
        (D(2024, 2, 1), D(2024, 3, 14)),
        (D(2024, 2, 1), D(2024, 3, 21)),
    ]
    assert [f.in_sample_sessions for f in folds] == [20, 25, 30, 35]
    assert [f.out_of_sample for f in folds] == [
        f.out_of_sample for f in walk_forward_folds(SESSIONS, 4, WalkForwardMode.ROLLING, 5, 20)
    ]


def test_one_explicit_size_and_the_other_by_default() -> None:
    # OOS 15 × 2 from session 31; IS defaults to the 31 sessions before.
    two = walk_forward_folds(SESSIONS, 2, WalkForwardMode.ROLLING, out_of_sample_sessions=15)
    assert two == [
        Fold(0, (D(2024, 1, 2), D(2024, 2, 14)), (D(2024, 2, 15), D(2024, 3, 7)), 31, 15),  # 0..30 | 31..45
        Fold(1, (D(2024, 1, 24), D(2024, 3, 7)), (D(2024, 3, 8), D(2024, 3, 28)), 31, 15),  # 15..45 | 46..60
    ]
    # OOS defaults to 10 from session 31; a 10-session IS starts at session 21.
    short = walk_forward_folds(SESSIONS, 3, WalkForwardMode.ROLLING, in_sample_sessions=10)
    assert short[0] == Fold(0, (D(2024, 2, 1), D(2024, 2, 14)), (D(2024, 2, 15), D(2024, 2, 29)), 10, 10)
    assert short[2].in_sample == (D(2024, 3, 1), D(2024, 3, 14))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"folds": 0}, "walk_forward.folds=0 must be at least 1"),
        (
            {"folds": 2, "out_of_sample_sessions": 0},
            "walk_forward.out_of_sample_sessions=0 must be at least 1",
        ),
        (
            {"folds": 2, "in_sample_sessions": 0},
            "walk_forward.in_sample_sessions=0 must be at least 1; leave it out to use every session before "
            "the first out-of-sample block",
        ),
        (
            {"folds": 4, "out_of_sample_sessions": 10, "in_sample_sessions": 30},
            "walk_forward: 4 folds × 10 out-of-sample sessions + 30 in-sample session(s) need 70 sessions, "
            "the window has 61; lengthen the window by 9 sessions or lower walk_forward.folds, "
            "walk_forward.out_of_sample_sessions or walk_forward.in_sample_sessions",
        ),
        (  # the default IS would be 61 - 63 = -2 sessions: at least one is needed
            {"folds": 3, "out_of_sample_sessions": 21},
            "walk_forward: 3 folds × 21 out-of-sample sessions + 1 in-sample session(s) need 64 sessions, "
            "the window has 61; lengthen the window by 3 sessions",
        ),
        (
            {"folds": 2, "mode": "expanding"},
            "walk_forward.mode='expanding' is not a mode; use one of rolling, anchored",
        ),
    ],
)
def test_errors_name_the_field_and_the_fix(kwargs: dict, message: str) -> None:
    kwargs = {"mode": WalkForwardMode.ROLLING, **kwargs}
    with pytest.raises(ValueError) as error:
        walk_forward_folds(SESSIONS, **kwargs)
    assert str(error.value).startswith(message)


def test_a_window_too_short_for_the_default_out_of_sample_length() -> None:
    with pytest.raises(ValueError) as error:
        walk_forward_folds(SESSIONS[:5], 3, WalkForwardMode.ROLLING)
    assert str(error.value) == (
        "walk_forward.out_of_sample_sessions: the default n // (folds + 3) = 5 // 6 is 0; the window has 5 "
        "sessions, too few for 3 folds: lengthen it to at least 6 sessions, lower walk_forward.folds or set "
        "walk_forward.out_of_sample_sessions"
    )


@pytest.mark.parametrize(
    ("sessions", "where"),
    [
        (SESSIONS[:3] + SESSIONS[2:10], "2024-01-04 is followed by 2024-01-04 at position 3"),
        (SESSIONS[10::-1], "2024-01-17 is followed by 2024-01-16 at position 1"),
    ],
)
def test_sessions_must_be_strictly_increasing(sessions: list[date], where: str) -> None:
    with pytest.raises(ValueError, match=f"sessions must be strictly increasing: {where}; sort"):
        walk_forward_folds(sessions, 1, WalkForwardMode.ROLLING)


@pytest.mark.parametrize("mode", list(WalkForwardMode))
def test_folds_tile_the_end_of_the_window_without_overlap(mode: WalkForwardMode) -> None:
    checked = 0
    for n in range(4, 62):
        window = SESSIONS[:n]
        position = {d: i for i, d in enumerate(window)}
        for count in range(1, 7):
            for oos_size in (None, 1, 3):
                if (oos_size is None and n // (count + 3) < 1) or (oos_size or 0) * count >= n:
                    continue
                folds = walk_forward_folds(window, count, mode, out_of_sample_sessions=oos_size)
                oos = oos_size or n // (count + 3)
                first_is = position[folds[0].in_sample[0]]
                assert len(folds) == count
                assert position[folds[-1].out_of_sample[1]] == n - 1  # the last block ends the window
                for k, fold in enumerate(folds):
                    is_start, is_end = (position[d] for d in fold.in_sample)
                    oos_start, oos_end = (position[d] for d in fold.out_of_sample)
                    assert fold.index == k
                    assert oos_end - oos_start + 1 == fold.out_of_sample_sessions == oos
                    assert is_end - is_start + 1 == fold.in_sample_sessions >= 1
                    assert is_end + 1 == oos_start  # IS ends right before its OOS block: no overlap, no gap
                    if k:  # OOS blocks are consecutive and disjoint
                        assert oos_start == position[folds[k - 1].out_of_sample[1]] + 1
                    if mode is WalkForwardMode.ROLLING:
                        assert fold.in_sample_sessions == folds[0].in_sample_sessions
                    else:
                        assert is_start == first_is == 0
                        assert fold.in_sample_sessions == folds[0].in_sample_sessions + k * oos
                checked += 1
    assert checked > 500
