"""What a backtest was run on and with: written beside its frames so metrics and reports need nothing else."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ntrader_pipeline.backtest.settings import BacktestSettings
from ntrader_pipeline.files import write_text_atomically

MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class BacktestManifest:
    strategy: str
    instrument_id: str
    bar_type: str
    window_start: dt.date
    window_end: dt.date
    sessions: int
    bars: int
    settings: BacktestSettings

    def parameters(self) -> dict[str, object]:
        return self.settings.model_dump(mode="json")


def write_manifest(manifest: BacktestManifest, directory: Path) -> Path:
    payload = asdict(manifest) | {"settings": manifest.parameters()}
    return write_text_atomically(
        directory / MANIFEST_FILE, json.dumps(payload, default=str, indent=2, sort_keys=True)
    )


def read_manifest(directory: Path) -> BacktestManifest:
    path = directory / MANIFEST_FILE
    if not path.exists():
        raise FileNotFoundError(f"backtest manifest {path} is missing; materialize the backtest asset first")
    raw = json.loads(path.read_text())
    return BacktestManifest(
        strategy=raw["strategy"],
        instrument_id=raw["instrument_id"],
        bar_type=raw["bar_type"],
        window_start=dt.date.fromisoformat(raw["window_start"]),
        window_end=dt.date.fromisoformat(raw["window_end"]),
        sessions=int(raw["sessions"]),
        bars=int(raw["bars"]),
        settings=BacktestSettings.model_validate(raw["settings"]),
    )
