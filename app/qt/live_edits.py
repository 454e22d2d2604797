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
  destination's lock: no write is half done then, and the next ones read its marks. And
  saves them again: the session saved the stroke as the labels held it, the tile over it.

A run that ends having made nothing, in a project the user did nothing in, drops the
project it started again (:class:`RunAutosave`).
"""

from __future__ import annotations

import weakref

import numpy as np

from unet_studio.app.label_edit import LabelEdit

# What a run's own start writes into the autosave project's history: a project holding
# anything else (a rename, a model chosen, a round trained) has the user's work in it.
# (a new project records the model in use as it is made: "set current model")
RUN_START_ACTIONS = frozenset({"create project", "set current model", "add image", "set axes"})


def start_autosave(session) -> RunAutosave | None:
    """Start the session's autosave project now when none is open (at Run, before the
    labels and reviewed regions of the run are chosen), not at the run's first edit.
    Returns it as a :class:`RunAutosave` (None when a project was open, or no image, or
    none can be created: the run goes on, its labels in memory, the user told once)."""
    if session.project is None and session.host.current_image() is not None:
        if session.autosave_project() is not None:
            return RunAutosave(session)
    return None


class RunAutosave:
    """The autosave project a run started at Run. A run that ends having made nothing
    (refused, failed, cancelled) drops it again when the user did nothing in it meanwhile
    (``StudioSession.drop_autosave``): it was started only to keep the run's strokes, and
    stayed behind, a folder of nothing in the user folder and the session's project."""

    def __init__(self, session):
        self.session = session
        self.project = session.project
        self._marks: dict | None = None  # (None: refused before the run took its labels)

    def note_start(self) -> None:
        """Note the project's images and their reviewed marks once the run took its labels
        (its image is in the project then): any edit or mark from now on changes them."""
        self._marks = self._marks_now()

    def untouched(self) -> bool:
        """Is the project still the session's and holds nothing but what the run's start
        put in: the run's image, its marks as at Run, no model, no other action logged?"""
        project = self.project
        if self.session.project is not project or len(project.images) > 1:
            return False  # (another image's work: carried from a project left, or new)
        if self._marks is not None and self._marks_now() != self._marks:
            return False
        actions = {entry.get("action") for entry in project.history()}
        models = project.models_dir
        return actions <= RUN_START_ACTIONS and not (models.is_dir() and any(models.iterdir()))

    def _marks_now(self) -> dict:
        """Image id -> (its reviewed regions, their version); None for an image without."""
        found = {}
        for ref in self.project.images:
            regions = self.project.reviewed(ref.id)
            found[ref.id] = None if regions is None else (id(regions), regions.version)
        return found


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
    is held weakly (the host keeps its listeners as long as it lives).

    Listens to the session's marks too (``reviewed_changed``, told after every change of
    them: R, Shift+R, a drawn region, an edit's marks, an undo or redo): a mark changes
    what the run's saves hold there (``LiveLabelsDestination.saved_values``: the tiles the
    user saw at reviewed pixels, the labels from before the run at the others), so the
    box it changed is saved again. Else a kill mid-run left the marks over labels from
    before the run, which she never reviewed."""

    def __init__(self, host, panel):
        self.host = host
        self._panel = weakref.ref(panel)
        connect = getattr(host, "connect_user_edits", None)
        if connect is not None:
            connect(self._on_user_edit)
        marks = getattr(getattr(panel, "session", None), "reviewed_changed", None)
        if marks is not None:
            marks.connect(self._on_marks_changed)

    def _on_marks_changed(self) -> None:
        live = getattr(self._panel(), "_live", None)
        region = None if live is None else live.marks_changed()
        if region is not None:
            self._save_again(live.labels, region)

    def _on_user_edit(self, edit: LabelEdit, kind: str) -> None:
        live = getattr(self._panel(), "_live", None)
        # (an undo gives the pixels back to the run; an edit of other labels is theirs)
        if live is None or kind == "undo" or self.host.current_labels() is not live.labels:
            return
        region = paint_again(live, edit)
        if region is not None:
            self.host.refresh_labels(region)
            self._save_again(live.labels, region)

    def _save_again(self, labels, region: tuple[slice, ...]) -> None:
        """Have the project save ``region`` of ``labels`` again (through the run's reader):
        the session saved a stroke as the labels held it when it heard of it, a tile over
        some of its pixels (a kill mid-run left those in the project in place of the
        stroke); a mark changed what is saved there."""
        project = getattr(getattr(self._panel(), "session", None), "project", None)
        for ref in [] if project is None else project.images:
            if project.labels_are(ref.id, labels):
                project.mark_dirty(ref.id, region)
