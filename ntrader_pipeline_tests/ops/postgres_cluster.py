"""A throwaway PostgreSQL cluster: initdb in a temp dir, loopback on a free port, stopped on exit.

With a `password` the cluster authenticates like a production one: every connection, loopback included,
must give the password (scram-sha-256); without one it trusts loopback connections."""

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
    password: str = ""
    binaries: Path | None = None

    def env(self) -> dict[str, str]:
        """The variables deploy/dagster.postgres.yaml reads."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_DB": self.db_name,
            "DAGSTER_PG_USERNAME": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
        }

    def dump(self) -> str:
        """Every row of every table of the database as SQL text (pg_dump --data-only)."""
        assert self.binaries is not None
        connection = ["-h", self.host, "-p", str(self.port), "-U", self.user]
        done = subprocess.run(
            [str(self.binaries / "pg_dump"), *connection, "--data-only", "--no-owner", self.db_name],
            env={**os.environ, "PGPASSWORD": self.password},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout


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
def throwaway_postgres(db_name: str = "dagster", password: str = "") -> Iterator[Cluster]:
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
        env = {**os.environ, "PGPASSWORD": password}
        done = subprocess.run([*as_user, *command], capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"

    auth = ["--auth=trust"]
    if password:
        password_file = root / "password"
        password_file.write_text(password + "\n")
        if as_user:
            shutil.chown(password_file, "postgres", "postgres")
        auth = ["--auth=scram-sha-256", f"--pwfile={password_file}"]
    run(str(binaries / "initdb"), "-D", str(data), "-U", USER, *auth, "-E", "UTF8", "--no-sync")
    if password:
        password_file.unlink()
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
        yield Cluster("127.0.0.1", port, USER, db_name, password, binaries)
    finally:
        subprocess.run(
            [*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)
