"""Showing a running prediction: the progress bar and the streamed labels, a few times a second.

The engine reports every tile (hundreds a second with small tiles). Each redraw of the
window costs the GUI thread tens of milliseconds (napari re-slices and recolours the labels;
the window holding the OpenGL canvas is recomposited), so :class:`LiveRedraw` only notes
what each report changed and redraws on a steady timer: the bar and the labels in one go
(one recomposition), and the labels only when something changed on the slice on screen —
tiles written to other slices or frames show when the user goes there (napari reads the
array again when the slice changes).
"""

from __future__ import annotations

import time

from qtpy.QtCore import QObject, QTimer

from unet_studio.app.qt.progress_display import set_progress
from unet_studio.app.time_left import RunTimeLeft

REDRAW_INTERVAL_MS = 500
# A redraw of the labels may itself take long (napari redrawing a 2048² plane under software
# OpenGL: ~1-2 s): the next one then waits this many times as long, so the window stays the
# user's most of the time (panning, the slider, Cancel) while labels arrive. The bar and the
# time left are not held back by it (they sat at 0 % for a minute on a 16k x 16k mosaic).
REDRAW_SHARE = 4
SEPARATE_REGIONS = 16  # tiles redrawn one by one up to this many, else their bounding box


def labels_region(region, target, shape) -> tuple[slice, ...]:
    """``region`` (slices over the first axes of the result) in the coordinates of labels of
    ``shape``, the result covering ``target`` (a slice per labels axis)."""
    region = tuple(region) + (slice(None),) * (len(target) - len(region))
    out = []
    for part, whole, size in zip(region, target, shape):
        base, end, _ = whole.indices(size)
        start, stop, _ = part.indices(end - base)
        out.append(slice(base + start, base + stop))
    return tuple(out)


def bounding_box(regions) -> tuple[slice, ...]:
    """The smallest region holding every one of ``regions`` (slices with ints)."""
    return tuple(slice(min(r[a].start for r in regions), max(r[a].stop for r in regions))
                 for a in range(len(regions[0])))


def on_screen(region, view_state, image_axes: tuple[int, ...]) -> bool:
    """Whether ``region`` (labels coordinates) meets the slice on screen. ``image_axes``:
    the image axis of each labels axis (the image may have a C axis the labels lack)."""
    if view_state is None:
        return True
    for part, axis in zip(region, image_axes):
        # (an axis the view lacks: another image of fewer axes chosen during the run, or
        # the streamed layer hidden; cannot tell, so redrawn)
        if axis in view_state.displayed_axes or axis >= len(view_state.position):
            continue
        position = view_state.position[axis]
        if not part.start <= position < part.stop:
            return False
    return True


class LiveRedraw(QObject):
    """Redraws ``bar`` (a QProgressBar), the host's labels and an optional napari progress
    every ``REDRAW_INTERVAL_MS`` while a run streams labels into the layer."""

    def __init__(self, host, bar, parent=None):
        super().__init__(parent)
        self.host, self.bar = host, bar
        self.activity = None  # napari activity-dock progress, if any
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_INTERVAL_MS)
        self._timer.timeout.connect(self.redraw)
        self._latest = None
        self._latest_total = None  # the ``total`` of the last report
        self._changed: list[tuple[slice, ...]] = []
        self._target: tuple[slice, ...] | None = None
        self._shape: tuple[int, ...] = ()
        self._image_axes: tuple[int, ...] = ()
        self._labelling = False  # the run ends its time points with a labelling step
        self._labels_due = 0.0  # (perf_counter) when the labels may be redrawn next
        self.time_left = RunTimeLeft()

    def start(self, target, shape, image_axes, activity=None, *, labelling: bool = False) -> None:
        """A run begins: ``target`` the region of labels of ``shape`` it fills (None: labels
        not streamed); ``image_axes``: the image axis of each labels axis; ``labelling``:
        its time points end with a labelling of their objects (instance labels)."""
        self._target, self._shape, self._image_axes = target, tuple(shape), tuple(image_axes)
        self.activity, self._latest, self._changed = activity, None, []
        self._latest_total, self._labelling, self._labels_due = None, labelling, 0.0
        self.time_left = RunTimeLeft(labelling=labelling)
        self._timer.start(REDRAW_INTERVAL_MS)

    def next_stage(self) -> None:
        """A stage of the run ended and the next has no report yet (the intensity pass done,
        the first tile running): the bar starts again from 0 rather than sit full."""
        self._latest, self._latest_total = None, None
        self.time_left = RunTimeLeft(self.time_left.clock, labelling=self._labelling)
        set_progress(self.bar, 0)
        self.bar.setFormat("%p%")
        if self.activity is not None:
            self.activity.set(0, 1)

    def note(self, progress) -> None:
        """Record one progress report (GUI thread; cheap: no drawing here)."""
        if getattr(progress, "total", 0):
            if self._latest_total not in (None, progress.total):
                # Another count: the intensity pass's pixels, then the tiles (or one more
                # pass): a rate measured on the one says nothing of the other.
                self.time_left = RunTimeLeft(self.time_left.clock, labelling=self._labelling)
            self._latest, self._latest_total = progress, progress.total
        region = getattr(progress, "region", None)
        if self._target is not None and region is not None:
            self._changed.append(labels_region(region, self._target, self._shape))

    def redraw(self) -> None:
        progress, self._latest = self._latest, None
        if progress is not None:
            labelling, fraction, left = self.time_left.report(
                progress.done, progress.total, getattr(progress, "stage", None))
            # (a labelling after the tiles may take longer than all of them: its own bar)
            set_progress(self.bar, int(100 * fraction))
            shown = "labelling objects %p%" if labelling else "%p%"
            # (a big stack takes minutes to hours; none while a new count starts)
            self.bar.setFormat(f"{shown}  ({left})" if left else shown)
            if self.activity is not None:
                self.activity.set(progress.done, progress.total)
        if not self._changed or time.perf_counter() < self._labels_due:
            return  # (the bar moves at every tick; the labels wait after a slow redraw)
        changed, self._changed = self._changed, []
        view = self.host.view_state() if hasattr(self.host, "view_state") else None
        shown = [region for region in changed if on_screen(region, view, self._image_axes)]
        if shown:
            started = time.perf_counter()
            # (tiles apart: each alone, their bounding box may be most of a large plane)
            for region in shown if len(shown) <= SEPARATE_REGIONS else [bounding_box(shown)]:
                self.host.refresh_labels(region)
            took = time.perf_counter() - started
            self._labels_due = started + max(REDRAW_INTERVAL_MS / 1000, REDRAW_SHARE * took)

    def stop(self) -> None:
        """The run ended: no more redraws (the result is shown by the panel)."""
        self._timer.stop()
        self._latest, self._changed = None, []
        self.bar.setFormat("%p%")
