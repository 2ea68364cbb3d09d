"""Reading the committed YAML files (the universe and the backtests file)."""

from __future__ import annotations

from pathlib import Path

import yaml


def read_yaml(path: Path, what: str, env_var: str, error: type[Exception]) -> object:
    """The parsed content of a YAML file, or `error` naming the file (and `env_var` to point elsewhere)."""
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise error(f"{what} {path} does not exist; set {env_var} to a YAML file") from exc
    except yaml.YAMLError as exc:
        raise error(f"{what} {path} is not valid YAML: {exc}") from exc
