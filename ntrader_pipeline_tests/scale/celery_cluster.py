"""A throwaway Celery cluster: redis-server on a free loopback port (no persistence, its directory under
`tmp_path`) as broker (db 0) and result backend (db 1), and `workers` Dagster Celery workers, each its own
OS process; all stopped on exit, also when the test fails.

Each worker is the documented entry, `dagster-celery worker start -A dagster_celery.app -y <config> -n wN
-- --pool solo`: it writes the config's broker and backend into a `dagster_celery_config` module under
DAGSTER_HOME and runs `celery -A dagster_celery.app worker --prefetch-multiplier=1` as its child. Both run
in a process group of their own, which is what the fixture stops (SIGTERM, then SIGKILL after
STOP_TIMEOUT_S). A worker's pid is the one the worker itself reports (`celery inspect stats`).

How a step runs inside a worker: dagster-celery's `execute_plan` task rebuilds the job from its code pointer
(a `-m` module is imported once per process and then found in `sys.modules`) and runs the step with
`execute_plan_iterator` inside the task itself. With `--pool solo` that is the worker's own long-lived
process: no subprocess per step, so a process-level cache survives from one step to the next on the same
worker (`test_celery_cluster.py` asserts it: two steps on one worker report the same pid, and the later
one sees what the earlier one left in a module-level list). With Celery's default prefork pool the steps
would run in the pool's long-lived child processes instead, still without a process per step.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest

from ntrader_pipeline.settings import REPO_ROOT
from ntrader_pipeline_tests.cli import tree_pythonpath

REDIS_MISSING = "redis-server is not installed; `.ci/run` installs it (apt-get install redis-server)"
BIN = Path(sys.executable).parent
START_TIMEOUT_S = 60.0  # redis answering PING, every worker answering `inspect stats`
STOP_TIMEOUT_S = 15.0  # SIGTERM's grace before SIGKILL
# The workers' config, as the README starts them: broker and backend from NTRADER_CELERY_BROKER/_BACKEND
WORKER_CONFIG = REPO_ROOT / "deploy" / "celery-worker.yaml"


@dataclass(frozen=True)
class CeleryWorker:
    name: str  # the Celery node name, w1@<host>
    pid: int  # the worker process, where its steps run (--pool solo)
    log: Path


@dataclass(frozen=True)
class CeleryCluster:
    broker: str
    backend: str
    workers: tuple[CeleryWorker, ...]
    redis_log: Path
    # What a run needs to use this cluster: NTRADER_EXECUTOR=celery and the broker variables
    env: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [worker.name for worker in self.workers]

    @property
    def pids(self) -> list[int]:
        return [worker.pid for worker in self.workers]

    @property
    def logs(self) -> list[Path]:
        return [worker.log for worker in self.workers]

    def run(self, command: list[str], env: dict[str, str], timeout_s: float) -> None:
        """Run a `dagster` command whose steps go to this cluster; a failure shows its stderr and every
        worker's log tail."""
        done = subprocess.run(
            command,
            cwd=env["DAGSTER_HOME"],
            env={**os.environ, **env, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
        logs = "\n".join(f"--- {log.name} ---\n{_tail(log)}" for log in self.logs)
        assert done.returncode == 0, f"{done.stderr[-3000:]}\n{logs}"


def cluster_home(root: Path) -> Path:
    """A fresh DAGSTER_HOME under `root` for the workers and the run (SQLite storage, no telemetry)."""
    home = root / "dagster_home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return home


def code_env(home: Path, **variables: str) -> dict[str, str]:
    """What the workers and the run add to the environment: the instance, this tree first on the path
    (the workers import the code location from it), and the code location's NTRADER_* variables."""
    return {"DAGSTER_HOME": str(home), "PYTHONPATH": tree_pythonpath(), **variables}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _group_alive(pgid: int) -> bool:
    """Any live (not zombie) process left in the process group?"""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # pid (comm) state ppid pgrp …: split after the command, which may hold spaces
            state, _ppid, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError, ValueError):
            continue
        if int(pgrp) == pgid and state != "Z":
            return True
    return False


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the process's group (the worker and its children), SIGKILL after STOP_TIMEOUT_S."""
    pgid = process.pid  # start_new_session: the group's id is the leader's pid
    for sig, grace in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, STOP_TIMEOUT_S)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            process.poll()  # reap the leader
            if not _group_alive(pgid):
                return
            time.sleep(0.1)
    raise AssertionError(f"process group {pgid} survived SIGKILL")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _start_redis(directory: Path, port: int) -> subprocess.Popen:
    server = shutil.which("redis-server")
    assert server is not None
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "redis.log"
    command = [
        server,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(directory),
        "--logfile",
        str(log),
        "--daemonize",
        "no",
    ]
    return subprocess.Popen(command, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def _wait_for_redis(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _answers_ping(port):
        if process.poll() is not None:
            raise AssertionError(f"redis-server exited with {process.returncode}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"redis-server did not answer PING in {START_TIMEOUT_S} s:\n{_tail(log)}")
        time.sleep(0.05)


def _wait_for_workers(
    broker: str, backend: str, processes: dict[str, subprocess.Popen], logs: dict[str, Path]
) -> dict[str, int]:
    """Node name → pid of every worker, once each answers `inspect stats` through the broker."""
    from celery import Celery

    app = Celery("ntrader-celery-probe", broker=broker, backend=backend)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    raise AssertionError(
                        f"Celery worker {name} exited with {process.returncode}:\n{_tail(logs[name])}"
                    )
            stats = app.control.inspect(timeout=1.0).stats() or {}
            found = {
                prefix: node for prefix in processes for node in stats if node.split("@", 1)[0] == prefix
            }
            if len(found) == len(processes):
                return {node: int(stats[node]["pid"]) for node in found.values()}
            if time.monotonic() > deadline:
                missing = sorted(set(processes) - set(found))
                tails = "\n".join(f"--- {name} ---\n{_tail(logs[name])}" for name in missing)
                raise AssertionError(f"Celery workers {missing} not ready in {START_TIMEOUT_S} s:\n{tails}")
    finally:
        app.close()


@contextlib.contextmanager
def celery_cluster(tmp_path: Path, env: dict[str, str], workers: int = 2) -> Iterator[CeleryCluster]:
    """Redis plus `workers` Dagster Celery workers (`--pool solo`, one step at a time each), ready to take
    steps. `env` reaches the workers on top of this process's environment: DAGSTER_HOME (required: the
    workers' instance), PYTHONPATH and the NTRADER_* variables the job's code needs to load; the cluster's
    `env` (NTRADER_EXECUTOR=celery, NTRADER_CELERY_BROKER, NTRADER_CELERY_BACKEND) is added to both the
    workers' and, by the caller, the run's environment."""
    if shutil.which("redis-server") is None:
        pytest.skip(REDIS_MISSING)
    assert env.get("DAGSTER_HOME"), "the workers need DAGSTER_HOME (a persistent instance)"
    root = tmp_path / "celery"
    root.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    broker, backend = f"redis://127.0.0.1:{port}/0", f"redis://127.0.0.1:{port}/1"
    cluster_env = {
        "NTRADER_EXECUTOR": "celery",
        "NTRADER_CELERY_BROKER": broker,
        "NTRADER_CELERY_BACKEND": backend,
    }
    config = WORKER_CONFIG
    worker_env = {
        **os.environ,
        **env,
        **cluster_env,
        # dagster-celery runs `celery` from PATH: this interpreter's
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    # The instance's SQLite storage exists before the workers start: each `dagster-celery worker start`
    # opens the instance, and two creating it at once race on its schema (alembic_version UNIQUE failed).
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        instance.get_runs(limit=1)
    redis_dir = root / "redis"
    redis = _start_redis(redis_dir, port)
    processes: dict[str, subprocess.Popen] = {}
    try:
        _wait_for_redis(redis, port, redis_dir / "redis.log")
        logs = {f"w{n}": root / f"w{n}.log" for n in range(1, workers + 1)}
        for name, log in logs.items():
            command = [
                str(BIN / "dagster-celery"),
                "worker",
                "start",
                "-A",
                "dagster_celery.app",
                "-y",
                str(config),
                "-n",
                name,
                "--loglevel",
                "INFO",
                "--",
                "--pool",
                "solo",
                "--concurrency",
                "1",
                # No start-up sync with other nodes (mingle), no gossip: faster start, nothing lost here.
                "--without-mingle",
                "--without-gossip",
            ]
            with log.open("wb") as sink:
                processes[name] = subprocess.Popen(
                    command,
                    cwd=root,
                    env=worker_env,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: stopping it stops its `celery` child
                )
        pids = _wait_for_workers(broker, backend, processes, logs)
        nodes = {node.split("@", 1)[0]: node for node in pids}
        yield CeleryCluster(
            broker=broker,
            backend=backend,
            workers=tuple(CeleryWorker(nodes[name], pids[nodes[name]], logs[name]) for name in logs),
            redis_log=redis_dir / "redis.log",
            env=cluster_env,
        )
    finally:
        survivors = []
        for process in processes.values():
            try:
                _stop_group(process)
            except AssertionError as exc:
                survivors.append(str(exc))
        _stop(redis)
        assert not survivors, survivors
