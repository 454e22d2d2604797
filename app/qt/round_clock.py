"""The Train panel's bar between a round's reports. Under a time budget the bar is the share
of the round's time used, but some parts of a round report nothing for long: loading the
model and scoring it on the held-out data before training (25 s of a 45 s round on a loaded
machine), and the scoring after it. The bar sat at 0.4 % through all of that. So, while a
round runs, a timer moves the bar with the round's own clock (paused time left out, as the
engine leaves it out) and, during the preparation, adds the time left to its status.
"""

from __future__ import annotations

import time

from qtpy.QtCore import QObject, QTimer

from unet_studio.app.qt.progress_display import set_progress
from unet_studio.app.time_left import duration_text

TICK_MS = 1000
BAR_SCALE = 1000  # the Train panel's bar runs 0..1000


class RoundClock(QObject):
    """Moves ``bar`` with the time a round has used of ``max_seconds``; during a phase set
    by :meth:`preparing`, ``status`` also says the time left."""

    def __init__(self, bar, status, parent: QObject | None = None, clock=time.monotonic):
        super().__init__(parent)
        self.bar, self.status, self.clock = bar, status, clock
        self.max_seconds: float | None = None
        self._started = 0.0
        self._paused_at: float | None = None
        self._paused = 0.0
        self._phase: str | None = None  # the preparation's status text, while it lasts
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.tick)

    def start(self, max_seconds: float | None) -> None:
        """A round starts now (its worker's clock starts with it)."""
        self.max_seconds, self._phase = max_seconds, None
        self._started, self._paused, self._paused_at = self.clock(), 0.0, None
        if max_seconds:
            self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._phase = None

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = self.clock()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._paused += self.clock() - self._paused_at
            self._paused_at = None

    def preparing(self, text: str | None) -> None:
        """The round is in a phase that reports nothing for a while (``text``: its status);
        None: training steps report again, with their own time left."""
        self._phase = text

    def elapsed(self) -> float:
        paused = self._paused + (self.clock() - self._paused_at if self._paused_at else 0.0)
        return max(0.0, self.clock() - self._started - paused)

    def tick(self) -> None:
        if not self.max_seconds or self._paused_at is not None:
            return
        elapsed = self.elapsed()
        share = min(elapsed / self.max_seconds, 0.99)  # (full only when the round has ended)
        if int(BAR_SCALE * share) > self.bar.value():
            set_progress(self.bar, int(BAR_SCALE * share))
        if self._phase is not None:
            left = self.max_seconds - elapsed
            # (past the budget it said "about 5 s left" for as long as the phase lasted: a
            # round takes its first step and its scoring whatever the budget)
            note = (f"about {duration_text(left)} left in the round" if left > 0 else
                    "the time budget is used up: the round ends after this")
            self.status.setText(f"{self._phase} ({note})")
