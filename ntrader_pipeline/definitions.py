"""The code location (workspace.yaml and `-m` point here): settings, universe, declared backtests and sweeps
are read when Dagster loads it, and a bad value fails the load with one line naming it."""

import dagster as dg

from ntrader_pipeline.backtest.declarations import load_declarations
from ntrader_pipeline.defs import build_definitions
from ntrader_pipeline.logs import configure_logging
from ntrader_pipeline.markets.universe import load_universe
from ntrader_pipeline.settings import load_settings
from ntrader_pipeline.sweeps.declarations import load_sweeps


@dg.definitions
def defs() -> dg.Definitions:
    configure_logging()
    settings = load_settings()
    universe = load_universe(settings.ntrader.universe)
    declarations = load_declarations(settings.ntrader.backtests, universe)
    sweeps = load_sweeps(settings.ntrader.backtests, universe, {d.name for d in declarations})
    return build_definitions(settings, universe, declarations, sweeps=sweeps)
