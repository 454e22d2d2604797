"""What the panels of one viewer share: the host, the models, the project, the reviewed regions.

One :class:`StudioSession` per viewer (the plugin's widget factories create it on first use
and hand it to every panel), so panels stay independent widgets that talk through it and
through the host, never to each other, and nothing lives in a module-level singleton.

Every label change flows through here to be saved and learnt from: the app's own object
tools call :meth:`apply_edit`; napari's brush, fill, undo and redo arrive from the host's
``connect_user_edits`` (when the host offers it).
"""

from __future__ import annotations

import logging
from collections import deque
from datetime import datetime
from pathlib import Path

import numpy as np
from qtpy.QtCore import QObject, Signal

from unet_studio.app.errors import UserError
from unet_studio.app.label_edit import LabelEdit
from unet_studio.app.label_ids import FreshIds
from unet_studio.app.model_library import ModelLibrary, user_home
from unet_studio.app.project import Project
from unet_studio.app.qt.turn_queue import TurnQueue
from unet_studio.app.reviewed import ReviewedRegions
from unet_studio.models.scratch import scratch_zeros

log = logging.getLogger(__name__)

LABELS_SUFFIX = " labels"
MARKS_KEPT = 100  # edits whose marks an undo can take back (napari keeps 100 undo steps)
SAVE_LATER_PIXELS = 1 << 20  # an edit this big is snapshotted for saving a turn after it
SHOW_MARKS = "show marks"  # (the TurnQueue key of redrawing the marks)


