"""The user's edits of labels that a Segment run streams into: recorded and kept.

A run writes each tile around the reviewed pixels (``LiveLabelsDestination``), so an edit
survives it once its marks are in the reviewed regions the run reads. Two things let a brush
stroke made during an image's first run go under:

- The marks went to regions the run did not read. The autosave project was started by the
  first edit, mid-run; opening it drops the session's reviewed regions, and with them the
  stroke's marks, and every later edit was marked in the project's new regions while the run
  wrote around the old ones (a re-run had its project already). :func:`start_autosave` starts
  it at Run, before the run takes its regions.
- napari writes a stroke's pixels a turn of the event loop before the session hears of it
  and marks them (``HistoryWatcher``): a tile written in between went over the stroke.
  :class:`RunEdits` paints the stroke's pixels again once it is marked, under the
  destination's lock: no write is half done then, and the next ones read its marks.
"""

from __future__ import annotations

import weakref

import numpy as np

from unet_studio.app.label_edit import LabelEdit


def start_autosave(session) -> None:
    """Start the session's autosave project now when none is open (at Run, before the
    labels and reviewed regions of the run are chosen), not at the run's first edit."""
    if session.project is None and session.host.current_image() is not None:
        session.ensure_project()


def paint_again(live, edit: LabelEdit) -> tuple[slice, ...] | None:
    """Write ``edit``'s new values again at its pixels of ``live.labels`` (``live``: a
    LiveLabelsDestination) that the run wrote over. GUI thread, after the edit is marked
    reviewed. Returns the box written (to redraw), None when the run left the edit alone."""
    with live.lock:
        labels = live.labels
        lost = np.asarray(labels[edit.indices]) != edit.new_values
        if not lost.any():
            return None
        indices = tuple(np.asarray(i)[lost] for i in edit.indices)
        labels[indices] = edit.new_values[lost]
    return tuple(slice(int(i.min()), int(i.max()) + 1) for i in indices)


class RunEdits:
    """Listens to the user's edits (napari's brush, fill, redo; the host's
    ``connect_user_edits``) and keeps those made in the labels a run streams into:
    ``panel._live``, the run's LiveLabelsDestination (None between runs). Made after the
    session: its listener marks an edit reviewed before this one paints it again. The panel
    is held weakly (the host keeps its listeners as long as it lives)."""

    def __init__(self, host, panel):
        self.host = host
        self._panel = weakref.ref(panel)
        connect = getattr(host, "connect_user_edits", None)
        if connect is not None:
            connect(self._on_user_edit)

    def _on_user_edit(self, edit: LabelEdit, kind: str) -> None:
        live = getattr(self._panel(), "_live", None)
        # (an undo gives the pixels back to the run; an edit of other labels is theirs)
        if live is None or kind == "undo" or self.host.current_labels() is not live.labels:
            return
        region = paint_again(live, edit)
        if region is not None:
            self.host.refresh_labels(region)
