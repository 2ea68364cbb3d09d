"""Stop a step whose run is over: its run's process died, or the run was interrupted."""

from __future__ import annotations

import os
import signal
import sys
import threading


class StepWatchdog:
    """Stops a step whose run is over: its run's process died (the step runs in a child of it) or the
    step was interrupted (SIGTERM/SIGINT forwarded by the run's executor).

    The IB client's event loop swallows the interrupt Dagster raises from its signal handler, so the step
    would otherwise go on to the end of its range. `stop_reason()` is checked between sessions, where
    stopping leaves nothing half-written; if the step does not come back to a session boundary within
    `grace_s` after its run's process died, the process exits (catalog writes are atomic renames, and a
    staging directory left behind is removed by a later write).
    """

    def __init__(self, run_pid: int | None, grace_s: float = 20.0, poll_s: float = 0.5) -> None:
        # Only a step in a child of the run's process has a parent to lose.
        self._parent = run_pid if run_pid is not None and run_pid == os.getppid() else None
        self._grace_s = grace_s
        self._poll_s = poll_s
        self._reason: str | None = None
        self._done = threading.Event()
        self._previous_handlers: dict[int, object] = {}

    def __enter__(self) -> StepWatchdog:
        if self._parent is not None:
            threading.Thread(target=self._watch, name="ntrader-step-watchdog", daemon=True).start()
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous = signal.getsignal(signum)
                # SIGTERM only where Dagster made it an interrupt; left at its default it ends the process
                if signum == signal.SIGINT or callable(previous):
                    self._previous_handlers[signum] = previous
                    signal.signal(signum, self._interrupted)
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        for signum, previous in self._previous_handlers.items():
            signal.signal(signum, previous)

    def stop_reason(self) -> str | None:
        return self._reason

    def _interrupted(self, signo: int, frame: object) -> None:
        """First interrupt: stop at the next session boundary (within `grace_s`, or exit). A second one
        goes to Dagster's handler at once."""
        if self._reason is None:
            self._reason = "the run was interrupted (SIGTERM or SIGINT)"
            threading.Thread(target=self._exit_after_grace, name="ntrader-step-grace", daemon=True).start()
            return
        previous = self._previous_handlers.get(signo)
        if callable(previous):
            previous(signo, frame)
        raise KeyboardInterrupt

    def _exit_after_grace(self) -> None:
        if self._done.wait(self._grace_s):
            return
        sys.stderr.write(
            f"ntrader: step process {os.getpid()} exits: {self._reason}, and the step did not stop "
            f"within {self._grace_s:.0f} s\n"
        )
        sys.stderr.flush()
        os._exit(70)

    def _watch(self) -> None:
        while not self._done.wait(self._poll_s):
            if os.getppid() != self._parent:
                self._reason = f"the run's process {self._parent} is gone (killed?)"
                self._exit_after_grace()
                return