class StudioSession(QObject):
    """Shared state of the panels. GUI thread only.

    Signals: ``model_changed(info)`` (a ModelInfo or None), ``labels_replaced()`` (a new
    labels array is live: prediction or project restore), ``reviewed_changed()``,
    ``project_changed()``, ``predict_requested()`` (another panel asks the Segment panel to
    re-predict the current image, e.g. after accepting a fine-tuned model),
    ``image_renamed(old, new)`` (the user renamed an image layer), ``models_listed()`` (a
    model was added to or removed from the library: every list of models is refilled),
    ``model_renamed(old, new)`` (ModelInfos of a model before and after a rename: whoever
    holds the old one swaps it; ``models_listed`` follows).
    """

    predict_requested = Signal()
    model_changed = Signal(object)
    labels_replaced = Signal()
    reviewed_changed = Signal()
    project_changed = Signal()
    image_renamed = Signal(str, str)
    models_listed = Signal()
    model_renamed = Signal(object, object)

    def __init__(self, host, *, library: ModelLibrary | None = None, parent=None):
        super().__init__(parent)
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
        # (regions, edit key, MarksAdded) of the last edits, newest last: what an undo takes back
        self._marks: deque = deque(maxlen=MARKS_KEPT)
        self._unmarked: deque = deque(maxlen=MARKS_KEPT)  # the same, of edits undone
        # Changes of the live labels seen (edits, undo, redo, new labels): an edit computed
        # off the GUI thread applies only while this still reads as when it started.
        self.labels_changes = 0
        # Snapshots of big edits and redraws of the marks, a turn after the edit (see
        # _show_marks_soon and _save_edit): run before the project closes.
        self._later = TurnQueue(self)
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
        if self.project is not None:
            self.project.set_current_model(str(info.path) if info.source == "folder" else info.ref)
        self.model_changed.emit(info)

    # ---- labels and edits ----------------------------------------------------------------
    def apply_edit(self, edit: LabelEdit, *, review: bool = True, show_soon: bool = False) -> None:
        """Apply an object-tool edit as one undo step, then save it and (``review``) note
        its pixels as changed and its region as reviewed; a renumbering changes no outline
        and reviews nothing. ``show_soon``: redraw the marks a turn later (an edit nobody
        waits to see at once: one computed in the background)."""
        self.host.apply_label_edit(edit)
        self.labels_changes += 1
        self._record(edit, review=review, show=self._show_marks_soon if show_soon else None)

    def fresh_label_id(self, labels: np.ndarray) -> int:
        """An id no object of ``labels`` (the live labels, every time point) holds."""
        return self._fresh_ids.next_id(labels)

    def show_labels(
        self, labels: np.ndarray, *, protect: bool = True, reviewed: ReviewedRegions | None = None,
        save: bool = True,
    ) -> np.ndarray:
        """Make ``labels`` (labels' spatial shape) the live labels of the current image.

        With ``protect``, reviewed regions keep the current labels (a new prediction never
        overwrites what the user has checked). ``reviewed``: the regions that go with
        ``labels`` (default: those of the labels shown now). ``save``: snapshot them into the
        project now (off for placeholders that are saved when filled). Returns the live array.
        """
        image = self.host.current_image()
        current = self.host.current_labels()
        if reviewed is None and current is not None and self._reviewed_key == id(current):
            reviewed = self.reviewed
        if (protect and reviewed is not None and current is not None
                and reviewed.shape == labels.shape == current.shape):  # fmt: skip
            labels = reviewed.protect(labels, current)
        name = (image.name if image is not None else "image") + LABELS_SUFFIX
        self.host.set_labels(labels, name=name)
        self.labels_changes += 1
        self._fresh_ids.forget()
        live = self.host.current_labels()
        if reviewed is not None and reviewed.shape == live.shape:
            self.reviewed, self._reviewed_key = reviewed, id(live)  # the marks still apply
        if save:
            project, image_id = self._project_for_current(ensure=True)
            if project is not None:
                project.attach_labels(image_id, live, save=True)
        self.ensure_reviewed()
        self._refresh_overlay()
        self.labels_replaced.emit()
        return live

    def labels_for_prediction(self, shape: tuple[int, ...]) -> np.ndarray:
        """The live labels a prediction streams into: the current ones when their shape is
        the image's labels shape, else new empty labels. Those are not snapshotted into the
        project here (tens of ms on the GUI thread at the click, for zeros): the finished
        prediction is, and an edit made meanwhile registers the labels first."""
        current = self.host.current_labels()
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

    def _on_user_edit(self, edit: LabelEdit, kind: str) -> None:
        self.labels_changes += 1
        if kind == "paint":
            self._record(edit, show=self._show_marks_soon)
            return
        # Undo / redo: the pixels are saved; an undone edit takes back the marks it made
        # (a mistaken key press leaves nothing reviewed), a redone one makes them again.
        self._fresh_ids.saw_edit(self.host.current_labels(), edit.new_values)
        self._save_edit(edit, undone=True)
        regions = self.ensure_reviewed()
        if regions is None:
            return
        done, undone = (self._marks, self._unmarked) if kind == "undo" else (self._unmarked, self._marks)
        if not done or done[-1][:2] != (regions, _edit_key(edit)):
            return  # (an edit that made no marks: a renumbering, or marks already gone)
        if kind == "undo":
            regions.take_back(done[-1][2])
            undone.append(done.pop())
        else:  # (only what an undo took back is marked again)
            done.pop()
            undone.append((regions, _edit_key(edit), regions.record_edit(edit)))
        self._show_marks_soon()

    def _remember_marks(self, regions, edit: LabelEdit, added) -> None:
        self._unmarked.clear()  # (a new edit: napari forgets what could be redone)
        if added is not None:
            self._marks.append((regions, _edit_key(edit), added))

    def _record(self, edit: LabelEdit, *, review: bool = True, show=None) -> None:
        """Save ``edit`` (applied) and note its marks; ``show``: how to show them (default:
        now)."""
        self._fresh_ids.saw_edit(self.host.current_labels(), edit.new_values)
        regions = self.ensure_reviewed() if review else None
        if regions is not None:
            self._remember_marks(regions, edit, regions.record_edit(edit))
        self._save_edit(edit)
        if regions is not None and regions.auto_from_edits:
            (show or self._show_marks)()

    def _save_edit(self, edit: LabelEdit, *, undone: bool = False) -> None:
        """Have the project save the chunks ``edit`` changed (an undo or redo: ``undone``;
        its reviewed marks are not the edit's). An edit of over :data:`SAVE_LATER_PIXELS`
        (every object of a stack) is snapshotted a turn later: copying the ~250 chunks of
        a 64 x 1024 x 1024 stack costs the GUI thread ~0.15 s, and the copy taken then holds
        the same pixels or newer ones (themselves saved again by their own change)."""
        project, image_id = self._project_for_edit()
        if project is None:
            return
        labels = self.host.current_labels()  # (None: its layer is closing)

        def save() -> None:
            if undone:
                project.mark_dirty(image_id, edit.bbox)
            else:
                project.record_edit(image_id, edit)

        def save_later() -> None:  # (unless the project closed or follows other labels since)
            if project is self.project and (labels is None or project.labels_are(image_id, labels)):
                save()

        if edit.size > SAVE_LATER_PIXELS:
            self._later.put(("save", id(edit)), save_later)
        else:
            save()

    def _show_marks(self) -> None:
        self._refresh_overlay()
        self.reviewed_changed.emit()

    def _show_marks_soon(self) -> None:
        """Show the marks in the event loop's next turn. napari reports a brush stroke, and
        the undo or redo of one, as an edit per dab: redrawing the overlay of a stack and
        recounting its marks (panels listen) after each of them cost tens of ms per dab on
        64 x 1024 x 1024 labels (a 15-dab stroke froze the window for 1-3 s); once after
        the last costs that once. The marks themselves are noted at once."""
        self._later.put(SHOW_MARKS, self._show_marks)

    def _project_for_edit(self) -> tuple[Project | None, str | None]:
        """The project and the current image's id, the labels being edited attached as that
        image's corrections: a labels layer the user opened and edits becomes what is saved
        (its edits would otherwise go unsaved, the project following another array)."""
        project, image_id = self._project_for_current(ensure=True)
        labels = self.host.current_labels()
        if project is not None and image_id is not None and labels is not None \
                and not project.labels_are(image_id, labels):
            project.attach_labels(image_id, labels, save=True)
        return project, image_id

    # ---- reviewed regions ----------------------------------------------------------------
    def ensure_reviewed(self) -> ReviewedRegions | None:
        """The current labels' ReviewedRegions (from the project when one is open)."""
        labels = self.host.current_labels()
        if labels is None:
            return None
        if self.reviewed is None or self._reviewed_key != id(labels):
            project, image_id = self._project_for_current()
            regions = project.reviewed(image_id, labels.shape) if project is not None else None
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

    # ---- project -------------------------------------------------------------------------
    def open_project(self, path: str | Path, *, create: bool = False) -> Project:
        """Open (or create) a project and restore the current image's labels from it."""
        project = Project.create(path) if create else Project.open(path)
        self.close_project()
        self.project = project
        self.image_id = None
        self.reviewed = None
        # The marks of edits made before belong to the regions just dropped: an undo can no
        # longer take them back (it compares regions), and they would keep those regions'
        # stack-sized masks alive for up to MARKS_KEPT more edits.
        self._marks.clear()
        self._unmarked.clear()
        if project.current_model:
            try:
                self.set_model(project.current_model)
            except UserError as error:
                self.host.notify(f"project model not available: {error}", "warning")
        self.library.folders["project"] = project.models_dir
        self._open_project_images(project)
        self.restore_from_project()
        self.project_changed.emit()
        return project

    def _open_project_images(self, project: Project) -> None:
        """Open the project's images that are not open yet, from their files, so that opening
        a project brings the work back (each image's corrections return when it becomes
        current); a warning names any image whose file cannot be found. An image open under
        another name (its file opened before the project, the project having renamed it) is
        that image: it takes the project's name instead of being opened twice."""
        opener = getattr(self.host, "open_image_file", None)
        if opener is None or not hasattr(self.host, "image_names"):
            return
        open_refs = {ref.id for ref in map(self._ref_of_open_image, self.host.image_names()) if ref}
        self._adopt_renamed_images(project, open_refs)
        for ref in project.images:
            if ref.id in open_refs:
                continue
            path = project.resolve_image_path(ref.id) if ref.path else None
            if path is None or not path.exists():
                where = f"its file {path} is missing" if path else "it has no file (open it yourself)"
                self.host.notify(f"project image {ref.name} not opened: {where}", "warning")
                continue
            try:
                opener(path, name=ref.name)
            except (UserError, OSError, ValueError) as error:
                self.host.notify(f"project image {ref.name} not opened: {error}", "warning")

    def _adopt_renamed_images(self, project: Project, open_refs: set[str]) -> None:
        """Rename an open image layer that stands for no project image to the project's name
        for the image from its file, where that pairing is certain: one such layer from the
        file, one project image from it not open yet, and its name free (the channels of one
        file, split into layers, are never guessed). Adds the adopted ids to ``open_refs``."""
        rename = getattr(self.host, "rename_image", None)
        source_of = getattr(self.host, "image_source", None)
        if rename is None or source_of is None:
            return
        loose = {name: source_of(name) for name in self.host.image_names()
                 if self._ref_of_open_image(name) is None}
        for ref in project.images:
            if ref.id in open_refs or not ref.path or ref.name in self.host.image_names():
                continue
            layers = [name for name, source in loose.items()
                      if source and project.same_file(ref, source)]
            if len(layers) != 1:
                continue
            rivals = [other for other in project.images if other.id not in open_refs
                      and other.path and project.same_file(other, loose[layers[0]])]
            if len(rivals) == 1:
                rename(layers[0], ref.name)
                open_refs.add(ref.id)
                del loose[layers[0]]

    def ensure_project(self) -> Project:
        """The open project, or a new autosave project in the user folder."""
        if self.project is None:
            image = self.host.current_image()
            stem = image.name if image is not None else "untitled"
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            folder = user_home() / "projects" / f"{_safe(stem)}-{stamp}"
            self.open_project(folder, create=True)
            self.host.notify(f"Corrections are autosaved to the project {folder}")
        return self.project

    def restore_from_project(self) -> bool:
        """Show the project's saved labels and reviewed regions for the current image."""
        project, image_id = self._project_for_current(create=False)
        if project is None or image_id is None:
            return False
        labels = project.labels(image_id)
        if labels is None:
            return False
        self.show_labels(labels, protect=False, reviewed=project.reviewed(image_id, labels.shape))
        while project.problems:  # each told once
            self.host.notify(project.problems.pop(0), "warning")
        return True

    # ---- the image worked on -------------------------------------------------------------
    def select_image(self, name: str) -> None:
        """Work on the image layer ``name``: it becomes the current image and, when it was
        not current already, its saved corrections come back on screen if it has none there
        (so that a prediction on it keeps their reviewed parts instead of starting afresh)."""
        if hasattr(self.host, "select_image"):
            self.host.select_image(name)
        self._current_image_changed()

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

    def _on_image_renamed(self, old: str, new: str, source: str | None) -> None:
        """The user renamed an image layer: its project image follows (its corrections stay
        linked to it), and it stays the image last looked at."""
        if self._last_image == old:
            self._last_image = new
        ref = None if self.project is None else self.project.find_image(old, source)
        if ref is not None:
            from unet_studio.app.qt.train_logic import rename_in_replay

            self.project.rename_image(ref.id, new)
            try:
                rename_in_replay(self.project, old, new)
            except UserError as error:  # an unreadable buffer: training will say so too
                self.host.notify(str(error), "warning")
        self.image_renamed.emit(old, new)

    def _ref_of_open_image(self, name: str):
        """The project image that the open image layer ``name`` stands for, or None."""
        source = getattr(self.host, "image_source", lambda name=None: None)(name)
        return self.project.find_image(name, source)

    def record_channel(self, channel: int | None) -> None:
        """The current image was segmented on ``channel`` (None: all channels): noted in the
        project so that fine-tuning learns from the channel the model sees."""
        project, image_id = self._project_for_current(ensure=True)
        if project is not None and image_id is not None:
            project.set_selection(image_id, C=channel)

    def image_channel(self, image_id: str | None) -> int | None:
        """The channel an image was last segmented on (None: unknown, or all)."""
        if self.project is None or image_id is None:
            return None
        return self.project.image(image_id).selection.get("C")

    def current_image_id(self) -> str | None:
        """The current image's id in the open project (None when it is not in it)."""
        return self._project_for_current(create=False)[1]

    def close_project(self) -> None:
        # The snapshots of the last edits, for the project to write; not a redraw (the viewer
        # may be closing).
        self._later.drop(SHOW_MARKS)
        self._later.run_all()
        if self.project is not None:
            self.project.close()
        self.project = None
        self.image_id = None

    def _project_for_current(
        self, create: bool = True, ensure: bool = False
    ) -> tuple[Project | None, str | None]:
        """The project and the id of the current image in it (added when ``create``; with
        ``ensure`` an autosave project is started first when none is open)."""
        if ensure and self.project is None and self.host.current_image() is not None:
            self.ensure_project()
        project = self.project
        image = self.host.current_image()
        if project is None or image is None:
            return project, None
        source = getattr(self.host, "image_source", lambda: None)() or ""
        ref = project.find_image(image.name, source)
        if ref is not None:
            self.image_id = ref.id
            return project, ref.id
        if not create:
            return project, None
        labels = self.host.current_labels()
        ref = project.add_image(source, axes=image.axes, name=image.name,
                                shape=None if labels is None else labels.shape,
                                scale=image.scale)  # fmt: skip
        self.image_id = ref.id
        if labels is not None:
            project.attach_labels(ref.id, labels, save=True)
        return project, ref.id


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-") or "image"


def _edit_key(edit: LabelEdit) -> tuple:
    """What an edit and its undo share (the same pixels): size, first and last pixel."""
    if edit.is_empty:
        return (0,)
    return (edit.size, tuple(int(i[0]) for i in edit.indices), tuple(int(i[-1]) for i in edit.indices))
