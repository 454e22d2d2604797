"""What the Correct panel's buttons and canvas clicks do (no widgets here; its keys:
``pointer_tools``).

Object tools turn clicks into :class:`LabelEdit` s from
``app.corrections`` and apply them through the session (one undo step each, saved to the
project, marked as reviewed). Review marking turns "this slice" or drawn polygons into
:class:`ReviewedRegions` marks.

Coordinates are the labels' data coordinates, one number per axis, e.g. ``(z, y, x)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unet_studio.app import corrections
from unet_studio.app.click_object import FixedIndexView, add_object_edit, contrast_channel
from unet_studio.app.errors import UserError
from unet_studio.app.label_edit import LabelEdit
from unet_studio.app.object_search import holds_id
from unet_studio.app.qt.key_map import DEFAULT_KEYS, keys_help
from unet_studio.app.slice_interpolation import interpolate_slices_edit
from unet_studio.app.track_edit import cut_track_edit, join_tracks_edit

TOOL_MODES = ("add", "delete", "merge", "split", "pick")
MAX_RAY_VOXELS = 4096  # voxels of a view ray read for the 3D rendering's add

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
        if self.axis is None:
            return edit
        times = np.full(edit.size, self.t, np.int64)
        indices = (*edit.indices[:self.axis], times, *edit.indices[self.axis:])
        return LabelEdit(indices, edit.old_values, edit.new_values, edit.description)


class ObjectTools:
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
        self.keys_help = keys_help(DEFAULT_KEYS)  # (the panel's keys, in the status line)

    @property
    def host(self):
        return self.session.host

    def _labels(self) -> np.ndarray:
        labels = self.host.current_labels()
        if labels is None:
            raise UserError("there are no labels to correct; run a prediction or add labels")
        return labels

    def set_mode(self, mode: str | None) -> None:
        if mode is not None and mode not in TOOL_MODES:
            raise ValueError(f"tool mode must be one of {TOOL_MODES} or None, got {mode!r}")
        self.mode = mode
        self.reset()

    def reset(self) -> None:
        self.picked, self.picked_at, self.seeds, self.split_id = [], [], [], 0

    def pending_points(self) -> list[tuple[float, ...]]:
        """Where the clicks of an unfinished merge or split were (shown on the canvas)."""
        return list(self.picked_at) + list(self.seeds)

    def status(self) -> str:
        """One line saying what the active tool waits for."""
        if self.mode == "add":
            return "Click inside an object the network missed to add it."
        if self.mode == "delete":
            return "Click an object to delete it."
        if self.mode == "merge":
            chosen = ", ".join(map(str, self.picked)) or "none yet"
            return (f"Click the objects to merge (chosen: {chosen}), then Apply; at two time "
                    "points: their tracks are joined.")
        if self.mode == "pick":
            return "Click an object to paint with its label."
        if self.mode == "split":
            if not self.split_id:
                return "Click inside the object to split (first seed)."
            return f"Object {self.split_id}: {len(self.seeds)} seeds; click more, then Apply."
        return f"Paint, erase, fill and polygon: napari's layer controls. {self.keys_help}"

    def click(self, coord) -> str:
        """Handle a canvas click at ``coord``; returns the new status line."""
        labels = self._labels()
        label = corrections.label_at(labels, coord)
        if self.mode == "add":
            self.add_object(coord)
        elif self.mode == "delete":
            if label == 0:
                raise UserError("no object under the click; click inside an object to delete it")
            scope = self.scope([coord])
            self.session.apply_edit(scope.lift(corrections.delete_object_edit(
                scope.labels, label, near=scope.coords[0])))
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

    def time_axis(self) -> int | None:
        """The labels' time axis, or None (no time series)."""
        image = self.host.current_image()
        axes = "" if image is None else image.axes.replace("C", "")
        return axes.index("T") if "T" in axes and len(axes) == self._labels().ndim else None

    def pick_times(self, coords) -> list[int]:
        """The time points of picks at ``coords`` (none without a time axis)."""
        axis = self.time_axis()
        return [] if axis is None else [int(round(float(p[axis]))) for p in coords]

    def join_edit(self, ids, coords) -> LabelEdit:
        """Merge's picks at two time points: the later object takes the earlier one's id
        from its time point on (``track_edit``)."""
        if len(ids) != 2:
            raise UserError("to join two tracks pick one object before the break and one after "
                            "it (two picks, at two time points)")  # fmt: skip
        return join_tracks_edit(self._labels(), self.time_axis(),
                                list(zip(ids, self.pick_times(coords))))  # fmt: skip

    def cut_track(self, label: int, coord) -> tuple[int, int]:
        """Give ``label`` a fresh id from ``coord``'s time point on (``track_edit``); returns
        (the new id, the time point)."""
        axis = self.time_axis()
        if axis is None:
            raise UserError("cutting a track needs a time series: these labels have no T axis")
        labels, t = self._labels(), self.pick_times([coord])[0]
        # (the time point before first: where a track that goes on is found at once)
        if not any(holds_id(labels[(slice(None),) * axis + (before,)], label)
                   for before in range(t - 1, -1, -1)):  # fmt: skip
            raise UserError(f"object {label} starts at time point {t}: there is no track "
                            "before it to cut from")  # fmt: skip
        new_id = corrections.next_label_id(labels)
        self.session.apply_edit(cut_track_edit(labels, axis, label, t, new_id))
        return new_id, t

    def split_edit(self, label: int, seeds) -> LabelEdit:
        """Splitting ``label`` at ``seeds`` (labels coordinates), as an edit of the labels."""
        scope = self.scope(seeds)
        image, sampling = self._split_guides(scope)
        return scope.lift(corrections.split_object_edit(
            scope.labels, label, scope.coords, image=image, sampling=sampling))

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

    def add_object(self, coord, ray=None) -> int:
        """Add the object the network missed under ``coord`` (see ``click_object``), with a
        fresh id, or in a time series the id it has at the time point before or after;
        returns the id. In the 3D rendering ``ray`` (the voxels along the view ray, nearest
        first) gives the point: the brightest voxel the ray meets before any object, what
        the rendering shows there."""
        view = view_in_labels(self.session)
        if view is not None and len(view[1]) >= 3:
            if ray is None or not len(ray):
                raise UserError("in the 3D rendering press the add key over the object (or "
                                "click it in a 2D view)")  # fmt: skip
            coord = self._brightest_on_ray(ray)
        scope = self.scope([coord])
        point = tuple(int(round(c)) for c in scope.coords[0])
        image = self._scope_image(scope, point)
        label = corrections.next_label_id(self._labels())
        edit = scope.lift(add_object_edit(scope.labels, image, point, label,
                                          sampling=self._sampling(scope)))  # fmt: skip
        going_on = self._id_over_time(scope, edit)
        if going_on is not None:  # (its track's id: missed at this time point only)
            label = going_on
            edit = LabelEdit(edit.indices, edit.old_values,
                             np.full_like(edit.new_values, label), f"add object {label}")
        self.session.apply_edit(edit)
        return label

    def _brightest_on_ray(self, ray) -> tuple[int, ...]:
        """The brightest voxel along ``ray`` (labels indices, nearest the camera first) up to
        the first labelled one (beyond it the ray is hidden)."""
        ray = np.asarray(ray)[:MAX_RAY_VOXELS]
        labels = self._labels()
        hit = np.flatnonzero([labels[tuple(v)] != 0 for v in ray])
        ray = ray[: hit[0]] if hit.size else ray
        if not len(ray):
            raise UserError("the pointer is on an object already")
        scope = self.scope([ray[0]])
        point = tuple(int(c) for c in scope.coords[0])
        image = self._scope_image(scope, point)
        inner = ray if scope.axis is None else np.delete(ray, scope.axis, axis=1)
        values = [float(image[tuple(slice(c, c + 1) for c in v)].ravel()[0]) for v in inner]
        return tuple(int(c) for c in ray[int(np.argmax(values))])

    def _id_over_time(self, scope: EditScope, edit: LabelEdit) -> int | None:
        """In a time series, the id of the object that the added one (``edit``, of the whole
        labels) overlaps most at the time point before or after (a quarter of its pixels at
        least), when that id is not used at its own time point; else None."""
        if scope.axis is None or edit.is_empty:
            return None
        labels = self._labels()
        for t in (scope.t - 1, scope.t + 1):  # (the time point before first)
            if not 0 <= t < labels.shape[scope.axis]:
                continue
            at_t = list(edit.indices)
            at_t[scope.axis] = np.full(edit.size, t, np.int64)
            values = np.asarray(labels[tuple(at_t)])
            values = values[values > 0]
            if not values.size:
                continue
            ids, counts = np.unique(values, return_counts=True)
            best = int(ids[np.argmax(counts)])
            if counts.max() >= 0.25 * edit.size and not holds_id(scope.labels, best):
                return best
        return None

    def _scope_image(self, scope: EditScope, point) -> FixedIndexView:
        """The image of the scope, read lazily; of a multichannel image, the channel where
        ``point`` stands out most."""
        image = self.host.current_image()
        if image is None:
            raise UserError("there is no image to find the object in")
        fixed = {} if scope.axis is None else {image.axes.index("T"): scope.t}
        if "C" not in image.axes:
            view = FixedIndexView(image.data, fixed)
        else:
            c = image.axes.index("C")
            channels = [FixedIndexView(image.data, {**fixed, c: i}) for i in range(image.data.shape[c])]
            view = channels[contrast_channel(channels, point)]
        if view.shape != scope.labels.shape:
            raise UserError(f"the image ({view.shape}) and the labels ({scope.labels.shape}) "
                            "differ in shape")  # fmt: skip
        return view

    def _sampling(self, scope: EditScope) -> tuple[float, ...] | None:
        """The pixel size per axis of the scope's labels (None: not known)."""
        image = self.host.current_image()
        if image is None:
            return None
        spatial_axes = image.axes.replace("C", "")
        sampling = tuple(image.scale.get(a, 1.0) for a in spatial_axes if a != "T")
        sampling = sampling[-scope.labels.ndim :]
        return sampling if len(sampling) == scope.labels.ndim else None

    def interpolate_edit(self, label: int, coord) -> tuple[LabelEdit, str]:
        """(the edit filling the slices between the painted slices of ``label``, what was
        filled: "slices" or "time points"). In a volume (at ``coord``'s time point in a time
        series) along the axis the 2D view scrolls through (Z in 3D); in a 2D time series,
        between the time points where the object is drawn (a cell outlined every few
        frames)."""
        if label == 0:
            raise UserError("no object to interpolate: point at one (I), or choose its label")
        scope = self.scope([coord])
        if scope.axis is not None and scope.labels.ndim == 2:
            edit = interpolate_slices_edit(self._labels(), label, scope.axis,
                                           sampling=self._sampling(scope), near=tuple(coord),
                                           unit="time point")  # fmt: skip
            return edit, "time points"
        axis = self._slicing_axis(scope)
        sampling = self._sampling(scope)
        plane_sampling = None if sampling is None else sampling[:axis] + sampling[axis + 1 :]
        return scope.lift(interpolate_slices_edit(scope.labels, label, axis,
                                                  sampling=plane_sampling,
                                                  near=scope.coords[0])), "slices"  # fmt: skip

    def _slicing_axis(self, scope: EditScope) -> int:
        """The scope's axis the view slices through: the one hidden axis of a 2D view of
        a volume; the first (Z) in the 3D rendering."""
        if scope.labels.ndim < 3:
            raise UserError("interpolating fills the slices between painted slices of a 3D "
                            "stack; these labels have no slices to fill")  # fmt: skip
        view = view_in_labels(self.session)
        displayed = set() if view is None else view[1]
        axes = [a for a in range(self._labels().ndim) if a != scope.axis]  # (scope order)
        hidden = [i for i, a in enumerate(axes) if a not in displayed]
        return hidden[-1] if hidden else 0

    def view_point(self) -> tuple[float, ...]:
        """The labels coordinate of the slice on screen (where a button acts in time)."""
        view = view_in_labels(self.session)
        if view is None:
            raise UserError("there are no labels on screen")
        return tuple(float(p) for p in view[0])

    # ---- one-click tools -------------------------------------------------------------------
    def fill_holes(self) -> None:
        """Fill holes of every object: per plane for 3D labels (as seen slice by slice), per
        time point for a time series (T first: of 3D volumes, the cavities of each)."""
        labels = self._labels()
        edit = corrections.fill_holes_edit(labels, None, per_slice=labels.ndim >= 3)
        if edit.is_empty:
            self.host.notify("no holes to fill")
            return
        self.session.apply_edit(edit)

    def interpolate_selected(self) -> str:
        """Fill the slices between the painted slices of the brush's label (the Fill between
        slices button: paint an object on a few slices, then click); returns what it did."""
        label = int(self.host.selected_label()) if hasattr(self.host, "selected_label") else 0
        if label == 0:
            raise UserError("choose the object's label first: paint with it, or pick it (K)")
        edit, filled = self.interpolate_edit(label, self.view_point())
        return self.apply_interpolation(label, edit, filled)

    def apply_interpolation(self, label: int, edit: LabelEdit, filled: str) -> str:
        """Apply an :meth:`interpolate_edit`; returns what it did."""
        if edit.is_empty:
            return f"Object {label} has no {filled} to fill between."
        self.session.apply_edit(edit)
        return f"Filled the {filled} between the painted {filled} of object {label}."

    def relabel(self) -> None:
        edit = corrections.relabel_sequential_edit(self._labels())
        if edit.is_empty:
            self.host.notify("labels are already numbered 1..N")
            return
        self.session.apply_edit(edit)

    def pick_label(self, label: int) -> None:
        """Paint with the clicked object's label from now on."""
        if label == 0:
            raise UserError("no object under the click; click inside an object to pick its label")
        if not hasattr(self.host, "set_selected_label"):
            raise UserError("this viewer has no brush to paint with")
        self.host.set_selected_label(int(label))

    def fresh_label(self) -> int:
        """Pick an unused label id for painting a new object; returns it."""
        label = corrections.next_label_id(self._labels())
        if hasattr(self.host, "set_selected_label"):
            self.host.set_selected_label(label)
        return label


