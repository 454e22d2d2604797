"""The small interface between the panels and the viewer that owns the pixels.

Panels never touch napari: they ask a :class:`ViewerHost` for the current image and labels,
hand it :class:`~unet_studio.app.label_edit.LabelEdit` s to apply (one undo step each) and
tell it what to show. ``plugins/`` implements the protocol on a napari viewer; :class:`FakeHost`
implements it in memory with its own undo stack, for tests and scripts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

import numpy as np

from unet_studio.app.errors import UserError
from unet_studio.app.label_edit import LabelEdit

NOTIFY_LEVELS = ("info", "warning", "error")
Action = tuple[str, Callable[[], Any]]  # (a notification's button: its text, what it does)


def labels_layer_name(host) -> str | None:
    """The name of the labels layer being corrected, for messages, where the host says it
    (napari's host: ``labels_layer()``; :class:`FakeHost`: ``current_labels_name``)."""
    labels_layer = getattr(host, "labels_layer", None)
    if callable(labels_layer):
        return getattr(labels_layer(), "name", None)
    return getattr(host, "current_labels_name", None)


@dataclass(frozen=True)
class HostImage:
    """The image the user is working on.

    ``data``: array-like (numpy, memmap or zarr) with one axis per letter of ``axes``
    (over "TZCYX", e.g. "ZYX"); ``scale``: pixel size per axis letter in micrometres.
    ``pixel_size_um``: the spatial axes whose pixel size the image states in a length unit,
    in micrometres; an axis whose size is unknown (``scale`` then holds 1 or a guess) is not
    in it, so that nothing is reported in µm that was never measured in µm.
    ``time_step_s``: seconds between time points where the image states them in a unit of
    time (None: not stated, or no T axis).
    """

    data: Any
    axes: str
    scale: dict[str, float]
    name: str
    pixel_size_um: dict[str, float] = field(default_factory=dict)
    time_step_s: float | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)


@dataclass(frozen=True)
class ViewState:
    """Where the user is looking, in data index coordinates of the current image.

    ``position``: the index on every axis (slider positions on hidden axes).
    ``displayed_axes``: the axes on screen (2 in a 2D view, 3 in a 3D view).
    ``visible_region``: a slice per axis: the field of view on displayed axes (clipped to
    the data) and the single current index on the others. Prediction uses it to do what the
    user sees first.
    """

    position: tuple[int, ...]
    displayed_axes: tuple[int, ...]
    visible_region: tuple[slice, ...]

    @property
    def current_slice(self) -> tuple[int | slice, ...]:
        """Index selecting the displayed plane or volume: the current index on hidden axes."""
        return tuple(
            slice(None) if axis in self.displayed_axes else p
            for axis, p in enumerate(self.position)
        )


@runtime_checkable
class ViewerHost(Protocol):
    """What a panel may ask of the viewer. Every call happens on the GUI thread."""

    def current_image(self) -> HostImage | None:
        """The selected image, or None when there is none."""

    def current_labels(self) -> np.ndarray | None:
        """The live label array being corrected (same spatial shape as the image), or None.
        Read it freely; change it only through :meth:`apply_label_edit`."""

    def apply_label_edit(self, edit: LabelEdit) -> None:
        """Apply ``edit`` to the current labels as ONE undo step."""

    def set_labels(self, data: np.ndarray, *, name: str = "labels", scale=None,
                   keep_history: bool = False) -> None:
        """Add a labels layer called ``name``, or replace its data if it exists, and make it
        the current labels. Replacing resets that layer's undo history unless
        ``keep_history`` (the same labels, widened: their edits still undo)."""

    def refresh_labels(self, region: tuple[slice, ...] | None = None) -> None:
        """Redraw the current labels after their array was written in place outside the undo
        history (streamed prediction tiles); ``region``: the part that changed."""

    def set_reviewed_overlay(self, mask: np.ndarray | None) -> None:
        """Show ``mask`` (bool, labels' shape) as the reviewed-region overlay; None hides it."""

    def notify(self, message: str, level: str = "info", actions: Sequence[Action] = ()) -> None:
        """Tell the user something; ``level`` is "info", "warning" or "error". ``actions``:
        (button text, callback) pairs offered with it where the viewer can (napari's
        notification has buttons); the message says the same in words, as it fades."""

    def view_state(self) -> ViewState | None:
        """Current position and field of view, or None without an image."""


