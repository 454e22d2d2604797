"""Showing progress without flooding the window with repaints: a rate limit for progress
updates and a progress bar change drawn with the next regular paint."""

from __future__ import annotations

import time


class Throttle:
    """``ready()`` is True at most once per ``interval`` seconds.

    Progress can arrive many times a second; every label, bar or layer change repaints
    the window (with napari's OpenGL canvas in it, a costly composite), so the panels
    redraw at a steady few hertz instead.
    """

    def __init__(self, interval: float = 0.5):
        self.interval = interval
        self._last = float("-inf")

    def ready(self, force: bool = False) -> bool:
        now = time.monotonic()
        if force or now - self._last >= self.interval:
            self._last = now
            return True
        return False

    def reset(self) -> None:
        self._last = float("-inf")


def set_progress(bar, value: int) -> None:
    """``bar.setValue(value)`` without QProgressBar's immediate, synchronous repaint: the
    change is drawn with the next regular (coalesced) paint instead. In a window holding
    napari's OpenGL canvas every synchronous repaint composites the whole window."""
    if bar.value() == value:
        return
    bar.setUpdatesEnabled(False)
    bar.setValue(value)
    bar.setUpdatesEnabled(True)  # schedules one ordinary update
