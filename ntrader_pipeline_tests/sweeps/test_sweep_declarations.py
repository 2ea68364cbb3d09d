"""Declared sweeps: grids, ranges and seeded samples expand as written; bad ones fail the load by name."""

from pathlib import Path

import pytest
import yaml

from ntrader_pipeline.markets.universe import load_universe
from ntrader_pipeline.settings import PipelineSettings
from ntrader_pipeline.sweeps.declarations import SweepDeclarationError, load_sweeps

BASE = {
    "strategy": "sma_cross",
    "instruments": ["SPY.ARCA"],
    "window": {"start": "2024-01-02", "end": "2024-03-28"},
    "grid": {"fast_period": [5, 10], "slow_period": {"start": 30, "stop": 90, "step": 30}},
}


@pytest.fixture(scope="module")
def universe():
    return load_universe(PipelineSettings().universe)


def _load(tmp_path: Path, universe, backtests: dict | None = None, **fields):
    path = tmp_path / "backtests.yaml"
    document = {"backtests": backtests or {}, "sweeps": {"grid_test": {**BASE, **fields}}}
    path.write_text(yaml.safe_dump(document))
    return load_sweeps(path, universe, set(backtests or {}))


def test_grid_expands_in_declaration_order_with_inclusive_ranges(tmp_path, universe):
    (sweep,) = _load(tmp_path, universe)
    assert [(p.key, p.parameters) for p in sweep.points()] == [
        ("p000", {"fast_period": 5, "slow_period": 30}),
        ("p001", {"fast_period": 5, "slow_period": 60}),
        ("p002", {"fast_period": 5, "slow_period": 90}),
        ("p003", {"fast_period": 10, "slow_period": 30}),
        ("p004", {"fast_period": 10, "slow_period": 60}),
        ("p005", {"fast_period": 10, "slow_period": 90}),
    ]
    declaration = sweep.point_declaration(sweep.point("p004"))
    assert declaration.parameters == {"fast_period": 10, "slow_period": 60}
    assert declaration.name == "grid_test_p004"


def test_decimal_steps_stay_exact(tmp_path, universe):
    (sweep,) = _load(
        tmp_path,
        universe,
        strategy="momentum",
        parameters={"lookback": 30},
        grid={"entry_roc": {"start": 0.001, "stop": 0.003, "step": 0.001}},
    )
    assert [p.parameters["entry_roc"] for p in sweep.points()] == [0.001, 0.002, 0.003]


def test_seeded_sample_is_stable_and_keeps_grid_keys(tmp_path, universe):
    grid = {"fast_period": [2, 4, 6, 8, 10], "slow_period": [20, 40, 60, 80]}
    (first,) = _load(tmp_path, universe, grid=grid, sample={"size": 7, "seed": 11})
    (again,) = _load(tmp_path, universe, grid=grid, sample={"size": 7, "seed": 11})
    (other,) = _load(tmp_path, universe, grid=grid, sample={"size": 7, "seed": 12})
    keys = [p.key for p in first.points()]
    assert keys == [p.key for p in again.points()]
    assert keys == sorted(keys) and len(set(keys)) == 7
    assert keys != [p.key for p in other.points()]
    for point in first.points():  # a sampled point is the grid point of its index
        index = int(point.key[1:])
        assert point.parameters == {
            "fast_period": grid["fast_period"][index // 4],
            "slow_period": grid["slow_period"][index % 4],
        }
    assert first.sweep_hash("SPY.ARCA") == again.sweep_hash("SPY.ARCA")
    assert first.sweep_hash("SPY.ARCA") != other.sweep_hash("SPY.ARCA")
    (wider,) = _load(
        tmp_path, universe, grid={**grid, "slow_period": [20, 40, 60, 90]}, sample={"size": 7, "seed": 11}
    )
    assert wider.sweep_hash("SPY.ARCA") != first.sweep_hash("SPY.ARCA")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"grid": {"fast_periodd": [5, 10]}}, "field grid.fast_periodd: point p000 (fast_periodd=5): "),
        (
            {"grid": {"fast_period": [10, 40], "slow_period": [30]}},
            "field grid: point p001 (fast_period=40, slow_period=30): ",
        ),
        ({"sample": {"size": 9, "seed": 1}}, "sample.size 9 is larger than the grid's 6 points"),
        ({"grid": {"fast_period": []}}, "grid.fast_period has no values"),
        ({"grid": {"fast_period": {"start": 10, "stop": 5, "step": 1}}}, "start 10 is after stop 5"),
        ({"parameters": {"fast_period": 5}}, "grid.fast_period is also a fixed parameter"),
        ({"grid": {"fast_period": list(range(1, 30)), "slow_period": list(range(30, 40))}}, "more than 200"),
        ({"metric": "luck"}, "field metric: Input should be 'sharpe'"),
        ({"instruments": ["NOPE.ARCA"]}, "field instruments: point p000"),
        (
            {"walk_forward": {"folds": 10, "in_sample_sessions": 40, "out_of_sample_sessions": 5}},
            "field walk_forward: ",
        ),
        (
            {
                "strategy": "ntrader_pipeline_tests.sweeps.test_walk_forward:NoWarmUp",
                "grid": {"lookback": [1, 2]},
                "walk_forward": {"folds": 2},
            },
            "field walk_forward: strategy ntrader_pipeline_tests.sweeps.test_walk_forward:NoWarmUp cannot "
            "be warmed up out of sample: its config "
            "ntrader_pipeline_tests.sweeps.test_walk_forward:NoWarmUpConfig has no `trade_from` field",
        ),
    ],
)
def test_bad_sweep_fails_naming_file_sweep_and_field(tmp_path, universe, fields, expected):
    with pytest.raises(SweepDeclarationError) as raised:
        _load(tmp_path, universe, **fields)
    message = str(raised.value)
    assert message.startswith(f"backtests file {tmp_path / 'backtests.yaml'}, sweep 'grid_test': ")
    assert expected in message


def test_sweep_named_like_a_backtest_is_refused(tmp_path, universe):
    backtest = {k: v for k, v in BASE.items() if k != "grid"}
    with pytest.raises(SweepDeclarationError, match="a backtest has the same name"):
        _load(tmp_path, universe, backtests={"grid_test": backtest})


def test_the_demo_declares_a_sweep_with_walk_forward(universe):
    sweeps = load_sweeps(PipelineSettings().backtests, universe)
    assert [s.name for s in sweeps] == ["sma_grid"]
    assert sweeps[0].walk_forward is not None and len(sweeps[0].points()) == 6
