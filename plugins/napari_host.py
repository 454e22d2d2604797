"""NapariHost: :class:`unet_studio.app.host.ViewerHost` on a napari Viewer.

The viewer owns the pixels; the app's panels only ask this host. Edits go through napari's
undo-aware ``Labels.data_setitem`` inside ``block_history``, so one merge, split or delete is
ONE step of napari's undo history (Ctrl+Z). Changes made with napari's own tools (brush,
fill, polygon, undo, redo) are reported to listeners as LabelEdits (see ``napari_history``,
which uses napari's public Labels API only), so the app autosaves and learns from them too.
Each Labels layer's undo history is bounded in bytes as well as in steps (``undo_budget``;
``undo_history_mib`` in the settings), and the user is told once when steps are dropped.

Beyond the protocol, the host offers what the Qt panels need from a real viewer: the image
layers to choose from, clicks on the canvas for object tools, drawn regions, and progress
bars in napari's activity dock (``napari_tools``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from napari.layers import Image, Labels
from napari.utils import notifications
from qtpy.QtCore import QTimer

from unet_studio.app.errors import UserError
from unet_studio.app.host import NOTIFY_LEVELS, HostImage, ViewState
from unet_studio.app.label_edit import LabelEdit
from unet_studio.app.model_library import user_home
from unet_studio.app.settings import undo_history_bytes
from unet_studio.plugins.napari_history import EditListener, HistoryWatcher, reset_undo_history
from unet_studio.plugins.napari_layer_events import IMAGE_KEY, REVIEWED_LAYER, LayerEvents, is_image
from unet_studio.plugins.napari_tools import CanvasTools, layer_axes, overlay_colormap

log = logging.getLogger(__name__)



class NapariHost(LayerEvents, CanvasTools):
    """The app's window onto one napari viewer. Use from the GUI thread only."""

    def __init__(self, viewer):
        super().__init__(viewer)
        self._image_name: str | None = None
        self._labels_name: str | None = None
        self._watchers: dict[int, HistoryWatcher] = {}
        self._edit_listeners: list[EditListener] = []
        self._layer_listeners: list[Callable[[], None]] = []
        self._active_listeners: list[Callable[[], None]] = []
        self._rename_listeners: list[Callable[[str, str, str | None], None]] = []
        self._names: dict[int, str] = {}  # id(layer) -> its name before a rename
        for layer in viewer.layers:
            self._track_name(layer)
        viewer.layers.events.inserted.connect(lambda event: self._track_name(event.value))
        viewer.layers.events.removed.connect(self._forget_layer)
        for event in (viewer.layers.events.inserted, viewer.layers.events.removed):
            event.connect(self._on_layers_changed)
        viewer.layers.selection.events.active.connect(self._on_active_changed)

    # ---- images --------------------------------------------------------------------------
    def image_names(self) -> list[str]:
        return [layer.name for layer in self.viewer.layers if is_image(layer)]

    def select_image(self, name: str | None) -> None:
        self._image_name = name

    def image_layer(self):
        """The image being worked on: the chosen one, else the active image, else the last."""
        layers = self.viewer.layers
        if self._image_name in layers and is_image(layers[self._image_name]):
            return layers[self._image_name]
        active = layers.selection.active
        if is_image(active):
            return active
        images = [layer for layer in layers if is_image(layer)]
        return images[-1] if images else None

    def current_image(self) -> HostImage | None:
        layer = self.image_layer()
        return None if layer is None else _host_image(layer)

    def active_image_name(self) -> str | None:
        """The image the active layer stands for: an image layer itself, or the image our
        labels or result image (probabilities) was made for; None for anything else."""
        layers = self.viewer.layers
        active = layers.selection.active
        if not isinstance(active, (Image, Labels)) or active.name == REVIEWED_LAYER:
            return None
        owner = active.metadata.get(IMAGE_KEY)  # our labels and result images name their image
        if owner is None:
            return active.name if is_image(active) else None
        return owner if owner in layers and is_image(layers[owner]) else None

    def image_named(self, name: str) -> HostImage | None:
        """An open image layer called ``name`` (the current one or not), or None."""
        layers = self.viewer.layers
        return _host_image(layers[name]) if name in layers and is_image(layers[name]) else None

    def image_source(self, name: str | None = None) -> str | None:
        """The file the current image (or the image layer ``name``) came from, when napari
        knows it."""
        layers = self.viewer.layers
        layer = self.image_layer() if name is None else (layers[name] if name in layers else None)
        if layer is None:
            return None
        path = layer.metadata.get("source_path") or getattr(layer.source, "path", None)
        return str(path) if path else None

    # ---- labels --------------------------------------------------------------------------
    def labels_layer(self):
        """The labels being corrected, for the current image: the active Labels layer, else
        the last one used, else the last Labels layer in the list - skipping layers that
        belong to another image. A layer belongs to the image it was made for (we tag ours;
        a Labels layer the user brings is nobody's and serves any image of its shape): so
        choosing a second image of the same shape never writes into the first one's labels.
        """
        layers = self.viewer.layers
        image = self.image_layer()
        owner = None if image is None else image.name
        active = layers.selection.active
        last_used = layers[self._labels_name] if self._labels_name in layers else None
        candidates = [active, last_used, *reversed(list(layers))]
        usable = [layer for layer in candidates
                  if isinstance(layer, Labels) and layer.metadata.get(IMAGE_KEY) in (None, owner)]
        if not usable:
            return None
        # The image's own labels before a layer that is nobody's, unless that one is active.
        own = [layer for layer in usable if layer.metadata.get(IMAGE_KEY) == owner]
        chosen = usable[0] if usable[0] is active or not own else own[0]
        if chosen is active:
            self._labels_name = active.name
        return chosen

    def current_labels(self) -> np.ndarray | None:
        layer = self.labels_layer()
        return None if layer is None else layer.data

    def apply_label_edit(self, edit: LabelEdit) -> None:
        layer = self.labels_layer()
        if layer is None:
            raise UserError("there is no labels layer to edit; run a prediction or add labels")
        if edit.ndim != layer.data.ndim:
            raise ValueError(f"a {edit.ndim}D edit cannot apply to {layer.data.ndim}D labels")
        if edit.is_empty:
            return
        watcher = self._watch(layer)
        watcher.muted = True  # the caller records its own edit; don't report it back
        try:
            with layer.block_history():
                layer.data_setitem(edit.indices, edit.new_values)
        finally:
            watcher.muted = False

    def set_labels(self, data: np.ndarray, *, name: str = "labels", scale=None) -> None:
        layers = self.viewer.layers
        image = self.image_layer()
        if image is not None:  # the labels are for this image: it stays the current one
            self._image_name = image.name  # (the new layer becomes the active one below)
        if name in layers and isinstance(layers[name], Labels):
            layer = layers[name]
            self._watch(layer).flush()  # report brush strokes while their labels are shown
            if layer.data is data:  # written in place (a streamed prediction): redraw only
                layer.refresh()
            else:
                layer.data = data
            # The old history refers to other pixel values: undoing it would corrupt these.
            reset_undo_history(layer)
            self._watch(layer).reset()
        else:
            geometry = self.geometry(data.ndim)
            if scale is not None:
                geometry["scale"] = scale
            layer = self.viewer.add_labels(data, name=name, **geometry)
        self._describe_labels(layer)
        self._labels_name = layer.name
        self._watch(layer)
        layers.selection.active = layer

    def remove_labels(self, data: np.ndarray) -> None:
        """Close the Labels layer showing ``data`` (``is``: another layer may hold equal pixels)."""
        showing = [layer for layer in self.viewer.layers
                   if isinstance(layer, Labels) and layer.data is data]
        for layer in showing:
            self.viewer.layers.remove(layer)

    def _describe_labels(self, layer) -> None:
        """Place labels over the image and note what our labels writer reads: the axes, and
        the image file it must never overwrite."""
        image = self.image_layer()
        if image is None:
            return
        ndim = layer.data.ndim
        # Assign only on change: each assignment redraws the whole layer (tens of ms on the
        # GUI thread at the end of every streamed prediction).
        translate = tuple(image.translate)[-ndim:]
        if tuple(layer.translate) != translate:
            layer.translate = translate
        units = tuple(image.units)[-ndim:]
        if tuple(layer.units) != units:
            layer.units = units
        axes = layer_axes(image).replace("C", "")[-ndim:]
        layer.metadata.update(axes=axes, source_path=self.image_source(), **{IMAGE_KEY: image.name})

    def refresh_labels(self, region: tuple[slice, ...] | None = None) -> None:
        """Redraw labels written in place. With a ``region`` (new pixels only, the layer's
        extent unchanged) the thumbnail, extent and highlight are left alone: about a third
        less GUI-thread time per streamed tile than a full refresh."""
        layer = self.labels_layer()
        if layer is None:
            return
        if region is None:
            layer.refresh()
        else:
            layer.refresh(thumbnail=False, extent=False, highlight=False)

    def undo(self) -> None:
        layer = self.labels_layer()
        if layer is not None:
            layer.undo()

    def redo(self) -> None:
        layer = self.labels_layer()
        if layer is not None:
            layer.redo()

    def selected_label(self) -> int:
        layer = self.labels_layer()
        return 0 if layer is None else int(layer.selected_label)

    def set_selected_label(self, label_id: int, paint: bool = True) -> None:
        """Make ``label_id`` the brush label and (``paint``) switch to painting with it."""
        layer = self.labels_layer()
        if layer is None:
            raise UserError("there is no labels layer; run a prediction or add labels")
        layer.selected_label = int(label_id)
        if not paint:
            return
        if self.in_click:  # after napari's turn with this press, or the click would paint
            QTimer.singleShot(0, lambda: setattr(layer, "mode", "paint"))
        else:
            layer.mode = "paint"

    def connect_user_edits(self, listener: EditListener) -> None:
        """Call ``listener(edit, kind)`` for every change made with napari's own tools."""
        self._edit_listeners.append(listener)

    def open_image_file(self, path, name: str | None = None) -> None:
        """Open an image file with our reader (lazily), as File > Open would; ``name``: what
        to call it when it opens as one image layer (a project's name for it) and that name
        is free."""
        layers = self.viewer.open(str(path), plugin="unet-studio", stack=False)
        images = [layer for layer in layers if is_image(layer)]
        if name and len(images) == 1 and name not in self.viewer.layers:
            images[0].name = name

    def rename_image(self, old: str, new: str) -> None:
        """Rename the image layer ``old`` (its labels and results follow, as when the user
        renames it)."""
        self.viewer.layers[old].name = new

    def show_image(self, data, *, name: str, channel_axis: int | None = None) -> None:
        """Show a result image (e.g. probabilities ``(C, *spatial)``) over the current image."""
        layers = self.viewer.layers
        for old in [layer.name for layer in layers if layer.name.startswith(name)]:
            layers.remove(old)
        spatial = data.ndim - (channel_axis is not None)
        keep_active = layers.selection.active
        source = self.image_layer()
        # Tagged with the image it was computed from: activating it means that image.
        metadata = {} if source is None else {IMAGE_KEY: source.name}
        self.viewer.add_image(data, name=name, channel_axis=channel_axis, blending="additive",
                              metadata=metadata, **self.geometry(spatial))  # fmt: skip
        layers.selection.active = keep_active

    # ---- overlay, messages, view -----------------------------------------------------------
    def set_reviewed_overlay(self, mask: np.ndarray | None) -> None:
        layers = self.viewer.layers
        if mask is None:
            if REVIEWED_LAYER in layers:
                layers.remove(REVIEWED_LAYER)
            return
        data = np.asarray(mask, dtype=bool).view(np.uint8)
        if REVIEWED_LAYER in layers:
            layer = layers[REVIEWED_LAYER]
            if layer.data.shape == data.shape and np.shares_memory(layer.data, data):
                layer.refresh()  # a view of the same mask: only redraw
            else:
                layer.data = data
            return
        keep_active = layers.selection.active
        self.viewer.add_image(
            data, name=REVIEWED_LAYER, colormap=overlay_colormap(), opacity=0.25,
            blending="translucent", contrast_limits=(0, 1), **self.geometry(data.ndim),
        )  # fmt: skip
        layers.selection.active = keep_active

    def show_tracks(self, data: np.ndarray, *, name: str) -> None:
        """A Tracks layer ``name`` (replaced if there) over the labels: ``data`` rows
        ``(id, t, *centroid)`` in the labels' data coordinates; the active layer stays."""
        layers = self.viewer.layers
        if name in layers:
            layers.remove(name)
        keep_active = layers.selection.active
        self.viewer.add_tracks(data, name=name, tail_length=30, **self.geometry(data.shape[1] - 1))
        layers.selection.active = keep_active

    def notify(self, message: str, level: str = "info") -> None:
        if level not in NOTIFY_LEVELS:
            raise ValueError(f"notify level must be one of {NOTIFY_LEVELS}, got {level!r}")
        getattr(log, level)(message)
        {"info": notifications.show_info, "warning": notifications.show_warning,
         "error": notifications.show_error}[level](message)  # fmt: skip

    def view_state(self) -> ViewState | None:
        layer = self.image_layer()
        if layer is None:
            return None
        point = np.asarray(layer.world_to_data(self.viewer.dims.point))
        shape = np.asarray(layer.data.shape[: layer.ndim])
        position = tuple(int(v) for v in np.clip(np.round(point), 0, shape - 1))
        offset = self.viewer.dims.ndim - layer.ndim
        displayed = tuple(d - offset for d in self.viewer.dims.displayed if d >= offset)
        corners = np.asarray(layer.corner_pixels)
        region = tuple(
            slice(int(max(corners[0, a], 0)), int(min(corners[1, a] + 1, n)))
            if a in displayed and corners[1, a] > corners[0, a]
            else (slice(0, int(n)) if a in displayed else slice(p, p + 1))
            for a, (p, n) in enumerate(zip(position, shape))
        )
        return ViewState(position, displayed, region)

    # ---- internals ---------------------------------------------------------------------------
    def _watch(self, layer) -> HistoryWatcher:
        if id(layer) not in self._watchers:
            # The undo budget is read per layer (a settings file of a few bytes): a changed
            # setting applies to the next labels layer without a restart.
            self._watchers[id(layer)] = HistoryWatcher(
                layer, self._report_user_edit, on_error=lambda message: self.notify(message, "error"),
                max_bytes=undo_history_bytes(user_home()), on_dropped=self.notify,
            )  # fmt: skip
        return self._watchers[id(layer)]

    def _forget_layer(self, event) -> None:
        """A closed layer lets go of what the host keeps for it: its watcher held the layer,
        its data and its undo history alive (hundreds of MB per closed labels layer), and a
        new layer given the dead one's id would have inherited its watcher."""
        layer = event.value
        self._names.pop(id(layer), None)
        watcher = self._watchers.pop(id(layer), None)
        if watcher is not None:
            watcher.flush()  # strokes painted just before closing still reach the project
            watcher.detach()

    def _report_user_edit(self, edit: LabelEdit, kind: str) -> None:
        for listener in list(self._edit_listeners):
            listener(edit, kind)


def _host_image(layer) -> HostImage:
    # A pyramid (multiscale) layer is computed on at full resolution: its level 0, which our
    # reader keeps lazy. (napari's list of levels cannot be sliced like an array.)
    data = layer.data[0] if layer.multiscale else layer.data
    axes = layer_axes(layer)
    # An RGB layer's colour axis is not one of its dimensions, so it has no scale.
    spatial = axes.replace("C", "") if layer.rgb else axes
    scale = dict(zip(spatial, map(float, layer.scale)))
    if layer.rgb:
        scale["C"] = 1.0
    return HostImage(data, axes, scale, layer.name, pixel_size_um=_pixel_size_um(layer, spatial))


def _pixel_size_um(layer, spatial: str) -> dict[str, float]:
    """The layer's pixel sizes in micrometres, for the spatial axes whose unit is a length
    (napari shows an unknown size as 1 "pixel": left out)."""
    from unet_studio.app.io.axes import UNIT_PIXEL, length_in_um

    sizes = {}
    for axis, value, unit in zip(spatial, layer.scale, getattr(layer, "units", ())):
        size = None if str(unit) == UNIT_PIXEL else length_in_um(float(value), str(unit))
        if axis in "ZYX" and size is not None:
            sizes[axis] = size
    return sizes