@dataclass
class FakeHost:
    """An in-memory :class:`ViewerHost` with an undo/redo stack, for tests and scripts."""

    image: HostImage | None = None
    labels_layers: dict[str, np.ndarray] = field(default_factory=dict)
    current_labels_name: str | None = None
    reviewed_overlay: np.ndarray | None = None
    notifications: list[tuple[str, str]] = field(default_factory=list)
    notified_actions: list[tuple[Action, ...]] = field(default_factory=list)  # (per notification)
    undo_stack: list[LabelEdit] = field(default_factory=list)
    redo_stack: list[LabelEdit] = field(default_factory=list)
    refreshed: list[tuple[slice, ...] | None] = field(default_factory=list)
    view: ViewState | None = None
    # Optional extras that NapariHost offers too (panels check with hasattr):
    selected_label_id: int = 1
    click_handler: Callable[[tuple[float, ...]], None] | None = None
    key_handlers: dict[str, Callable] = field(default_factory=dict)  # napari key name -> handler
    ray: np.ndarray | None = None  # the 3D rendering's view ray under the pointer (voxels)
    centered: tuple[float, ...] | None = None  # where center_on brought the view
    drawn: list[np.ndarray] = field(default_factory=list)  # polygons, (N, ndim) each
    edit_listeners: list[Callable[[LabelEdit, str], None]] = field(default_factory=list)
    # the class names recorded on each labels layer (``app.class_map``; () : objects)
    recorded_classes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    classes_listeners: list[Callable[[], None]] = field(default_factory=list)

    def add_image(self, data, axes: str, *, scale: dict | None = None, name: str = "image"):
        """Make ``data`` (axes ``axes``) the current image; the view shows its first plane."""
        if len(axes) != np.ndim(data):
            raise ValueError(f"axes {axes!r} do not match an image of shape {np.shape(data)}")
        known = {a: float(v) for a, v in (scale or {}).items() if a in "ZYX"}
        scale = {a: float((scale or {}).get(a, 1.0)) for a in axes}
        self.image = HostImage(data, axes, scale, name, pixel_size_um=known)
        self.view = full_view(self.image.shape)
        return self.image

    def current_image(self) -> HostImage | None:
        return self.image

    def set_image_axes(self, name: str, axes: str) -> None:
        """The image ``name`` IS ``axes`` from now on (a renaming of its axes in the same
        order, typed by the user: ``app.typed_axes``); its scale follows the letters."""
        image = self.image_named(name)
        if image is None or len(axes) != len(image.axes):
            raise ValueError(f"no image {name!r} of {len(axes)} axes to call {axes!r}")
        renamed = dict(zip(image.axes, axes))
        self.image = replace(image, axes=axes,
                             scale={renamed[a]: v for a, v in image.scale.items()},
                             pixel_size_um={renamed[a]: v for a, v in image.pixel_size_um.items()
                                            if renamed[a] in "ZYX"})  # (T has no length)

    def image_named(self, name: str) -> HostImage | None:
        return self.image if self.image is not None and self.image.name == name else None

    def current_labels(self) -> np.ndarray | None:
        if self.current_labels_name is None:
            return None
        return self.labels_layers[self.current_labels_name]

    def own_labels(self, shape: tuple[int, ...], new_name: str) -> np.ndarray | None:
        """The labels a prediction may write into: here every labels layer is the current
        image's own (napari's host leaves a layer the user brought or painted alone)."""
        return self.current_labels()

    def apply_label_edit(self, edit: LabelEdit) -> None:
        labels = self.current_labels()
        if labels is None:
            raise UserError("there is no labels layer to edit; segment the image, or press New label id (Correct panel) to start labels by hand")
        if edit.ndim != labels.ndim:
            raise ValueError(f"a {edit.ndim}D edit cannot apply to {labels.ndim}D labels")
        if edit.is_empty:
            return  # napari records no history step for a no-op either
        edit.apply_to(labels)
        self.undo_stack.append(edit)
        self.redo_stack.clear()

    def undo(self) -> bool:
        """Revert the last edit (listeners hear kind "undo"); False if there is none."""
        if not self.undo_stack:
            return False
        edit = self.undo_stack.pop()
        edit.revert(self.current_labels())
        self.redo_stack.append(edit)
        self._tell_listeners(edit.inverted(), "undo")
        return True

    def redo(self) -> bool:
        """Re-apply the last undone edit (listeners hear kind "redo"); False if there is none."""
        if not self.redo_stack:
            return False
        edit = self.redo_stack.pop()
        edit.apply_to(self.current_labels())
        self.undo_stack.append(edit)
        self._tell_listeners(edit, "redo")
        return True

    # ---- extras mirroring NapariHost ------------------------------------------------------
    def user_paint(self, edit: LabelEdit) -> None:
        """Simulate the user painting with the viewer's own brush: one undo step, reported
        to :meth:`connect_user_edits` listeners as kind "paint"."""
        self.apply_label_edit(edit)
        self._tell_listeners(edit, "paint")

    def connect_user_edits(self, listener: Callable[[LabelEdit, str], None]) -> None:
        self.edit_listeners.append(listener)

    def labels_classes(self) -> tuple[str, ...] | None:
        return self.recorded_classes.get(self.current_labels_name)

    def record_labels_classes(self, names) -> None:
        if self.current_labels_name is not None:
            self.recorded_classes[self.current_labels_name] = tuple(str(n) for n in names)
            for listener in list(self.classes_listeners):
                listener()

    def connect_labels_classes(self, listener: Callable[[], None]) -> None:
        self.classes_listeners.append(listener)

    def selected_label(self) -> int:
        return self.selected_label_id

    def set_selected_label(self, label_id: int, paint: bool = True) -> None:
        self.selected_label_id = int(label_id)

    def set_click_handler(self, handler) -> None:
        self.click_handler = handler

    def click(self, coord) -> None:
        """Simulate a left click at data coordinates ``coord`` (one float per axis)."""
        if self.click_handler is not None:
            self.click_handler(tuple(float(c) for c in coord))

    def set_key_handler(self, key: str, handler) -> None:
        if handler is None:
            self.key_handlers.pop(key, None)
        else:
            self.key_handlers[key] = handler

    def press_key(self, key: str, coord) -> None:
        """Simulate pressing ``key`` (napari's name, e.g. "Shift-S") with the mouse pointer at
        data coordinates ``coord`` (None: off the labels); an unbound key does nothing."""
        handler = self.key_handlers.get(key)
        if handler is not None:
            handler(None if coord is None else tuple(float(c) for c in coord))

    def pointer_ray(self) -> np.ndarray | None:
        return self.ray

    def center_on(self, coord) -> None:
        self.centered = tuple(float(c) for c in coord)

    def drawn_regions(self) -> list[np.ndarray]:
        return list(self.drawn)

    def clear_drawn_regions(self) -> None:
        self.drawn.clear()

    def _tell_listeners(self, edit: LabelEdit, kind: str) -> None:
        for listener in list(self.edit_listeners):
            listener(edit, kind)

    def set_labels(self, data: np.ndarray, *, name: str = "labels", scale=None,
                   keep_history: bool = False) -> None:
        self.labels_layers[name] = data
        self.current_labels_name = name
        if not keep_history:
            self.undo_stack.clear()
            self.redo_stack.clear()

    def remove_labels(self, data: np.ndarray) -> None:
        for name in [name for name, labels in self.labels_layers.items() if labels is data]:
            del self.labels_layers[name]
            if self.current_labels_name == name:
                self.current_labels_name = None

    def refresh_labels(self, region: tuple[slice, ...] | None = None) -> None:
        self.refreshed.append(region)

    def set_reviewed_overlay(self, mask: np.ndarray | None) -> None:
        self.reviewed_overlay = None if mask is None else np.asarray(mask, dtype=bool)

    def notify(self, message: str, level: str = "info", actions: Sequence[Action] = ()) -> None:
        if level not in NOTIFY_LEVELS:
            raise ValueError(f"notify level must be one of {NOTIFY_LEVELS}, got {level!r}")
        self.notifications.append((level, message))
        self.notified_actions.append(tuple(actions))

    def view_state(self) -> ViewState | None:
        return self.view


def full_view(shape: tuple[int, ...], position: tuple[int, ...] | None = None) -> ViewState:
    """A 2D view of the last two axes showing the whole plane at ``position`` (default: the
    first index on every other axis)."""
    position = tuple(position) if position is not None else (0,) * len(shape)
    displayed = tuple(range(max(len(shape) - 2, 0), len(shape)))
    region = tuple(
        slice(0, n) if axis in displayed else slice(p, p + 1)
        for axis, (p, n) in enumerate(zip(position, shape))
    )
    return ViewState(position, displayed, region)
