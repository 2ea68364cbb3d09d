"""A quiet terminal for the demo and the `ntrader` commands: rich progress bars and tables on stdout,
Dagster's event stream, structlog's JSON lines and library warnings in a log file (`--verbose` keeps
them on the terminal instead)."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

if TYPE_CHECKING:
    from ntrader_pipeline.cli.dagster_runs import RunProgress

# Piped or captured output has no terminal width; tables then get room instead of rich's 80 columns.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)


@contextlib.contextmanager
def logs_to_file(path: Path, *, verbose: bool) -> Iterator[Path]:
    """Send everything written to stderr (fd 2, so child threads and C extensions too) to `path`."""
    if verbose:
        yield path
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("a") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield path
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def progress_bars() -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


@contextlib.contextmanager
def polled(update: Callable[[], None], every_s: float = 0.5) -> Iterator[None]:
    """Call `update` every `every_s` in a thread while the block runs (e.g. a blocking Dagster run), and
    once more at the end."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_s):
            with contextlib.suppress(Exception):  # a poll that fails now is retried next tick
                update()

    thread = threading.Thread(target=loop, name="progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
        update()


def elapsed(started: float) -> str:
    return f"{time.monotonic() - started:.1f} s"


def advance(progress: Progress, task: TaskID, *, base: int = 0) -> Callable[[RunProgress], None]:
    """A run's progress callback moving `task` to `base` + the sessions (or partitions) the run stored."""

    def update(state: RunProgress) -> None:
        progress.update(task, completed=base + state.sessions, detail=f"{state.bars:,} bars")

    return update
