"""What the Correct panel's buttons and canvas clicks do (no widgets here; its keys:
``pointer_tools``).

Object tools turn clicks into :class:`LabelEdit` s from
``app.corrections`` and apply them through the session (one undo step each, saved to the
project, marked as reviewed); adding missed objects, filling between slices and the tracks
of a time series are in ``adding_tools``, ``slice_tools`` and ``time_tools``, review marking
in ``review_marks``.

Coordinates are the labels' data coordinates, one number per axis, e.g. ``(z, y, x)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unet_studio.app import corrections
from unet_studio.app.class_map import class_text, labels_classes, refuse_on_class_map
from unet_studio.app.errors import UserError
from unet_studio.app.label_edit import LabelEdit
from unet_studio.app.qt.adding_tools import AddingTools
from unet_studio.app.qt.correct_tips import OBJECT_ACTIONS
from unet_studio.app.qt.key_map import DEFAULT_KEYS, keys_help
from unet_studio.app.qt.plane_word import view_plane_word
from unet_studio.app.qt.slice_tools import SliceTools
from unet_studio.app.qt.stack_edit_runner import StackEditJob, StackEditRunner, told
from unet_studio.app.qt.start_labels import LabelStarting, no_labels_message, sentence
from unet_studio.app.qt.time_tools import TimeTools
from unet_studio.app.stack_edits import iter_fill_holes_edit, iter_relabel_sequential_edit

TOOL_MODES = ("add", "delete", "merge", "split", "pick")

@dataclass
class EditScope:
    """The labels an object tool acts on (``labels``: the whole array, or a view of one time
    point ``t`` along ``axis``), the picks in its coordinates, and how its edits become edits
    of the whole labels."""

    labels: np.ndarray
    coords: list[tuple[float, ...]]
    axis: int | None
    t: int

    @property
    def index(self) -> tuple:
        return (slice(None),) * self.axis + (self.t,)

    def lift(self, edit: LabelEdit) -> LabelEdit:
        # (with the edit's unchanged pixels to review: the objects a split or merge leaves)
        return edit if self.axis is None else edit.lifted(self.axis, self.t)


class ObjectTools(AddingTools, SliceTools, TimeTools, LabelStarting):
    """Click-driven object tools on the session's current labels.

    ``mode`` is None (napari's own tools get the clicks) or one of :data:`TOOL_MODES`.
    Merge collects the clicked objects and split collects seeds until :meth:`apply`; pick
    makes the clicked object's id the brush label. In napari's 3D rendering the host turns
    a click into the first labelled voxel along its ray, so every tool works there too.
    """

    def __init__(self, session):
        self.session = session
        self.mode: str | None = None
        self.picked: list[int] = []  # merge: objects clicked, in order
        self.picked_at: list[tuple[float, ...]] = []  # merge: where they were clicked
        self.seeds: list[tuple[float, ...]] = []  # split: points clicked in one object
        self.split_id = 0
        self.deleted: int | None = None  # delete: the object the last click deleted
        self.keys: dict[str, str] = dict(DEFAULT_KEYS)  # (the panel's keys, in the status line)
        self.stack_edits = StackEditRunner(session)  # (edits of every object: Fill holes, ...)

    @property
    def host(self):
        return self.session.host

    def _labels(self) -> np.ndarray:
        labels = self.host.current_labels()
        if labels is None:
            raise UserError(no_labels_message(self.host))
        return labels

    def set_mode(self, mode: str | None) -> None:
        if mode is not None and mode not in TOOL_MODES:
            raise ValueError(f"tool mode must be one of {TOOL_MODES} or None, got {mode!r}")
        self.mode = mode
        self.reset()

    def reset(self) -> None:
        self.picked, self.picked_at, self.seeds, self.split_id = [], [], [], 0
        self.deleted = None

    def pending_points(self) -> list[tuple[float, ...]]:
        """Where the clicks of an unfinished merge or split were (shown on the canvas)."""
        return list(self.picked_at) + list(self.seeds)

    def status(self) -> str:
        """One line saying what the active tool waits for."""
        if self.mode is not None and self.host.current_labels() is None:
            return sentence(no_labels_message(self.host))
        classes = labels_classes(self.session)
        if classes and self.mode != "pick":
            return self._class_map_status(classes)
        if self.mode == "add":
            return "Click inside an object the network missed to add it."
        if self.mode == "delete":  # (what the last click did, as the delete key says it)
            done = f"Deleted object {self.deleted}. " if self.deleted is not None else ""
            return f"{done}Click an object to delete it."
        if self.mode == "merge":
            chosen = ", ".join(map(str, self.picked)) or "none yet"
            # (the tracks only where there are any: in a 3D stack it reads as a riddle)
            tracks = "; at two time points: their tracks are joined" if self._is_time_series() else ""
            return f"Click the objects to merge (chosen: {chosen}), then Apply{tracks}."
        if self.mode == "pick":  # (a class map's values are classes, not objects)
            return "Click a class to paint with it." if classes else \
                "Click an object to paint with its label."
        if self.mode == "split":
            if not self.split_id:
                return "Click inside the object to split (first seed)."
            return f"Object {self.split_id}: {len(self.seeds)} seeds; click more, then Apply."
        return (f"{self.started_note()}Paint, erase, fill and polygon: napari's layer controls. "
                f"{keys_help(self.keys, self._is_time_series(), self.plane_word())}")

    def _class_map_status(self, classes) -> str:
        """The status line on a class map: what to paint with; object tools are off."""
        label = self.host.selected_label() if hasattr(self.host, "selected_label") else None
        painting = "" if label is None else f" Painting with {class_text(classes, label)}."
        return (f"A class map ({', '.join(classes)}): choose a class to paint with napari's "
                f"brush; erase, fill and polygon: napari's layer controls.{painting} Object "
                f"tools are off. {self.keys['review']}: mark the {self.plane_word()} reviewed.")

    def plane_word(self) -> str:
        """What the plane on screen is called: "time point" on a time-lapse, else "slice"."""
        return view_plane_word(self.host.current_image())

    def _is_time_series(self) -> bool:
        return self.host.current_labels() is not None and self.time_axis() is not None

    def click(self, coord) -> str:
        """Handle a canvas click at ``coord``; returns the new status line."""
        labels = self._labels()
        if self.mode in OBJECT_ACTIONS:
            refuse_on_class_map(self.session, self.action_name(self.mode))
        label = corrections.label_at(labels, coord)
        if self.mode == "add":
            self.add_object(coord)
        elif self.mode == "delete":
            if label == 0:
                raise UserError("no object under the click; click inside an object to delete it")
            scope = self.scope([coord])
            self.session.apply_edit(scope.lift(corrections.delete_object_edit(
                scope.labels, label, near=scope.coords[0])))
            self.deleted = label
        elif self.mode == "merge":
            if label != 0 and label not in self.picked:
                self.picked.append(label)
                self.picked_at.append(tuple(float(c) for c in coord))
        elif self.mode == "split":
            self._add_seed(label, tuple(float(c) for c in coord))
        elif self.mode == "pick":
            self.pick_label(label)
        return self.status()

    def _add_seed(self, label: int, coord: tuple[float, ...]) -> None:
        if label == 0:
            raise UserError("seeds must lie inside the object to split")
        if self.split_id and label != self.split_id:
            raise UserError(f"all seeds must lie in object {self.split_id}; this is {label}")
        self.split_id = label
        self.seeds.append(coord)

    def can_apply(self) -> bool:
        return (self.mode == "merge" and len(self.picked) >= 2) or (
            self.mode == "split" and len(self.seeds) >= 2
        )

    def apply(self) -> str:
        """Merge the picked objects or split at the seeds, as one undo step."""
        refuse_on_class_map(self.session, OBJECT_ACTIONS.get(self.mode or "merge", "Merge"))
        if self.mode == "merge":
            if len(self.picked) < 2:
                raise UserError("click at least two objects to merge")
            if len(set(self.pick_times(self.picked_at))) > 1:  # (two time points: a join)
                self.session.apply_edit(self.join_edit(self.picked, self.picked_at))
                self.reset()
                return self.status()
            scope = self.scope(self.picked_at)
            edit = scope.lift(corrections.merge_labels_edit(scope.labels, self.picked,
                                                            near=scope.coords))  # fmt: skip
        elif self.mode == "split":
            edit = self.split_edit(self.split_id, self.seeds)
        else:
            raise UserError("choose Merge or Split first")
        self.session.apply_edit(edit)
        self.reset()
        return self.status()

    def scope(self, coords) -> EditScope:
        """Where the tools act for picks at ``coords`` (labels coordinates): in a time series
        the time point they are at (a view of it; an object there is that object at that
        time, as napari's brush edits the time point on screen), else the whole labels."""
        labels = self._labels()
        image = self.host.current_image()
        axes = "" if image is None else image.axes.replace("C", "")
        if "T" not in axes or len(axes) != labels.ndim:
            return EditScope(labels, [tuple(float(c) for c in p) for p in coords], None, 0)
        axis = axes.index("T")
        times = sorted({int(round(p[axis])) for p in coords})
        if len(times) != 1:
            raise UserError(f"the picks are at time points {times}: pick objects of one time point")
        t = times[0]
        if not 0 <= t < labels.shape[axis]:
            raise UserError("the pick lies outside the labels")
        inner = [tuple(float(c) for i, c in enumerate(p) if i != axis) for p in coords]
        return EditScope(labels[(slice(None),) * axis + (t,)], inner, axis, t)

    def split_edit(self, label: int, seeds) -> LabelEdit:
        """Splitting ``label`` at ``seeds`` (labels coordinates), as an edit of the labels."""
        refuse_on_class_map(self.session, "Split")
        scope = self.scope(seeds)
        image, sampling = self._split_guides(scope)
        # (fresh ids of the whole labels: a time point's view does not hold every id)
        return scope.lift(corrections.split_object_edit(
            scope.labels, label, scope.coords, image=image, sampling=sampling,
            first_new=self.new_label_id(self._labels())))

    def _split_guides(self, scope: EditScope):
        """The image of the scope (when it matches the labels pixel for pixel) and the pixel
        sizes."""
        image = self.host.current_image()
        if image is None:
            return None, None
        data = None
        if tuple(image.shape) == tuple(self._labels().shape):  # (no C axis)
            data = image.data if scope.axis is None else image.data[scope.index]
        return data, self._sampling(scope)

    def _sampling(self, scope: EditScope) -> tuple[float, ...] | None:
        """The pixel size per axis of the scope's labels (None: not known)."""
        image = self.host.current_image()
        if image is None:
            return None
        spatial_axes = image.axes.replace("C", "")
        sampling = tuple(image.scale.get(a, 1.0) for a in spatial_axes if a != "T")
        sampling = sampling[-scope.labels.ndim :]
        return sampling if len(sampling) == scope.labels.ndim else None


    # ---- one-click tools -------------------------------------------------------------------
    def fill_holes(self) -> str:
        """Fill holes of every object: per plane for 3D labels (as seen slice by slice), per
        time point for a time series (T first: of 3D volumes, the cavities of each); in a
        worker on big labels (see ``stack_edit_runner``). Returns the status line."""
        labels = self._labels()
        refuse_on_class_map(self.session, "Fill holes")
        steps = iter_fill_holes_edit(labels, per_slice=labels.ndim >= 3)
        return self.stack_edits.start(StackEditJob(
            "filling the holes of every object", "Click Fill holes again",
            told(steps, "Filled the holes of every object.", "no holes to fill"), labels.size,
            notify=True))

    def relabel(self) -> str:
        """Renumber the objects 1..N (as :meth:`fill_holes`, in a worker on big labels)."""
        labels = self._labels()
        refuse_on_class_map(self.session, "Relabel 1..N")
        steps = told(iter_relabel_sequential_edit(labels), "Renumbered the objects 1..N.",
                     "labels are already numbered 1..N")  # fmt: skip
        return self.stack_edits.start(StackEditJob(
            "renumbering the objects", "Click Relabel 1..N again", steps, labels.size,
            review=False, notify=True))  # (new numbers, the same outlines: nothing reviewed)

    def pick_label(self, label: int) -> None:
        """Paint with the clicked object's label (a class map's class) from now on."""
        if label == 0 and not labels_classes(self.session):  # (a class map's 0: a class)
            raise UserError("no object under the click; click inside an object to pick its label")
        if not hasattr(self.host, "set_selected_label"):
            raise UserError("this viewer has no brush to paint with")
        # (napari's brush paints on the active layer: with the image layer active, the
        # stroke after K panned the view, as it did after New label id)
        getattr(self.host, "activate_labels", lambda: None)()
        self.host.set_selected_label(int(label))
