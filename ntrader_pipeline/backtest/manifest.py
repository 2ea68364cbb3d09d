"""What a backtest was run on and with: written beside its frames so metrics and reports need nothing else.

Everything in it is a function of the declaration, the code and the catalog files, never of the clock,
so a rerun on the same inputs writes the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ntrader_pipeline.atomic_files import write_text_atomically
from ntrader_pipeline.backtest.costs import Costs, RiskCaps
from ntrader_pipeline.backtest.versions import CatalogFile

MANIFEST_FILE = "manifest.json"


class PositionSizingRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    method: str
    size: float


class QualityRecord(BaseModel):
    """The quality gate's verdict on the window: every checked session passed, or the run did not happen."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sessions_checked: int
    sessions_failing: int = 0
    empty_sessions: int = 0
    sessions_with_gaps: int = 0  # stored sessions with bars missing (never filled in)
    missing_bars: int = 0


class CorporateActionRecord(BaseModel):
    """A split or dividend in the backtest's window (from the stored factors), or an overnight jump the
    quality rule found matching a split ratio (`possible split`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    date: dt.date
    kind: str  # split | dividend | possible split
    detail: str


class BacktestManifest(BaseModel):
    """
    Provenance of one backtest × instrument.

    `config_hash` is the sha256 of the canonical JSON of the effective declaration (after launchpad
    overrides); `code_version` the package version and git commit (or source hash) plus the strategy
    module's hash; `data_version` a hash over `catalog_files` (bars of the instrument and the index,
    and the instrument definition).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    backtest: str
    strategy: str
    strategy_path: str
    strategy_parameters: dict[str, object] = Field(default_factory=dict)
    instrument_id: str
    bar_type: str
    window_start: dt.date
    window_end: dt.date
    sessions: int
    bars: int
    starting_cash: float
    sizing: PositionSizingRecord
    costs: Costs
    risk: RiskCaps
    index_instrument_id: str
    config_hash: str
    code_version: str
    data_version: str
    catalog_files: list[CatalogFile]
    quality: QualityRecord
    orders_denied: int = 0
    adjustment: str = "none"  # none | splits | splits_and_dividends, applied when the bars were read
    corporate_actions: list[CorporateActionRecord] = Field(default_factory=list)

    def parameters(self) -> dict[str, object]:
        """The strategy's parameters with sizing and commission, flat, for display."""
        return {
            **self.strategy_parameters,
            "sizing": self.sizing.method,
            "size": self.sizing.size,
            "commission": self.costs.commission,
            "prob_slippage": self.costs.prob_slippage,
            "starting_cash": self.starting_cash,
        }


def write_manifest(manifest: BacktestManifest, directory: Path) -> Path:
    payload = manifest.model_dump(mode="json")
    return write_text_atomically(directory / MANIFEST_FILE, json.dumps(payload, indent=2, sort_keys=True))


def read_manifest(directory: Path) -> BacktestManifest:
    path = directory / MANIFEST_FILE
    if not path.exists():
        raise FileNotFoundError(f"backtest manifest {path} is missing; materialize the backtest asset first")
    try:
        return BacktestManifest.model_validate_json(path.read_text())
    except ValueError as exc:
        raise ValueError(f"backtest manifest {path} is unreadable ({exc}); rerun the backtest") from exc
