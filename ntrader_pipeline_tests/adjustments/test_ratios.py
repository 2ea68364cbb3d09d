"""The ratio arithmetic against hand-worked examples (docs/concepts/back-adjustment.md, rule 3)."""

from __future__ import annotations

import pytest

from ntrader_pipeline.adjustments.ratios import SplitRatio, simplest_ratio


@pytest.mark.parametrize(
    ("low", "high", "near", "expected"),
    [
        # 3:2 with a 0.5 % dividend: s = 1.5 / 0.995 = 1.50754; window [s × 0.9, s] = [1.3568, 1.5075]
        # holds no integer; 3/2 (small side 2) beats 7/5 (5), 10/7 (7) and 4/3 (3 > 2)
        (1.3568, 1.5075, 1.5075, "3:2"),
        # 50:1 with a 1 % dividend: s = 50.505, window [45.45, 50.505]: every integer 46..50 has small side
        # 1, so the nearest to s wins
        (45.45, 50.505, 50.505, "50:1"),
        # 1:8 reverse with 1 % dividend: s = 0.125 / 0.99 = 0.12626; 1/9 = 0.111 is below the window
        (0.11364, 0.12626, 0.12626, "1:8"),
        # 7:1 exactly, within a rounding bound of 1e-4
        (6.9993, 7.0007, 7.0, "7:1"),
        # 2:1 with a 5 % dividend: s = 2 / 0.95 = 40/19 exactly; 2 (small side 1) beats 40:19
        (1.8947, 2.10527, 2.10526, "2:1"),
        # 1:25, 1:15, 5:2, 6:1: not in main's fixed list
        (0.03999, 0.04001, 0.04, "1:25"),
        (0.06666, 0.06667, 0.066667, "1:15"),
        (2.4999, 2.5001, 2.5, "5:2"),
        (5.9999, 6.0001, 6.0, "6:1"),
        # nothing between 1.0 and 1.0038 with terms up to 50 (51/50 would need a side of 51)
        (1.0, 1.0038, 1.0038, None),
        # 1:217 is beyond 1:50
        (0.0041, 0.0047, 0.0046, None),
    ],
)
def test_the_simplest_ratio_in_an_interval(low, high, near, expected):
    found = simplest_ratio(low, high, near)
    assert (str(found) if found else None) == expected


def test_ratios_parse_and_value():
    assert SplitRatio.parse("7:1").value == 7.0
    assert SplitRatio.parse("1:8").value == 0.125
    assert str(SplitRatio(50, 1)) == "50:1"
