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


LABELLING = "labelling"  # (models.pipeline's ImageProgress stage)
# Passes before the first tile (the intensity range, the labels read to put back on a
# cancel): their time left is their own, not "for the tiles" (QA saw "about 20 s left for
# the tiles, then labelling objects" while the labels of a big stack were being read).
PASSES_BEFORE_TILES = ("intensity", "backup")


class RunTimeLeft:
    """The time left of a prediction whose time points end with a labelling step.

    The engine counts a time point's labelling (its objects' watershed) as one step and
    reports fractions of it (stage "labelling"), but it can take longer than all the tiles
    (a 3D stack's tiles in a minute, its watershed in another one and a half): a time left
    measured on the tiles says nothing about it. So until a labelling has been seen the
    time left is said to be the tiles' ("for the tiles, then labelling objects"), and during
    a labelling :meth:`report` gives that step's own fraction and time left instead of "99 %".
    Only for a run whose one labelling ends it (an image, a 3D stack): a time series labels
    each time point after its tiles, and a bar restarting at each of them went backwards
    (50 % -> 28 %) again and again; there the run's own fraction goes on.
    Shared by the CLI's status line and the Segment panel's bar."""

    def __init__(self, clock=time.monotonic, *, labelling: bool = False):
        self.clock = clock
        self.time_left = TimeLeft(clock)
        self.labelling_ahead = labelling  # a labelling still to come, its cost unknown yet
        self.labelling_left: TimeLeft | None = None  # the current labelling's own
        self.steps_before = 0  # whole steps done before the current labelling
        self.labellings = 0  # labellings started so far
        self.own_bar = False  # the current labelling shows its own fraction

    def report(self, done: float, total: float, stage: str | None = None) -> tuple[bool, float, str]:
        """(in a labelling, fraction done 0..1 — of the run, or of the labelling —, the time
        left as "about 3 min left", possibly with what it is for; "" when not known)."""
        if stage == LABELLING:
            if self.labelling_left is None:  # a labelling starts: its own fraction and pace
                self.labelling_left = TimeLeft(self.clock)
                self.labelling_ahead = False  # (later estimates have seen one: they include it)
                # (the steps before it: a caller seeing only some reports still counts right)
                self.steps_before = max(self.steps_before, math.floor(done))
                self.labellings += 1
                self.own_bar = self.labellings == 1 and self.steps_before >= total - 1
            if self.own_bar:
                fraction = min(max(done - self.steps_before, 0.0), 1.0)
                return True, fraction, self.labelling_left.text(fraction, 1)
            return False, (done / total if total > 0 else 0.0), self.time_left.text(done, total)
        self.labelling_left = None
        self.steps_before = math.floor(done)
        left = self.time_left.text(done, total)
        if left and self.labelling_ahead and stage not in PASSES_BEFORE_TILES:
            left += " for the tiles, then labelling objects"
        return False, (done / total if total > 0 else 0.0), left
