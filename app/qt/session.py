"""What the panels of one viewer share: the host, the models, the project, the reviewed regions.

One :class:`StudioSession` per viewer (the plugin's widget factories create it on first use
and hand it to every panel), so panels stay independent widgets that talk through it and
through the host, never to each other, and nothing lives in a module-level singleton.

Every label change flows through here to be saved and learnt from (``session_edits``:
the app's own object tools call :meth:`apply_edit`; napari's brush, fill, undo and redo
arrive from the host's ``connect_user_edits``); the project is opened, followed and closed
by ``session_project``. Both are mixins of :class:`StudioSession`, which keeps the labels
shown, the reviewed regions and the image worked on.
"""

from __future__ import annotations

import logging
from collections import deque

import numpy as np
from qtpy.QtCore import QObject, Signal

from unet_studio.app.label_ids import FreshIds
from unet_studio.app.model_library import ModelLibrary
from unet_studio.app.project import Project
from unet_studio.app.qt.gui_thread_gc import collect_on_gui_thread
from unet_studio.app.qt.library_watch import LibraryWatch
from unet_studio.app.qt.saved_work_offer import SavedWorkOffer
from unet_studio.app.qt.segment_intensity import IntensityCache
from unet_studio.app.qt.session_carry import WorkCarry
from unet_studio.app.qt.session_edits import MARKS_KEPT, EditRecording
from unet_studio.app.qt.session_project import ProjectLink
from unet_studio.app.qt.turn_queue import TurnQueue
from unet_studio.app.reviewed import ReviewedRegions
from unet_studio.models.scratch import scratch_zeros

log = logging.getLogger(__name__)

LABELS_SUFFIX = " labels"


