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
bars in napari's activity dock (``napari_tools``). The images side is ``napari_images``,
the labels side ``napari_labels`` (``napari_own_labels``: which of them a prediction may
write into); here, the state they share, overlays, messages and the view.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import suppress

import numpy as np
from napari.utils import notifications

from unet_studio.app.host import NOTIFY_LEVELS, Action, ViewState
from unet_studio.plugins.first_channel import first_channel_current_when_opened
from unet_studio.plugins.helper_layers import REVIEWED_LAYER, helper_layer, helper_metadata
from unet_studio.plugins.layer_data import replace_data
from unet_studio.plugins.napari_classes import show_classes_when_added
from unet_studio.plugins.napari_history import EditListener, HistoryWatcher
from unet_studio.plugins.napari_images import ImageLayers
from unet_studio.plugins.napari_labels import LabelsLayers
from unet_studio.plugins.napari_layer_events import LayerEvents
from unet_studio.plugins.napari_own_labels import OwnLabels
from unet_studio.plugins.napari_tool_layers import overlay_colormap
from unet_studio.plugins.napari_tools import CanvasTools

log = logging.getLogger(__name__)


class NapariHost(ImageLayers, OwnLabels, LabelsLayers, LayerEvents, CanvasTools):
    """The app's window onto one napari viewer. Use from the GUI thread only."""

    def __init__(self, viewer):
        super().__init__(viewer)
        self._image_name: str | None = None
        self._labels_name: str | None = None
        self._watchers: dict[int, HistoryWatcher] = {}
        self._edit_listeners: list[EditListener] = []
        self._left_alone: set[tuple[str, str]] = set()  # (user's labels, image) told of, see OwnLabels
        self._layer_listeners: list[Callable[[], None]] = []
        self._active_listeners: list[Callable[[], None]] = []
        self._rename_listeners: list[Callable[[str, str, str | None], None]] = []
        self._names: dict[int, str] = {}  # id(layer) -> its name before a rename
        self._overlay_hidden = False  # (the reviewed overlay, hidden here: see set_reviewed_overlay)
        for layer in viewer.layers:
            self._track_name(layer)
        self._removals = 0  # layer removals under way (see napari_layer_events)
        self._active_deferred = False  # the active layer changed during one of them
        viewer.layers.events.inserted.connect(lambda event: self._track_name(event.value))
        viewer.layers.events.removing.connect(self._on_removing)
        viewer.layers.events.removed.connect(self._forget_layer)
        viewer.layers.events.inserted.connect(self._on_layers_changed)
        viewer.layers.events.removed.connect(self._on_removed)
        viewer.layers.selection.events.active.connect(self._on_active_changed)
        # (a class map read from a file: its brush kept on a class, like one a run made)
        show_classes_when_added(viewer, lambda message: self.notify(message, "warning"))
        first_channel_current_when_opened(viewer)  # (not the last: Run went to the 2nd stain)

    def set_labels(self, data: np.ndarray, *, name: str = "labels", scale=None,
                   keep_history: bool = False) -> None:
        """As ``ViewerHost.set_labels``; ``keep_history``: ``data`` holds the pixels the
        layer shows now, in another array (wider ids), and the layer keeps its undo history
        (see ``LabelsLayers.set_labels``). Passed as a flag for the call: ``OwnLabels``, on
        the way, hands on the name and scale only."""
        self._history_kept = keep_history
        try:
            super().set_labels(data, name=name, scale=scale)
        finally:
            self._history_kept = False

    # ---- overlay, messages, view -----------------------------------------------------------
    def set_reviewed_overlay(self, mask: np.ndarray | None) -> None:
        """Show ``mask`` over the labels; None hides the overlay. Hidden, not removed: napari
        runs a full garbage collection on removing a layer (~0.4 s with a big stack open)
        and adding it back costs 0.2-1.4 s, at each undo of the first edit and its redo.
        Its data is then a pixel (an old mask must neither stay alive nor widen the view);
        a layer the user hid keeps hidden, and one they deleted is added again. Refilled
        through ``replace_data``, hidden or not, and placed over the current labels: the
        next mask may be another image's, of another rank or scale (a 3D stack after a 2D
        image)."""
        layers = self.viewer.layers
        layer = helper_layer(layers, REVIEWED_LAYER)
        if mask is None:
            if layer is not None and layer.data.size > 1:
                self._overlay_hidden = self._overlay_hidden or layer.visible
                replace_data(layer, np.zeros((1,) * layer.ndim, np.uint8))
                layer.visible = False
            return
        data = np.asarray(mask, dtype=bool).view(np.uint8)
        if layer is None:
            self._add_reviewed_layer(data)
            return
        if layer.data.shape == data.shape and np.shares_memory(layer.data, data):
            layer.refresh()  # a view of the same mask: only redraw
        else:
            replace_data(layer, data, **self.geometry(data.ndim))
        if self._overlay_hidden:
            layer.visible, self._overlay_hidden = True, False

    def _add_reviewed_layer(self, data: np.ndarray) -> None:
        layers = self.viewer.layers
        keep_active = layers.selection.active
        self.viewer.add_image(
            data, name=REVIEWED_LAYER, metadata=helper_metadata(REVIEWED_LAYER),
            colormap=overlay_colormap(), opacity=0.25,
            blending="translucent", contrast_limits=(0, 1), **self.geometry(data.ndim),
        )  # fmt: skip
        self._overlay_hidden = False
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

    def notify(self, message: str, level: str = "info", actions: Sequence[Action] = ()) -> None:
        if level not in NOTIFY_LEVELS:
            raise ValueError(f"notify level must be one of {NOTIFY_LEVELS}, got {level!r}")
        getattr(log, level)(message)
        # (napari calls a button's callback with its notification widget: ours take nothing)
        buttons = [(text, lambda _toast, act=act: act()) for text, act in actions]
        notifications.notification_manager.dispatch(
            notifications.Notification(message, severity=level, actions=buttons))
        if buttons:
            _hide_toast_source(message)

    def withdraw_notice(self, message: str) -> None:
        """Close the toast of a notice whose offer no longer holds (its button would act on
        what is done already): "Open that project" stayed on the canvas, its button live,
        after the project was opened from the Correct panel."""
        for toast in _toasts_saying(message):
            with suppress(AttributeError, RuntimeError):
                toast.close_with_fade()

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


def _toasts_saying(message: str) -> list:
    """napari's toasts on the canvas that show ``message`` (none with another napari)."""
    try:
        from napari._qt.dialogs.qt_notification import NapariQtNotification
    except ImportError:  # (another napari: left as it shows)
        return []
    found = []
    for toast in list(getattr(NapariQtNotification, "_instances", ())):
        try:  # (napari lists toasts Qt has deleted since: skipped)
            if toast.message.text() == message:
                found.append(toast)
        except (AttributeError, RuntimeError):
            continue
    return found


def _hide_toast_source(message: str) -> None:
    """Hide the "Source:" line of the notification just shown with ``message``: napari shows
    it beside a notification's buttons, naming its own notification manager (an object's
    repr, no use to anyone), and it squeezed the button to "pen that projec"."""
    for toast in _toasts_saying(message):
        with suppress(AttributeError, RuntimeError):
            toast.source_label.hide()
