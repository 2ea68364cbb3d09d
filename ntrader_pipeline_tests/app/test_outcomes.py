"""The application layer's outcomes as Dagster shows them, and its errors as step failures."""

from pathlib import Path

import dagster as dg
import pytest

from ntrader_pipeline.app.backtests import compare_backtests
from ntrader_pipeline.app.locations import Locations
from ntrader_pipeline.app.outcomes import CheckOutcome, Json, Link, Markdown, StepError, StepOutcome
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.defs.outcomes import (
    check_result,
    dagster_metadata,
    materialize_result,
    step_errors_as_failures,
)


def test_typed_values_become_dagster_metadata_values(tmp_path: Path) -> None:
    metadata = dagster_metadata(
        {
            "table": Markdown("| a |\n|---|\n| 1 |"),
            "report_url": Link("http://127.0.0.1:3001/r.html"),
            "samples": Json([{"close": 1.5}]),
            "file": tmp_path / "x.parquet",
            "bars": 390,
            "note": "IB has no data",
        }
    )
    assert metadata["table"] == dg.MetadataValue.md("| a |\n|---|\n| 1 |")
    assert metadata["report_url"] == dg.MetadataValue.url("http://127.0.0.1:3001/r.html")
    assert metadata["samples"] == dg.MetadataValue.json([{"close": 1.5}])
    assert metadata["file"] == dg.MetadataValue.path(str(tmp_path / "x.parquet"))
    assert (metadata["bars"], metadata["note"]) == (390, "IB has no data")


def test_results_carry_data_version_and_verdict() -> None:
    result = materialize_result(StepOutcome({"bars": 1}, data_version="abc123"))
    assert result.data_version == dg.DataVersion("abc123") and result.metadata == {"bars": 1}
    assert materialize_result(StepOutcome({})).data_version is None
    outcome = CheckOutcome(False, {"missing": 2}, "SPY.ARCA: 2024-01-03 not stored")
    check = check_result(outcome, "bar_quality")
    assert (check.check_name, check.passed, check.description) == (
        "bar_quality",
        False,
        "SPY.ARCA: 2024-01-03 not stored",
    )


def test_a_step_error_fails_the_step_with_its_description_and_metadata() -> None:
    with pytest.raises(dg.Failure) as failure, step_errors_as_failures():
        raise StepError("2 sessions were not stored", {"failures": Markdown("- a\n- b")})
    assert failure.value.description == "2 sessions were not stored"
    assert failure.value.metadata["failures"] == dg.MetadataValue.md("- a\n- b")


def test_comparison_without_metrics_says_what_to_materialize(tmp_path: Path) -> None:
    locations = Locations(CatalogStore(tmp_path / "catalog"), tmp_path / "backtests", tmp_path / "reports")
    with pytest.raises(StepError, match="materialize the <name>_metrics assets first"):
        compare_backtests(locations, [], "sharpe")


def test_report_urls_follow_where_reports_are_served(tmp_path: Path) -> None:
    served = Locations(CatalogStore(tmp_path), tmp_path, tmp_path / "reports", "http://127.0.0.1:3001/")
    assert served.report_url(tmp_path / "reports" / "a b" / "x.html") == "http://127.0.0.1:3001/a%20b/x.html"
    local = Locations(CatalogStore(tmp_path), tmp_path, tmp_path / "reports")
    assert local.report_url(tmp_path / "x.html") == (tmp_path / "x.html").resolve().as_uri()
    with pytest.raises(ValueError, match="outside the reports directory"):
        served.report_url(tmp_path / "x.html")
