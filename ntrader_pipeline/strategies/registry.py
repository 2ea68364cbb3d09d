"""Strategy lookup: a short name of a packaged strategy, or `package.module:Class` for anyone's own.

The config class is `<Class>Config` in the strategy's module unless given explicitly, so a user strategy
plugs in by import path alone.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from nautilus_trader.config import StrategyConfig
from nautilus_trader.trading.strategy import Strategy

BUILTIN_STRATEGIES: dict[str, str] = {
    "sma_cross": "ntrader_pipeline.strategies.sma_cross:SmaCross",
    "mean_reversion": "ntrader_pipeline.strategies.mean_reversion:MeanReversion",
    "momentum": "ntrader_pipeline.strategies.momentum:Momentum",
}


class StrategyLookupError(ValueError):
    """A strategy or config import path that does not resolve, or parameters its config rejects."""


@dataclass(frozen=True)
class StrategyClasses:
    """A resolved strategy: its class, config class and their import paths."""

    strategy: type[Strategy]
    config: type[StrategyConfig]
    strategy_path: str
    config_path: str

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.config.__struct_fields__)

    def build_config(self, values: Mapping[str, Any]) -> StrategyConfig:
        """Decode `values` (JSON-able: ids as strings) into the config, type-checked like Nautilus does."""
        try:
            return self.config.parse(json.dumps(dict(values), default=str))
        except msgspec.ValidationError as exc:
            raise StrategyLookupError(f"{self.config_path} rejects the parameters: {exc}") from exc

    def build(self, values: Mapping[str, Any]) -> Strategy:
        return self.strategy(self.build_config(values))


def resolve_strategy(strategy: str, config: str | None = None) -> StrategyClasses:
    """
    Import a strategy and its config class.

    Parameters
    ----------
    strategy : str
        A name in `BUILTIN_STRATEGIES` or an import path `package.module:StrategyClass`.
    config : str, optional
        Import path of the config class; default `<StrategyClass>Config` in the same module.

    Raises
    ------
    StrategyLookupError
        If a path does not import, is not a Strategy/StrategyConfig subclass, or no config is found.

    """
    strategy_path = BUILTIN_STRATEGIES.get(strategy, strategy)
    if ":" not in strategy_path:
        raise StrategyLookupError(
            f"strategy {strategy!r} is neither a packaged strategy ({', '.join(BUILTIN_STRATEGIES)}) "
            "nor an import path 'package.module:StrategyClass'"
        )
    strategy_cls = _import(strategy_path)
    if not (isinstance(strategy_cls, type) and issubclass(strategy_cls, Strategy)):
        raise StrategyLookupError(f"{strategy_path} is not a nautilus_trader Strategy subclass")
    config_path = config or f"{strategy_path}Config"
    try:
        config_cls = _import(config_path)
    except StrategyLookupError as exc:
        if config:
            raise
        raise StrategyLookupError(
            f"no config class {config_path} for {strategy_path}; name it {strategy_cls.__name__}Config "
            "in the same module or give its import path as 'config'"
        ) from exc
    if not (isinstance(config_cls, type) and issubclass(config_cls, StrategyConfig)):
        raise StrategyLookupError(f"{config_path} is not a nautilus_trader StrategyConfig subclass")
    return StrategyClasses(strategy_cls, config_cls, strategy_path, config_path)


def _import(path: str) -> object:
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise StrategyLookupError(f"cannot import module {module_name!r} of {path}: {exc}") from exc
    try:
        return getattr(module, attribute)
    except AttributeError as exc:
        raise StrategyLookupError(f"module {module_name!r} has no {attribute!r} (from {path})") from exc
