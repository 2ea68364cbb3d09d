"""A throwaway PostgreSQL cluster: initdb in a temp dir, loopback on a free port, stopped on exit."""

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from glob import glob
from pathlib import Path

import pytest

USER = "ntrader"


@dataclass(frozen=True)
class Cluster:
    host: str
    port: int
    user: str
    db_name: str

    def env(self) -> dict[str, str]:
        """The variables deploy/dagster.postgres.yaml reads."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_DB": self.db_name,
            "DAGSTER_PG_USERNAME": self.user,
            "DAGSTER_PG_PASSWORD": "",
        }


def server_binaries() -> Path | None:
    if found := shutil.which("initdb"):
        return Path(found).resolve().parent  # distributions link initdb from /usr/local/bin
    versions = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def throwaway_postgres(db_name: str = "dagster") -> Iterator[Cluster]:
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    # PostgreSQL refuses to run as root: run its binaries as the `postgres` account then.
    as_user: list[str] = []
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and no `postgres` account to run the PostgreSQL server as")
        as_user = ["setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "--"]
    root = Path(tempfile.mkdtemp(prefix="ntrader-pg-"))  # not under pytest's 0700 root-owned tmp
    if as_user:
        shutil.chown(root, "postgres", "postgres")
    data, sockets, port = root / "data", root, _free_port()

    def run(*command: str) -> None:
        done = subprocess.run([*as_user, *command], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"

    run(str(binaries / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync")
    options = f"-p {port} -k {sockets} -h 127.0.0.1 -c fsync=off -c full_page_writes=off"
    run(
        str(binaries / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        options,
        "-l",
        str(root / "server.log"),
        "-w",
        "start",
    )
    try:
        run(str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, db_name)
        yield Cluster("127.0.0.1", port, USER, db_name)
    finally:
        subprocess.run(
            [*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)
