"""The generated reference pages (docs/gen_reference.py) are committed as generated, and the generator
covers every settings field and every `ntrader` subcommand."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from ntrader_pipeline.settings import REPO_ROOT, IBSettings, PipelineSettings


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_reference", REPO_ROOT / "docs" / "gen_reference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_reference_pages_are_what_the_generator_writes() -> None:
    for path, text in generator().generated_pages().items():
        assert path.read_text() == text, f"{path.name} is stale: run .venv/bin/python docs/gen_reference.py"


def test_every_setting_is_a_row_with_its_default() -> None:
    page = generator().configuration_page()
    for prefix, model in (("IB", IBSettings), ("NTRADER", PipelineSettings)):
        for name in model.model_fields:
            assert f"| `{prefix}_{name.upper()}` |" in page
    assert "| `IB_PORT` | int | `4002` | ≥ 0, ≤ 65535 |" in page
    assert "| `NTRADER_CATALOG` | str | `data/catalog` |" in page  # relative to the repo, not this machine
    assert str(REPO_ROOT) not in page


def test_every_ntrader_subcommand_has_a_section_with_its_options() -> None:
    page = generator().cli_page()
    for command in (
        "gateway",
        "connect",
        "catalog",
        "fetch",
        "strategies",
        "backtest run",
        "results",
        "report",
    ):
        assert f"## `ntrader {command}`" in page
    assert "--check-data IDS" in page and "--fault SPEC" in page and "--param PARAM" in page
    assert str(REPO_ROOT) not in page
