"""Parameter sweeps and walk-forward validation: declarations, points, results (no Dagster here)."""
