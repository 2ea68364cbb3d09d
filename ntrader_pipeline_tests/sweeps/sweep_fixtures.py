"""A small declared sweep over SPY's January 2024 minute bars, fetched once from the embedded gateway."""

import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import yaml

from ntrader_pipeline.backtest.declarations import BacktestDeclaration, load_declarations
from ntrader_pipeline.catalog.file_cache import SETTLE_NS
from ntrader_pipeline.defs import build_definitions
from ntrader_pipeline.defs.resources import IBGatewayResource, StorageResource
from ntrader_pipeline.gateway import EmbeddedGateway
from ntrader_pipeline.markets.universe import Universe, load_universe
from ntrader_pipeline.settings import IBSettings, PipelineSettings, Settings
from ntrader_pipeline.sweeps.declarations import SweepDeclaration, load_sweeps
from ntrader_pipeline_tests.conftest import gateway_ib_settings
from ntrader_pipeline_tests.defs.helpers import MINUTE_BARS, all_assets, materialize

SWEEP = "mini"
INSTRUMENT = "SPY.ARCA"
WINDOW = ("2024-01-02", "2024-01-31")
SWEEP_DECLARATION = {
    "strategy": "sma_cross",
    "grid": {"fast_period": [5, 10], "slow_period": {"start": 30, "stop": 60, "step": 30}},
    "metric": "sharpe",
    "walk_forward": {"mode": "rolling", "folds": 2, "out_of_sample_sessions": 5},
    "instruments": [INSTRUMENT],
    "window": {"start": WINDOW[0], "end": WINDOW[1]},
    "sizing": {"method": "fixed_shares", "size": 100},
    "index_instrument": INSTRUMENT,
}


@dataclass(frozen=True)
class SweepSetup:
    root: Path
    backtests_path: Path
    storage: StorageResource
    ib: IBGatewayResource
    settings: Settings
    universe: Universe
    declarations: list[BacktestDeclaration]
    sweeps: list[SweepDeclaration]

    @property
    def sweep(self) -> SweepDeclaration:
        return self.sweeps[0]

    def definitions(self) -> dg.Definitions:
        return build_definitions(
            self.settings,
            self.universe,
            self.declarations,
            resources={"ib": self.ib, "storage": self.storage},
            sweeps=self.sweeps,
        )


def gateway_resource(gateway: EmbeddedGateway) -> IBGatewayResource:
    """The `ib_resource` fixture's resource, for a gateway a module-scoped fixture shares."""
    return IBGatewayResource(**gateway_ib_settings(gateway).model_dump())


def write_backtests_file(path: Path, **sweep_fields: object) -> Path:
    committed = yaml.safe_load(PipelineSettings().backtests.read_text())
    document = {"backtests": committed["backtests"], "sweeps": {SWEEP: {**SWEEP_DECLARATION, **sweep_fields}}}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def sweep_setup(root: Path, ib: IBGatewayResource) -> SweepSetup:
    """Storage under `root` with SPY's window fetched, and the code location with the `mini` sweep."""
    root.mkdir(parents=True, exist_ok=True)
    storage = StorageResource(
        catalog=str(root / "catalog"), artifacts=str(root / "backtests"), reports=str(root / "reports")
    )
    backtests_path = write_backtests_file(root / "backtests.yaml")
    fetched = materialize(
        dg.AssetSelection.assets(MINUTE_BARS),
        ib,
        storage,
        partition_range=(f"{WINDOW[0]}|{INSTRUMENT}", f"{WINDOW[1]}|{INSTRUMENT}"),
        assets=all_assets(None, backtests_path),
    )
    assert fetched.success
    # Files younger than SETTLE_NS are never cached (catalog.file_cache): let the fetched ones settle, so
    # the sweep's points can share one read of them as they do outside tests.
    time.sleep(SETTLE_NS / 1e9)
    settings = Settings(ib=IBSettings(), ntrader=PipelineSettings(backtests=backtests_path))
    universe = load_universe(settings.ntrader.universe)
    declarations = load_declarations(backtests_path, universe)
    sweeps = load_sweeps(backtests_path, universe, {d.name for d in declarations})
    return SweepSetup(root, backtests_path, storage, ib, settings, universe, declarations, sweeps)
