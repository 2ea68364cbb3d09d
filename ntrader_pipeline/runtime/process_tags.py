"""Which process a run is: host, pid and the pid's start time (so a reused pid is not taken for a dead
run's process), as run tags; and whether that process is still alive."""

import os
import socket
from pathlib import Path

RUN_HOST_TAG = "ntrader/host"
RUN_PID_TAG = "ntrader/pid"
RUN_PID_STARTED_TAG = "ntrader/pid_started"  # the process's start time in clock ticks since boot (Linux)


def _proc_stat(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/<pid>/stat (state first), or None where /proc is not available."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()  # after the command's parentheses


def process_started(pid: int) -> str | None:
    """The start time of `pid` as the kernel counts it, or None where /proc is not available."""
    fields = _proc_stat(pid)
    return fields[19] if fields else None  # field 22 of stat(5)


def process_alive(pid: int, started: str | None = None) -> bool:
    """Whether `pid` is running on this host and is the same process (when its start time is known).
    A zombie (killed, not yet reaped by its parent) is not alive."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, and not ours to judge
        return True
    fields = _proc_stat(pid)
    if fields is None:
        return True
    return fields[0] != "Z" and (started is None or fields[19] == started)


def process_tags(pid: int | None = None) -> dict[str, str]:
    pid = os.getpid() if pid is None else pid
    tags = {RUN_HOST_TAG: socket.gethostname(), RUN_PID_TAG: str(pid)}
    started = process_started(pid)
    if started is not None:
        tags[RUN_PID_STARTED_TAG] = started
    return tags
