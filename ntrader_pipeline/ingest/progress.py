"""Progress lines for long runs: done/total, bars and an ETA from the mean time per settled session."""

import time

PROGRESS_EVERY = 10  # sessions between progress lines in the run's log (and the last session)


class Progress:
    """Done/total, bars and an ETA from the mean time per settled session so far."""

    def __init__(self, total: int, every: int = PROGRESS_EVERY) -> None:
        self.total, self.every = total, every
        self.done = self.bars = 0
        self._started = time.monotonic()

    def add(self, bars: int) -> str | None:
        """Count a settled session; returns the progress line when one is due."""
        self.done += 1
        self.bars += bars
        if self.done % self.every and self.done != self.total:
            return None
        elapsed = time.monotonic() - self._started
        eta = elapsed / self.done * (self.total - self.done)
        return (
            f"progress: {self.done}/{self.total} sessions, {self.bars} bars, {elapsed:.0f} s elapsed, "
            f"ETA {eta:.0f} s"
        )
