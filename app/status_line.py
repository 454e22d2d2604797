"""The CLI's one status line on stderr (predict, measure, evaluate), redrawn in place on a
terminal (no extra dependency), with the time left once it can be told (Qt-free).

Instance labels end each time point with the labelling of its objects, which the engine
counts as one step (its "labelling" ImageProgress reports fractions of it) but which can
take longer than all the tiles: a 3D stack's tiles in a minute, then its watershed in
another one and a half. A time left measured on the tiles says nothing about that step, so
the line says what the time is for ("for the tiles, then labelling objects") until a
labelling has been seen, and during the labelling it shows that step's own progress and
time left instead of "99 %".
"""

from __future__ import annotations

import math
import sys

LABELLING = "labelling"  # (models.pipeline's ImageProgress stage)


class StatusLine:
    """``update(done, total, stage)`` redraws ``name: 45% (745/1651), about 3 min left``.

    ``labelling``: whether the run ends its time points with a labelling step (instance
    labels): the time left is then said to be the tiles' until one has been measured."""

    def __init__(self, name: str, stream=None, clock=None, *, labelling: bool = False):
        from unet_studio.app.time_left import TimeLeft

        self.name, self.stream = name, stream or sys.stderr
        self.live = self.stream.isatty()
        self.shown = None  # (stage, percent) of the line drawn last
        self.width = 0  # of the line drawn last: a shorter one must cover it
        self.new_time_left = TimeLeft if clock is None else (lambda: TimeLeft(clock))
        self.time_left = self.new_time_left()
        self.labelling_ahead = labelling  # a labelling still to come, its cost unknown yet
        self.labelling_left = None  # the current labelling's own TimeLeft
        self.steps_before = 0  # whole steps done before the current labelling

    def update(self, done: float, total: int, stage: str | None = None) -> None:
        """``done`` of ``total`` steps (tiles, then each labelling, which counts as one and
        reports fractions of it as ``stage`` "labelling")."""
        if stage == LABELLING:
            self._update_labelling(done)
            return
        self.labelling_left = None
        self.steps_before = math.floor(done)
        percent = int(100 * done / max(total, 1))
        left = self.time_left.text(done, total)
        if left and self.labelling_ahead:
            left += " for the tiles, then labelling objects"
        steps = f" ({int(done)}/{total})" if total > 1 else ""  # (a fraction: percent only)
        self._draw(("steps", percent), f"{percent:3d}%{steps}" + (f", {left}" if left else ""))

    def _update_labelling(self, done: float) -> None:
        if self.labelling_left is None:  # a labelling starts: its own fraction and pace
            self.labelling_left = self.new_time_left()
            self.labelling_ahead = False  # (later estimates have seen one: they include it)
        fraction = min(max(done - self.steps_before, 0.0), 1.0)
        percent = int(100 * fraction)
        left = self.labelling_left.text(fraction, 1)
        self._draw((LABELLING, percent),
                   f"labelling objects {percent}%" + (f", {left}" if left else ""))

    def _draw(self, key: tuple, text: str) -> None:
        if self.live and key != self.shown:
            line = f"{self.name}: {text}"
            self.stream.write(f"\r{line.ljust(self.width)}")
            self.stream.flush()
            self.shown, self.width = key, len(line)

    def finish(self, message: str) -> None:
        prefix = "\r" if self.live else ""
        self.stream.write(f"{prefix}{f'{self.name}: {message}'.ljust(self.width if self.live else 0)}\n")
        self.stream.flush()
