"""The Dockerfile's invariants (no Docker engine here to build it): slim 3.12 base, non-root, pinned
install from pyproject.toml, serves the code location; .dockerignore keeps secrets and data out."""

import fnmatch
import json
import re

import yaml

from ntrader_pipeline.settings import REPO_ROOT

DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()
IGNORED = [
    line.strip()
    for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]


def instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    rows = [
        line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    return [(row.split(None, 1)[0].upper(), row.split(None, 1)[1]) for row in rows]


def test_base_image_is_slim_python_312() -> None:
    assert [v for k, v in instructions() if k == "FROM"] == ["python:3.12-slim"]


def test_runs_as_a_non_root_user_after_the_last_install() -> None:
    steps = instructions()
    users = [i for i, (k, _) in enumerate(steps) if k == "USER"]
    assert users, "no USER instruction: the image would run as root"
    assert steps[users[-1]][1] not in ("root", "0")
    assert max(i for i, (k, _) in enumerate(steps) if k == "RUN") < users[-1]


def test_installs_the_project_with_its_pins() -> None:
    steps = instructions()
    copies = " ".join(v for k, v in steps if k == "COPY")
    assert "pyproject.toml" in copies
    runs = " ".join(v for k, v in steps if k == "RUN")
    assert re.search(r"pip install \"?\.", runs) and "pip install --no-deps ." in runs
    assert "requirements" not in runs  # the pins live in pyproject.toml only


def test_serves_the_code_location_on_the_exposed_port() -> None:
    steps = instructions()
    cmd = json.loads(next(v for k, v in steps if k == "CMD"))
    assert cmd[:3] == ["dagster", "code-server", "start"]
    assert cmd[cmd.index("-m") + 1] == "ntrader_pipeline.definitions"
    port = cmd[cmd.index("-p") + 1]
    assert [v for k, v in steps if k == "EXPOSE"] == [port]
    workspace = yaml.safe_load((REPO_ROOT / "deploy" / "workspace.grpc.yaml").read_text())
    assert str(workspace["load_from"][0]["grpc_server"]["port"]) == port


def test_dockerignore_keeps_secrets_and_data_out_but_not_what_the_image_copies() -> None:
    for excluded in (".env", ".venv", ".git", "data/catalog", "data/dagster"):
        assert excluded in IGNORED
    copied = ["pyproject.toml", "README.md", "ntrader_pipeline", "data/universe.yaml", "dagster.yaml"]
    for path in copied:
        assert not any(fnmatch.fnmatch(path, pattern) for pattern in IGNORED), path


def test_the_files_the_code_location_loads_are_copied_where_the_environment_points() -> None:
    # Installed into site-packages, the package's own defaults would point there, not at the repo's data/.
    env = " ".join(v for k, v in instructions() if k == "ENV")
    copies = " ".join(v for k, v in instructions() if k == "COPY")
    for variable, repo_path in (
        ("NTRADER_UNIVERSE", "data/universe.yaml"),
        ("NTRADER_BACKTESTS", "data/backtests.yaml"),
    ):
        assert f"{variable}=/app/{repo_path}" in env, variable
        assert repo_path in copies, repo_path
        assert not any(fnmatch.fnmatch(repo_path, pattern) for pattern in IGNORED), repo_path