def view_in_labels(session) -> tuple[list[int], set[int]] | None:
    """Where the view is, in the labels' axes (the image's without C): the index on every
    axis and the axes on screen; None without labels or a view."""
    labels = session.host.current_labels()
    state = session.host.view_state()
    image = session.host.current_image()
    if labels is None or state is None or image is None:
        return None
    keep = [a for a, letter in enumerate(image.axes) if letter != "C"]
    position = [state.position[a] for a in keep if a < len(state.position)][-labels.ndim :]
    offset = len(keep) - labels.ndim
    displayed = {keep.index(a) - offset for a in state.displayed_axes if a in keep}
    return position, {a for a in displayed if a >= 0}


def review_region_for_view(session) -> tuple[slice, ...]:
    """The labels region of the plane on screen: the current index on hidden axes, all of
    the displayed ones."""
    view = view_in_labels(session)
    if view is None:
        raise UserError("nothing to mark: there are no labels on screen")
    position, displayed = view
    if len(displayed) >= 3:
        # Marking the whole rendered volume by mistake would turn every unchecked object
        # in it into training data.
        raise UserError("in the 3D view there is no single slice to mark: switch to the 2D "
                        "view, or draw a region")  # fmt: skip
    return tuple(
        slice(None) if a in displayed else slice(position[a], position[a] + 1)
        for a in range(len(position))
    )


def mark_reviewed_view(session, reviewed: bool = True) -> None:
    """Mark (or unmark) the slice on screen as reviewed."""
    regions = session.ensure_reviewed()
    if regions is None:
        raise UserError("nothing to mark: there are no labels on screen")
    regions.mark_region(review_region_for_view(session), reviewed)
    session.reviewed_changed_by_user()


def mark_reviewed_drawn(session) -> int:
    """Mark the polygons drawn on the review-regions layer; returns how many."""
    regions = session.ensure_reviewed()
    polygons = session.host.drawn_regions() if hasattr(session.host, "drawn_regions") else []
    if regions is None or not polygons:
        raise UserError("draw a region first (Draw region), then mark it")
    state = session.host.view_state()
    plane = (-2, -1) if state is None else tuple(a - len(state.position) for a in state.displayed_axes[-2:])
    for vertices in polygons:
        regions.mark_polygon(vertices[:, -regions.mask.ndim :], plane_axes=plane)
    session.host.clear_drawn_regions()
    session.reviewed_changed_by_user()
    return len(polygons)
