"""The labels a host corrects (a mixin of ``NapariHost``): which Labels layer belongs to the
current image, edits applied as one undo step each, labels shown, refreshed and replaced,
and napari's own brush, fill and undo reported to the app as LabelEdits.

Separate from the images (``napari_images``) because this side owns the undo bookkeeping:
one :class:`HistoryWatcher` per Labels layer, with the undo budget read from the settings.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from napari.layers import Labels
from qtpy.QtCore import QTimer

from unet_studio.app.errors import UserError
from unet_studio.app.label_edit import LabelEdit
from unet_studio.app.model_library import user_home
from unet_studio.app.settings import undo_history_bytes
from unet_studio.plugins.labels_redraw import redraw_region
from unet_studio.plugins.napari_classes import recorded_classes, show_classes
from unet_studio.plugins.napari_history import EditListener, HistoryWatcher
from unet_studio.plugins.napari_labels_guards import (
    made_paintable,
    of_image_shape,
    without_pyramids,
)
from unet_studio.plugins.napari_layer_axes import layer_axes
from unet_studio.plugins.napari_layer_events import IMAGE_KEY
from unet_studio.plugins.napari_undo_steps import reset_undo_history


class LabelsLayers:
    """Needs from the host: ``viewer``, ``_labels_name``, ``_image_name``, ``_watchers``,
    ``_edit_listeners``, ``in_click``, ``image_layer``, ``image_source``, ``geometry`` and
    ``notify``."""

    def labels_layer(self):
        """The labels being corrected, for the current image: the active Labels layer, else
        the last one used, else the last Labels layer in the list - skipping layers that
        belong to another image. A layer belongs to the image it was made for (we tag ours;
        a Labels layer the user brings is nobody's: the Correct tools edit it for any image
        of its shape, but a prediction never writes into it, see ``napari_own_labels``): so
        choosing a second image of the same shape never writes into the first one's labels.
        A layer of another shape than the image's labels, or that napari cannot paint and
        that cannot be made paintable, is skipped, the user told once.
        """
        layers = self.viewer.layers
        image = self.image_layer()
        owner = None if image is None else image.name
        active = layers.selection.active
        last_used = layers[self._labels_name] if self._labels_name in layers else None
        candidates = [active, last_used, *reversed(list(layers))]
        usable = [layer for layer in candidates
                  if isinstance(layer, Labels) and layer.metadata.get(IMAGE_KEY) in (None, owner)]
        usable = of_image_shape(self, without_pyramids(self, usable), image)
        while usable:
            # The image's own labels before a layer that is nobody's, unless that one is active.
            own = [layer for layer in usable if layer.metadata.get(IMAGE_KEY) == owner]
            chosen = usable[0] if usable[0] is active or not own else own[0]
            if made_paintable(self, chosen):
                break
            usable = [layer for layer in usable if layer is not chosen]
        else:
            return None
        if chosen is active:
            self._labels_name = active.name
        return chosen

    def current_labels(self) -> np.ndarray | None:
        layer = self.labels_layer()
        return None if layer is None else layer.data

    # ---- class maps (``app.class_map``) ----------------------------------------------------
    def labels_classes(self) -> tuple[str, ...] | None:
        """The class names recorded on the labels being corrected (() : objects), None when
        nothing is recorded there."""
        layer = self.labels_layer()
        return None if layer is None else recorded_classes(layer)

    def record_labels_classes(self, names) -> None:
        """The labels being corrected are a class map of ``names`` (() : objects): recorded
        on the layer and shown so (colours, class names in the status bar)."""
        layer = self.labels_layer()
        if layer is None:
            return
        names = tuple(str(name) for name in names)
        if recorded_classes(layer) != names:
            show_classes(layer, names, lambda message: self.notify(message, "warning"))
        for listener in list(getattr(self, "_classes_listeners", ())):
            listener()

    def connect_labels_classes(self, listener) -> None:
        """Call ``listener()`` after classes are recorded on the labels (see above)."""
        if not hasattr(self, "_classes_listeners"):  # (the host's __init__ is in napari_host)
            self._classes_listeners = []
        self._classes_listeners.append(listener)

    def labels_are_images_own(self) -> bool:
        """Are the labels being corrected the ones made for the current image (not a layer
        the user brought)?"""
        layer, image = self.labels_layer(), self.image_layer()
        return layer is not None and image is not None and layer.metadata.get(IMAGE_KEY) == image.name

    def apply_label_edit(self, edit: LabelEdit) -> None:
        layer = self.labels_layer()
        if layer is None:
            raise UserError("there is no labels layer to edit; segment the image, or press New label id (Correct panel) to start labels by hand")
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

    _history_kept = False  # (set by NapariHost.set_labels(keep_history=True), see there)

    def set_labels(self, data: np.ndarray, *, name: str = "labels", scale=None) -> None:
        """Show ``data`` in the Labels layer ``name`` (added when there is none). Replacing
        a layer's data restarts its undo history, unless :attr:`_history_kept` and ``data``
        holds the pixels shown, in another array of the same shape (labels widened to
        32-bit ids): napari's steps and the watcher's mirror then replay into it as they
        were (napari's ``data`` setter leaves the history alone, and narrow old values
        write into wider ids unchanged), the app's actions among them too."""
        layers = self.viewer.layers
        image = self.image_layer()
        if image is not None:  # the labels are for this image: it stays the current one
            self._image_name = image.name  # (the new layer becomes the active one below)
        # (a pyramid of that name is the user's, left alone: ours is added beside it)
        if name in layers and isinstance(layers[name], Labels) and not layers[name].multiscale:
            layer = layers[name]
            self._watch(layer).flush()  # report brush strokes while their labels are shown
            same_shape = tuple(layer.data.shape) == tuple(data.shape)
            if layer.data is data:  # written in place (a streamed prediction): redraw only
                layer.refresh()
            else:
                layer.data = data
            if not (self._history_kept and same_shape):
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
        elif not redraw_region(layer, region):  # (only the region written: see labels_redraw)
            layer.refresh(thumbnail=False, extent=False, highlight=False)

    def undo(self) -> bool:
        """Undo the last step of the labels being corrected, as napari's Ctrl+Z on their
        layer does; False when there was nothing to undo (and no labels)."""
        return self._history_step("undo")

    def redo(self) -> bool:
        """Redo the last step undone; False when there was nothing to redo."""
        return self._history_step("redo")

    def _history_step(self, kind: str) -> bool:
        layer = self.labels_layer()
        if layer is None:
            return False
        self._watch(layer)  # (its undo and redo are the watcher's: they tell of nothing done)
        return getattr(layer, kind)() is not False

    def connect_nothing_to_undo(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(kind)`` when an undo ("undo") or redo ("redo") of a labels
        layer found nothing to do, whether by napari's Ctrl+Z / Ctrl+Shift+Z on the layer
        or by :meth:`undo` / :meth:`redo`: napari itself says nothing then."""
        if not hasattr(self, "_nothing_listeners"):  # (the host's __init__ is in napari_host)
            self._nothing_listeners = []
        self._nothing_listeners.append(listener)

    def _tell_nothing_to(self, kind: str) -> None:
        for listener in list(getattr(self, "_nothing_listeners", ())):
            listener(kind)

    def selected_label(self) -> int:
        layer = self.labels_layer()
        return 0 if layer is None else int(layer.selected_label)

    def set_selected_label(self, label_id: int, paint: bool = True) -> None:
        """Make ``label_id`` the brush label and (``paint``) switch to painting with it."""
        layer = self.labels_layer()
        if layer is None:
            raise UserError("there is no labels layer; segment the image, or press New label id (Correct panel) to start labels by hand")
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

    def _watch(self, layer) -> HistoryWatcher:
        if id(layer) not in self._watchers:
            # The undo budget is read per layer (a settings file of a few bytes): a changed
            # setting applies to the next labels layer without a restart.
            self._watchers[id(layer)] = HistoryWatcher(
                layer, self._report_user_edit, on_error=lambda message: self.notify(message, "error"),
                max_bytes=undo_history_bytes(user_home()), on_dropped=self.notify,
                on_nothing=self._tell_nothing_to,
            )  # fmt: skip
        return self._watchers[id(layer)]

    def _report_user_edit(self, edit: LabelEdit, kind: str) -> None:
        for listener in list(self._edit_listeners):
            listener(edit, kind)

