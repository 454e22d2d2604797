"""The CLI's one status line on stderr (predict, measure, evaluate), redrawn in place on a
terminal (no extra dependency), with the time left once it can be told (Qt-free); a
labelling step shows its own progress (``time_left.RunTimeLeft``).
"""

from __future__ import annotations

import sys


class StatusLine:
    """``update(done, total, stage)`` redraws ``name: 45% (745/1651), about 3 min left``.

    ``labelling``: whether the run ends its time points with a labelling step (instance
    labels): the time left is then said to be the tiles' until one has been measured."""

    def __init__(self, name: str, stream=None, clock=None, *, labelling: bool = False):
        from unet_studio.app.time_left import RunTimeLeft

        self.name, self.stream = name, stream or sys.stderr
        self.live = self.stream.isatty()
        self.shown = None  # (stage, percent) of the line drawn last
        self.width = 0  # of the line drawn last: a shorter one must cover it
        clock = {} if clock is None else {"clock": clock}
        self.time_left = RunTimeLeft(labelling=labelling, **clock)

    def update(self, done: float, total: int, stage: str | None = None) -> None:
        """``done`` of ``total`` steps (tiles, then each labelling, which counts as one and
        reports fractions of it as ``stage`` "labelling")."""
        labelling, fraction, left = self.time_left.report(done, total, stage)
        percent = int(100 * fraction)
        if labelling:
            self._draw(("labelling", percent),
                       f"labelling objects {percent}%" + (f", {left}" if left else ""))
            return
        steps = f" ({int(done)}/{total})" if total > 1 else ""  # (a fraction: percent only)
        self._draw(("steps", percent), f"{percent:3d}%{steps}" + (f", {left}" if left else ""))

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
