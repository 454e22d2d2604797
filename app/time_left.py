"""How long a run has left, from its progress so far (the CLI's status line, the Segment
panel's bar): a big stack takes minutes to hours, and "37 %" alone does not say whether to
wait or come back after lunch. Qt-free."""

from __future__ import annotations

import math
import time

# Before this much of the run (after its first step) and this many seconds, no estimate:
# the first steps include warming up (loading the model, the first tile's kernels).
MIN_FRACTION = 0.02
MIN_SECONDS = 2.0


class TimeLeft:
    """Feed it ``(done, total)`` progress; it says "about 3 min left" once it can tell.

    The rate is measured from the first report on, so that loading the model and the
    first step's warm-up do not count; the steps are taken as equally long (tiles are;
    the labelling at the end of a stack may run faster or slower, hence "about")."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.first: tuple[float, float] | None = None  # (time, done) of the first report

    def estimate(self, done: float, total: float) -> float | None:
        """Seconds left, None while there is too little to go on."""
        now = self.clock()
        if self.first is None:
            self.first = (now, done)
            return None
        start, done_then = self.first
        progressed, elapsed = done - done_then, now - start
        if total <= 0 or progressed < MIN_FRACTION * total or elapsed < MIN_SECONDS:
            return None
        return max(0.0, elapsed / progressed * (total - done))

    def text(self, done: float, total: float) -> str:
        """"about 3 min left", or "" while there is too little to go on, and once all is
        done (not "about 5 s left" at 100 %)."""
        if total > 0 and done >= total:
            return ""
        seconds = self.estimate(done, total)
        return "" if seconds is None else f"about {duration_text(seconds)} left"


def duration_text(seconds: float) -> str:
    """A rounded duration: "40 s" (to 5 s), "3 min" (minutes up), "1 h 05 min"."""
    if seconds < 55:
        return f"{max(5, 5 * math.ceil(seconds / 5))} s"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
