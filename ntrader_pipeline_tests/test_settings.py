"""One settings model: every variable from the environment or `.env`, bad values named in one line,
and resources that show variable names (not values) in Dagster."""

import re
from pathlib import Path

import dagster as dg
import pytest

from ntrader_pipeline.defs.resources import build_resources
from ntrader_pipeline.settings import REPO_ROOT, SettingsError, load_settings

# One bad value per variable whose value has a form. Every variable of the configuration reference is
# here or in FREE_FORM (test_every_documented_variable_is_covered keeps the two in step).
BAD_VALUES = {
    "IB_PORT": ("abc", "valid integer"),
    "IB_CLIENT_ID": ("-1", "greater than or equal to 0"),
    "IB_CONNECT_TIMEOUT_S": ("soon", "valid number"),
    "IB_REQUEST_TIMEOUT_S": ("abc", "valid number"),
    "IB_MAX_ATTEMPTS": ("0", "greater than or equal to 1"),
    "IB_MAX_OPEN_REQUESTS": ("51", "more than IB allows"),
    "IB_BACKOFF_BASE_S": ("-2", "greater than or equal to 0"),
    "IB_BACKOFF_CAP_S": ("x", "valid number"),
    "IB_BACKOFF_JITTER": ("2", "less than or equal to 1"),
    "IB_PACING": ("maybe", "valid boolean"),
    "IB_PACING_MAX_WAIT_S": ("0", "greater than 0"),
    "NTRADER_EXECUTOR": ("threads", "'celery' or 'celery_k8s'"),
    "NTRADER_CELERY_BROKER": ("localhost:6379", "a Celery broker URL starting with redis://, rediss://"),
    "NTRADER_CELERY_BACKEND": ("amqp://guest@localhost//", "a Celery result backend URL starting with"),
    "NTRADER_FIRST_SESSION": ("2024-13-01", "valid date"),
    "NTRADER_UI_PORT": ("70000", "less than or equal to 65535"),
    "NTRADER_GATEWAY_PORT": ("x", "valid integer"),
    "NTRADER_REPORTS_PORT": ("-1", "greater than or equal to 0"),
    "NTRADER_CATALOG": ("s3://", "a directory or an object-store URL such as s3://bucket/prefix"),
    "NTRADER_REPORTS_URL": ("127.0.0.1:3001", "an http:// or https:// base URL"),
    "NTRADER_DEMO_START": ("yesterday", "valid date"),
    "NTRADER_DEMO_END": ("2024-02-30", "valid date"),
}
# Exempt: free-form values any string of which is a valid setting.
FREE_FORM = {
    "IB_HOST": "a host name or address; a wrong one fails the connection, naming IB_HOST:IB_PORT",
    "IB_PACING_DB": "a file path; SQLite creates it",
    "NTRADER_ARTIFACTS": "a directory path, created on first write",
    "NTRADER_REPORTS": "a directory path, created on first write",
    "NTRADER_LOGS": "a directory path, created on first write",
    "NTRADER_UNIVERSE": "a file path; the file's content is validated at load, naming file, entry and field",
    "NTRADER_BACKTESTS": "a file path; validated at load against the universe",
}


@pytest.mark.parametrize("variable", sorted(BAD_VALUES))
def test_a_bad_value_names_the_variable_the_value_and_the_form(variable, monkeypatch, tmp_path) -> None:
    value, expected = BAD_VALUES[variable]
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings(env_file=tmp_path / "none.env")
    message = str(raised.value)
    assert "\n" not in message
    assert f"{variable}={value!r} is invalid" in message
    assert expected in message


def _documented_variables() -> set[str]:
    """Variable names in the first column of the configuration reference's tables (generated from the
    settings model: docs/gen_reference.py)."""
    section = (REPO_ROOT / "docs" / "reference" / "configuration.md").read_text()
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def test_every_documented_variable_is_covered() -> None:
    documented = _documented_variables()
    assert len(documented) > 20, documented
    assert documented - set(BAD_VALUES) - set(FREE_FORM) == set()
    assert set(BAD_VALUES) | set(FREE_FORM) <= documented  # no stale entries either


def test_env_file_is_read_and_the_environment_wins(monkeypatch, tmp_path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("IB_PORT=4555\nIB_MAX_ATTEMPTS=5\nNTRADER_CATALOG=/data/catalog\n")
    monkeypatch.setenv("IB_MAX_ATTEMPTS", "7")
    settings = load_settings(env_file=env_file)
    assert settings.ib.port == 4555
    assert settings.ib.max_attempts == 7
    assert settings.ntrader.catalog == "/data/catalog"


def test_env_file_in_the_working_directory_is_the_default(monkeypatch, tmp_path) -> None:
    (tmp_path / ".env").write_text("IB_PORT=4999\nIB_REQUEST_TIMEOUT_S=7\n")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert (settings.ib.port, settings.ib.request_timeout_s) == (4999, 7.0)


def test_resources_show_variable_names_not_values(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("IB_HOST", "gateway.internal")
    monkeypatch.setenv("IB_PORT", "4001")
    monkeypatch.setenv("NTRADER_CATALOG", "s3://bucket/catalog")
    resources = build_resources(load_settings(env_file=None))
    ib, storage = resources["ib"], resources["storage"]
    assert ib.host == dg.EnvVar("IB_HOST") and ib.port == dg.EnvVar.int("IB_PORT")
    assert storage.catalog == dg.EnvVar("NTRADER_CATALOG")
    assert isinstance(ib.host, dg.EnvVar)

    @dg.asset
    def probe(ib: dg.ConfigurableResource, storage: dg.ConfigurableResource) -> dict:
        return {"ib": ib.settings(), "catalog": storage.catalog}

    result = dg.materialize([probe], resources=resources)
    value = result.output_for_node("probe")
    assert (value["ib"].host, value["ib"].port, value["catalog"]) == (
        "gateway.internal",
        4001,
        "s3://bucket/catalog",
    )


def test_a_value_set_in_code_is_passed_as_it_is(monkeypatch) -> None:
    monkeypatch.setenv("IB_PORT", "4001")
    settings = load_settings(env_file=None)
    moved = settings.model_copy(update={"ib": settings.ib.model_copy(update={"port": 4123})})
    assert build_resources(moved)["ib"].port == 4123


def test_defaults_point_into_the_repo_data_directory(monkeypatch) -> None:
    for name in ("NTRADER_CATALOG", "NTRADER_UNIVERSE", "NTRADER_BACKTESTS"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(env_file=None)
    data = Path(__file__).resolve().parents[1] / "data"
    assert Path(settings.ntrader.catalog) == data / "catalog"
    assert settings.ntrader.universe == data / "universe.yaml"
    assert settings.ntrader.backtests == data / "backtests.yaml"


def test_constrained_numbers_set_in_the_environment_reach_the_resource(monkeypatch) -> None:
    """IB_MAX_ATTEMPTS (ge=1) from the environment is passed as `dg.EnvVar.int`; Dagster validates that
    as 0 before reading the variable, so the resource must not repeat the settings' constraints."""
    monkeypatch.setenv("IB_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("IB_PACING_MAX_WAIT_S", "5")
    resources = build_resources(load_settings(env_file=None))
    assert resources["ib"].max_attempts == dg.EnvVar.int("IB_MAX_ATTEMPTS")

    @dg.asset
    def probe(ib: dg.ConfigurableResource) -> int:
        return ib.settings().max_attempts

    assert dg.materialize([probe], resources=resources).output_for_node("probe") == 2