class StudioSession(EditRecording, ProjectLink, WorkCarry, QObject):
    """Shared state of the panels. GUI thread only.

    Signals: ``model_changed(info)`` (a ModelInfo or None), ``labels_replaced()`` (a new
    labels array is live: prediction or project restore), ``reviewed_changed()``,
    ``project_changed()``, ``predict_requested()`` (another panel asks the Segment panel to
    re-predict the current image, e.g. after accepting a fine-tuned model),
    ``image_renamed(old, new)`` (the user renamed an image layer), ``models_listed()`` (a
    model was added to or removed from the library: every list of models is refilled),
    ``model_renamed(old, new)`` (ModelInfos of a model before and after a rename: whoever
    holds the old one swaps it; ``models_listed`` follows), ``prediction_ended(shown)``
    (a Segment run ended; ``shown``: its result is on screen, False when it was cancelled
    or failed).
    """

    predict_requested = Signal()
    model_changed = Signal(object)
    labels_replaced = Signal()
    reviewed_changed = Signal()
    project_changed = Signal()
    image_renamed = Signal(str, str)
    models_listed = Signal()
    model_renamed = Signal(object, object)
    prediction_ended = Signal(bool)

    def __init__(self, host, *, library: ModelLibrary | None = None, parent=None):
        super().__init__(parent)
        collect_on_gui_thread()  # (its Qt objects, and the viewer's, are never deleted off it)
        self.host = host
        self.library = library if library is not None else ModelLibrary()
        self.model = self.library.default()
        self.project: Project | None = None
        self.image_id: str | None = None
        self.reviewed: ReviewedRegions | None = None
        self.overlay_visible = True
        self._reviewed_key: int | None = None  # id() of the labels array `reviewed` is for
        self._restoring = False
        self._last_image: str | None = None  # the current image when last looked at
        self._fresh_ids = FreshIds()  # (kept from the edits recorded here)
        # The intensity ranges of the pixels last segmented or trained on: a Segment run
        # or a Train round on the same pixels skips the pass over a big stack (seconds/GiB).
        self.intensities = IntensityCache()
        # (regions, edit key, MarksAdded) of the last edits, newest last: what an undo takes back
        self._marks: deque = deque(maxlen=MARKS_KEPT)
        self._unmarked: deque = deque(maxlen=MARKS_KEPT)  # the same, of edits undone
        # The open images' work from the project left, by image name, until it is saved
        # into the one open now (``session_carry``).
        self._carried: dict = {}
        # Changes of the live labels seen (edits, undo, redo, new labels): an edit computed
        # off the GUI thread applies only while this still reads as when it started.
        self.labels_changes = 0
        # Snapshots of big edits and redraws of the marks, a turn after the edit (see
        # _show_marks_soon and _save_edit): run before the project closes.
        self._later = TurnQueue(self)
        # The project holding the corrections of an image opened again, offered (once a
        # project opens, the offer goes and a project opened by hand is remembered).
        self.saved_work = SavedWorkOffer(self)
        # Models made, replaced or removed by someone else (the command line, another
        # window): every list of the session refills, whichever panels are open.
        self.library_watch = LibraryWatch(self, parent=self)
        if hasattr(host, "connect_user_edits"):
            host.connect_user_edits(self._on_user_edit)
        if hasattr(host, "connect_active_layer_changed"):
            host.connect_active_layer_changed(self._follow_active_layer)
        if hasattr(host, "connect_image_renamed"):
            host.connect_image_renamed(self._on_image_renamed)

    # ---- models --------------------------------------------------------------------------
    def set_model(self, model) -> None:
        """Make a model current: a ModelInfo, a library ref ("user:x") or a folder path."""
        info = model if hasattr(model, "ref") else self.library.get(model)
        self.model = info
        self._record_model()
        self.model_changed.emit(info)

    def _record_model(self) -> None:
        """Record the current model in the open project: its ref (a folder chosen by path,
        by that path) and its identity (``model_identity``)."""
        info = self.model
        if self.project is None or info is None:
            return
        from unet_studio.app.model_identity import identity_of

        self.project.set_current_model(str(info.path) if info.source == "folder" else info.ref,
                                       identity=identity_of(info))

    # ---- labels and edits ----------------------------------------------------------------
    def fresh_label_id(self, labels: np.ndarray) -> int:
        """An id no object of ``labels`` (the live labels, every time point) holds."""
        return self._fresh_ids.next_id(labels)

    def show_labels(
        self, labels: np.ndarray, *, protect: bool = True, reviewed: ReviewedRegions | None = None,
        save: bool = True, keep_history: bool = False,
    ) -> np.ndarray:
        """Make ``labels`` (labels' spatial shape) the live labels of the current image.

        With ``protect``, reviewed regions keep the current labels (a new prediction never
        overwrites what the user has checked). ``reviewed``: the regions that go with
        ``labels`` (default: those of the labels shown now). ``save``: snapshot them into the
        project now (off for placeholders that are saved when filled). ``keep_history``:
        ``labels`` hold the pixels shown now (widened ids): the layer's undo history goes on,
        and so do the edits' marks, kept by their ``reviewed`` regions (pass those). Returns
        the live array.
        """
        image = self.host.current_image()
        current = self.host.current_labels()
        if reviewed is None and current is not None and self._reviewed_key == id(current):
            reviewed = self.reviewed
        if (protect and reviewed is not None and current is not None
                and reviewed.shape == labels.shape == current.shape):  # fmt: skip
            labels = reviewed.protect(labels, current)
        name = (image.name if image is not None else "image") + LABELS_SUFFIX
        if keep_history:  # (only then: a host without undo history takes no such option)
            self.host.set_labels(labels, name=name, keep_history=True)
        else:
            self.host.set_labels(labels, name=name)
        self.labels_changes += 1
        self._fresh_ids.forget()
        live = self.host.current_labels()
        if reviewed is not None and reviewed.shape == live.shape:
            self.reviewed, self._reviewed_key = reviewed, id(live)  # the marks still apply
        if save:
            project, image_id = self._project_for_current(ensure=True)
            if image_id is not None:  # (None: no image open, nothing to save them for)
                project.attach_labels(image_id, live, save=True)
        self.ensure_reviewed()
        self._refresh_overlay()
        self.labels_replaced.emit()
        return live

    def labels_for_prediction(self, shape: tuple[int, ...]) -> np.ndarray:
        """The live labels a prediction streams into: the image's own labels when their shape
        is the image's labels shape, else new empty labels. A labels layer the user brought
        or painted is never written into (the host leaves it as it is and says so). Those
        are not snapshotted into the project here (tens of ms on the GUI thread at the click,
        for zeros): the finished prediction is, and an edit made meanwhile registers the
        labels first."""
        image = self.host.current_image()
        new_name = (image.name if image is not None else "image") + LABELS_SUFFIX
        own_labels = getattr(self.host, "own_labels", None)  # (a host without: all labels are own)
        current = (self.host.current_labels() if own_labels is None
                   else own_labels(tuple(shape), new_name))  # fmt: skip
        if current is None and self.project is not None and self.restore_from_project():
            # (the labels layer was closed: the saved corrections come back first, so that
            # the run keeps what was reviewed instead of protecting empty pixels)
            current = self.host.current_labels()
        if current is None or current.shape != tuple(shape):
            # A stack's labels can outgrow the memory: then they live in a temporary file.
            current = self.show_labels(scratch_zeros(tuple(shape), np.int32), protect=False, save=False)
        self._fresh_ids.streaming_into(current)
        self.labels_changes += 1  # (tiles are written into them from now on)
        return current

    def streaming_ids(self, live: np.ndarray, written) -> None:
        """The prediction streaming into ``live`` tells the largest id it wrote so far
        (``written()``): an id handed out meanwhile (Split, Add object...) lies above it and
        the labels' before, without a pass over a stack's labels per click."""
        self._fresh_ids.streaming_into(live, written)

    def finish_streamed_prediction(self, live: np.ndarray) -> None:
        """A prediction was written into ``live`` around the reviewed pixels (and tidied by
        ``LiveLabelsDestination.finish``): make it the labels again (undo history restarts:
        the array changed under it) and save it."""
        regions = self.reviewed if self._reviewed_key == id(live) else None
        self._fresh_ids.streaming_into(None)
        self.show_labels(live, protect=False, reviewed=regions)

    def close_labels(self, labels: np.ndarray) -> None:
        """Close the layer showing ``labels`` (new labels a prediction made and left empty:
        see ``segment_interrupted``), with the reviewed regions and fresh ids kept for it."""
        self._fresh_ids.streaming_into(None)
        self._fresh_ids.forget()
        self.labels_changes += 1
        if self._reviewed_key == id(labels):  # (an id a later array may be given)
            self.reviewed, self._reviewed_key = None, None
        remove = getattr(self.host, "remove_labels", None)
        if remove is not None:
            remove(labels)
        self._refresh_overlay()

    def live_labels_changed(self, labels: np.ndarray, region: tuple[slice, ...]) -> None:
        """Some image's live ``labels`` changed inside ``region`` outside an edit (a cancelled
        prediction put back): saved again, as a save of a big array may have read them
        mid-run (see ``snapshot_chunks``)."""
        self._fresh_ids.streaming_into(None)
        self.labels_changes += 1
        project = self.project
        for ref in [] if project is None else project.images:
            if project.labels_are(ref.id, labels):
                project.mark_dirty(ref.id, region)

    # ---- reviewed regions ----------------------------------------------------------------
    def ensure_reviewed(self) -> ReviewedRegions | None:
        """The current labels' ReviewedRegions (from the project when one is open)."""
        labels = self.host.current_labels()
        if labels is None:
            return None
        if self.reviewed is None or self._reviewed_key != id(labels):
            project, image_id = self._project_for_current()
            # (labels open without an image, e.g. a labels file opened alone: not in the
            # project, their marks are kept here only)
            regions = None if image_id is None else project.reviewed(image_id, labels.shape)
            if regions is None or regions.shape != labels.shape:
                regions = ReviewedRegions(labels.shape)
            self.reviewed, self._reviewed_key = regions, id(labels)
        return self.reviewed

    def reviewed_changed_by_user(self) -> None:
        """Call after marking regions directly on :attr:`reviewed`: saves and redraws."""
        if self.project is not None and self.image_id is not None:
            self.project.save_reviewed(self.image_id)
        self._refresh_overlay()
        self.reviewed_changed.emit()

    def set_overlay_visible(self, visible: bool) -> None:
        self.overlay_visible = bool(visible)
        self._refresh_overlay()

    def _refresh_overlay(self) -> None:
        regions = self.ensure_reviewed()  # (the current image's: None while it has no labels)
        show = self.overlay_visible and regions is not None and regions.any()
        self.host.set_reviewed_overlay(regions.mask if show else None)

    # ---- the image worked on -------------------------------------------------------------
    def select_image(self, name: str) -> None:
        """Work on the image layer ``name``: it becomes the current image and, when it was
        not current already, its saved corrections come back on screen if it has none there
        (so that a prediction on it keeps their reviewed parts instead of starting afresh)."""
        if hasattr(self.host, "select_image"):
            self.host.select_image(name)
        self._current_image_changed()
        if hasattr(self.host, "bring_forward"):  # (the layer controls follow the choice)
            self.host.bring_forward(name)

    def _follow_active_layer(self) -> None:
        """The user activated an image layer, or the labels made for one: work on that image,
        so that the labels edited, the reviewed marks and what is saved all belong to it."""
        if self._restoring:
            return
        name = getattr(self.host, "active_image_name", lambda: None)()
        if name is not None and hasattr(self.host, "select_image"):
            self.host.select_image(name)  # pinned: it stays current while other layers are active
        self._current_image_changed()

    def _current_image_changed(self) -> None:
        """Once per change of the current image: restore its saved labels if none are on
        screen (a labels layer the user closes while the image stays current stays closed)."""
        image = self.host.current_image()
        name = None if image is None else image.name
        if name == self._last_image:
            return
        self._last_image = name
        if self._restoring:
            return
        if self.project is None and name is not None:  # (its work saved before: offered)
            self.saved_work.image_became_current()
        # (guarded: the overlay layer coming and going makes napari activate layers, which
        # must not turn the session back to the image of the active layer)
        self._restoring = True
        try:
            if self.project is not None and self.host.current_labels() is None:
                self.restore_from_project()
            # The reviewed marks shown and counted are this image's, not the one before.
            self._refresh_overlay()
        finally:
            self._restoring = False
        self.reviewed_changed.emit()

    def record_channel(self, channel: int | str | None) -> None:
        """The current image was segmented on ``channel`` (an index, "luminance" for the grey
        values of RGB(A), None: all channels): noted in the
        project so that fine-tuning learns from the channel the model sees."""
        project, image_id = self._project_for_current(ensure=True)
        if project is not None and image_id is not None:
            project.set_selection(image_id, C=channel)

    def image_channel(self, image_id: str | None) -> int | str | None:
        """The channel an image was last segmented on (an index or "luminance"; None:
        unknown, or all)."""
        if self.project is None or image_id is None:
            return None
        return self.project.image(image_id).selection.get("C")

    def current_image_id(self) -> str | None:
        """The current image's id in the open project (None when it is not in it)."""
        return self._project_for_current(create=False)[1]
