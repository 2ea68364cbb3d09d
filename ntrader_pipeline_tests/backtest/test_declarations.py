"""The backtests file: the committed one loads, bad ones fail naming file, backtest and field, and a user's
own strategy outside the package plugs in by import path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from ntrader_pipeline import definitions
from ntrader_pipeline.backtest.declarations import BacktestDeclarationError, load_declarations
from ntrader_pipeline.backtest.engine import run_backtest
from ntrader_pipeline.markets.universe import load_universe
from ntrader_pipeline.settings import PipelineSettings
from ntrader_pipeline_tests.backtest.bar_fixtures import minute_bars

DEFAULTS = PipelineSettings()
UNIVERSE = load_universe(DEFAULTS.universe)
GOOD = {
    "strategy": "sma_cross",
    "parameters": {"fast_period": 5, "slow_period": 20},
    "instruments": ["SPY.ARCA"],
    "window": {"start": "2024-01-02", "end": "2024-01-05"},
}


def _write(tmp_path: Path, backtests: dict) -> Path:
    path = tmp_path / "backtests.yaml"
    path.write_text(yaml.safe_dump({"backtests": backtests}))
    return path


def test_committed_file_declares_the_three_strategies() -> None:
    declarations = load_declarations(DEFAULTS.backtests, UNIVERSE)
    names = ["sma_cross", "mean_reversion", "momentum", "sma_cross_split_adjusted"]
    assert [d.name for d in declarations] == names
    assert [d.adjustment.value for d in declarations] == ["none", "none", "none", "splits"]
    assert {d.sizing.method.value for d in declarations} == {
        "fixed_shares",
        "fixed_notional",
        "percent_of_equity",
    }


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"instruments": ["TSLA.NASDAQ"]}, "instruments", "'TSLA.NASDAQ' is not in the universe"),
        ({"index_instrument": "VOO.ARCA"}, "index_instrument", "'VOO.ARCA' is not in the universe"),
        ({"strategy": "turtle"}, "strategy", "neither a packaged strategy"),
        ({"strategy": "no_such_module:Strategy"}, "strategy", "cannot import module 'no_such_module'"),
        ({"parameters": {"fast_period": 5, "slow_period": 20, "fast": 3}}, "parameters.fast", "has no field"),
        (
            {"parameters": {"fast_period": 30, "slow_period": 20}},
            "parameters",
            "must be less than slow_period",
        ),
        ({"parameters": {"fast_period": "ten"}}, "parameters", "Expected `int`"),
        ({"window": {"start": "2024-02-01", "end": "2024-01-01"}}, "window", "is after end"),
        ({"sizing": {"method": "all_in", "size": 1}}, "sizing.method", "Input should be"),
        ({"costs": {"commission": "ibkr_flat"}}, "costs.commission", "Input should be"),
        ({"risk": {"max_notional_per_order": -5}}, "risk.max_notional_per_order", "greater than 0"),
        ({"stop_loss": 0.05}, "stop_loss", "Extra inputs are not permitted"),
        ({"bar_spec": "1-FORTNIGHT-LAST"}, "bar_spec", "'1-FORTNIGHT-LAST' is not a bar spec"),
        ({"adjustment": "dividends"}, "adjustment", "'none', 'splits' or 'splits_and_dividends'"),
        ({"adjustment": "splits"}, "adjustment", "splits for SPY.ARCA: the universe has no adjusted series"),
    ],
)
def test_bad_declaration_names_file_backtest_and_field(tmp_path, change, field, message) -> None:
    path = _write(tmp_path, {"good": GOOD, "bad_one": {**GOOD, **change}})
    with pytest.raises(BacktestDeclarationError) as error:
        load_declarations(path, UNIVERSE)
    text = str(error.value)
    assert f"backtests file {path}, backtest 'bad_one'" in text
    assert f"field {field}" in text and message in text


def test_an_adjusted_declaration_loads_when_the_universe_has_the_adjusted_series(tmp_path) -> None:
    universe_file = tmp_path / "universe.yaml"
    universe_file.write_text(
        "bar_specs: [1-MINUTE-LAST, 1-DAY-LAST]\ninstruments:\n"
        "  - {symbol: SPY, primary_exchange: ARCA}\n"
        "  - {symbol: SPY, primary_exchange: ARCA, adjusted: true}\n"
    )
    universe = load_universe(universe_file)
    path = _write(tmp_path, {"adjusted": {**GOOD, "index_instrument": "SPY.ARCA", "adjustment": "splits"}})
    (declaration,) = load_declarations(path, universe)
    assert declaration.adjustment == "splits"
    assert (
        load_declarations(_write(tmp_path, {"plain": {**GOOD, "index_instrument": "SPY.ARCA"}}), universe)[
            0
        ].adjustment
        == "none"
    )


def test_file_without_backtests_mapping_is_rejected(tmp_path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("backtest: {}\n")
    with pytest.raises(BacktestDeclarationError, match="must have a 'backtests' mapping"):
        load_declarations(path, UNIVERSE)
    with pytest.raises(BacktestDeclarationError, match="does not exist; set NTRADER_BACKTESTS"):
        load_declarations(tmp_path / "missing.yaml", UNIVERSE)


USER_STRATEGY = '''
from nautilus_trader.model.data import Bar
from ntrader_pipeline.strategies.long_only import LongOnlyConfig, LongOnlyStrategy, Signal


class BuyFirstBarConfig(LongOnlyConfig, frozen=True):
    hold_bars: int = 2


class BuyFirstBar(LongOnlyStrategy):
    """Buys on the first bar, sells `hold_bars` bars later."""

    def __init__(self, config: BuyFirstBarConfig) -> None:
        super().__init__(config)
        self.seen = 0

    def signal(self, bar: Bar) -> Signal | None:
        self.seen += 1
        if self.seen == 1:
            return Signal.ENTER
        return Signal.EXIT if self.seen == 1 + self.config.hold_bars else None
'''


def test_user_strategy_outside_the_package_plugs_in_by_import_path(tmp_path, monkeypatch, spy) -> None:
    (tmp_path / "my_strategies.py").write_text(textwrap.dedent(USER_STRATEGY))
    monkeypatch.syspath_prepend(str(tmp_path))
    path = _write(
        tmp_path,
        {"mine": {**GOOD, "strategy": "my_strategies:BuyFirstBar", "parameters": {"hold_bars": 3}}},
    )
    [declaration] = load_declarations(path, UNIVERSE)
    classes = declaration.strategy_classes()
    assert classes.config_path == "my_strategies:BuyFirstBarConfig"

    values = declaration.strategy_values(classes, "SPY.ARCA")
    result = run_backtest(
        spy, minute_bars(spy, [10, 11, 12, 13, 14]), lambda _: classes.build(values), 100_000.0
    )
    assert result.fills["side"].to_list() == ["BUY", "SELL"]
    assert result.fills["price"].to_list() == [10.0, 13.0]


def test_env_var_selects_the_file_and_a_bad_one_fails_the_code_location_load(tmp_path, monkeypatch) -> None:
    path = _write(tmp_path, {"broken": {**GOOD, "sizing": {"method": "fixed_shares", "size": 0}}})
    monkeypatch.setenv("NTRADER_BACKTESTS", str(path))
    monkeypatch.chdir(tmp_path)  # no .env here
    with pytest.raises(BacktestDeclarationError) as raised:
        definitions.defs()  # what Dagster calls when it loads the code location
    assert f"backtests file {path}, backtest 'broken': field sizing.size" in str(raised.value)
