"""What the host hears from napari's layer list (a mixin of ``NapariHost``): layers added,
removed or made active, and image layers renamed, passed on to the app's listeners; a
renamed image takes the layers made for it along.

Two rules keep napari's window whole while layers are deleted:

- The app hears of an active layer changed by a removal only once the removal is over.
  napari changes the active layer in the middle of it (between the layer list's
  ``removing`` and ``removed`` events, while its Qt layer list has begun removing a row and
  not finished): a listener that then adds a layer (the reviewed overlay, shown again for
  the next labels) left the Qt list out of step with the layers, and each repaint of it
  raised ``'NoneType' object has no attribute 'height'``, a stream of error notifications.
- Our helper layers (reviewed overlay, merge and split picks, review regions) go with the
  last Labels layer: they only mean something over labels. Left alone in the viewer, the
  overlay was drawn right after the labels' GL objects were deleted, and under Mesa's
  software OpenGL the process died in ``glDrawArrays`` (a NULL read inside Mesa, every
  time in that sequence; napari can hit it without us too, less often).
"""

from __future__ import annotations

from collections.abc import Callable

from napari.layers import Image, Labels

from unet_studio.plugins.helper_layers import REVIEWED_LAYER, is_helper  # noqa: F401 (re-exported)

IMAGE_KEY = "image"  # in the metadata of the labels we make: the image layer they belong to


def is_image(layer) -> bool:
    """An image layer of the user's (our reviewed overlay is an image too: not one)."""
    return isinstance(layer, Image) and not is_helper(layer)


class LayerEvents:
    """Needs from the host: ``viewer``, ``_names``, ``_labels_name``, ``_image_name``, the
    listener lists, ``image_source`` and ``_watch``; it connects ``_on_removing`` and
    ``_on_removed`` to the layer list's events, and sets ``_removals = 0`` and
    ``_active_deferred = False`` first."""

    def connect_layers_changed(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` when layers are added, removed or the active one changes."""
        self._layer_listeners.append(listener)

    def connect_active_layer_changed(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` when the user (or the app) makes another layer the active one;
        not when one is only added (while it is inserted, the previous one is still active)."""
        self._active_listeners.append(listener)

    def connect_image_renamed(self, listener: Callable[[str, str, str | None], None]) -> None:
        """Call ``listener(old, new, source)`` when the user renames an image layer (before
        the layers made for it follow); ``source``: its file, when known."""
        self._rename_listeners.append(listener)

    def _track_name(self, layer) -> None:
        if id(layer) not in self._names:
            self._names[id(layer)] = layer.name
            layer.events.name.connect(lambda event, layer=layer: self._on_renamed(layer))

    def _on_renamed(self, layer) -> None:
        """Names are how the app links a labels layer, results and project corrections to
        their image: a renamed image takes them along, so no work comes loose from it."""
        if id(layer) not in self._names or self._names[id(layer)] == layer.name:
            return
        old, new = self._names[id(layer)], layer.name
        self._names[id(layer)] = new
        if self._labels_name == old:
            self._labels_name = new
        if is_image(layer):
            if self._image_name == old:
                self._image_name = new
            # Listeners first: renaming the layers made for it tells layer listeners, which
            # must find the image under its new name everywhere.
            for listener in list(self._rename_listeners):
                listener(old, new, self.image_source(new))
            self._rename_made_for(old, new)
        self._on_layers_changed()

    def _rename_made_for(self, old: str, new: str) -> None:
        """Layers made for image ``old`` (its labels, its probabilities) now belong to ``new``
        and, when named after it ("old labels"), are named after it again."""
        for layer in list(self.viewer.layers):
            if layer.metadata.get(IMAGE_KEY) != old:
                continue
            layer.metadata[IMAGE_KEY] = new
            renamed = new + layer.name[len(old):]
            if layer.name.startswith(old) and renamed not in self.viewer.layers:
                layer.name = renamed

    def _on_removing(self, event=None) -> None:
        self._removals += 1

    def _on_removed(self, event=None) -> None:
        """A removal is over (napari's Qt layer list too: napari's own handlers run first):
        helper layers left without labels go, then the app hears of the change."""
        self._removals = max(0, self._removals - 1)
        if self._removals:
            return  # (an enclosing removal finishes this)
        self._remove_helpers_without_labels()
        if self._active_deferred:
            self._active_deferred = False
            self._on_active_changed()
        else:
            self._on_layers_changed()

    def _remove_helpers_without_labels(self) -> None:
        layers = self.viewer.layers
        if any(isinstance(layer, Labels) for layer in layers):
            return
        for layer in [layer for layer in layers if is_helper(layer)]:
            if layer in layers:  # (its own removal event came back here: it may have gone)
                layers.remove(layer)

    def _on_active_changed(self, event=None) -> None:
        if getattr(self, "_resyncing", False):  # (our own re-selection: nothing changed)
            return
        if self._removals:  # (mid-removal: see the module's docstring)
            self._active_deferred = True
            return
        selection = self.viewer.layers.selection
        before = selection.active
        for listener in list(self._active_listeners):
            listener()
        if selection.active is not before:  # (a listener chose another layer meanwhile)
            self._resync_layer_list_soon()
        self._on_layers_changed(event)

    def _resync_layer_list_soon(self) -> None:
        """A listener made another layer active inside napari's own change of the active
        layer (a layer added: the session shows that image's labels). napari tells its Qt
        layer list of the first change after ours, so the list showed both, and every
        layer added so, selected (a project of five images: five rows highlighted while one
        layer was selected). A turn later the list is told the selection afresh."""
        if getattr(self, "_resync_pending", False):
            return
        from qtpy.QtCore import QTimer

        self._resync_pending = True
        QTimer.singleShot(0, self._resync_layer_list)

    def _resync_layer_list(self) -> None:
        self._resync_pending = False
        try:
            selection = self.viewer.layers.selection
        except (AttributeError, RuntimeError):  # (the viewer closed meanwhile)
            return
        active, chosen = selection.active, set(selection)
        self._resyncing = True
        try:  # (every row selected, then none: the Qt list follows each of napari's events)
            selection.update(set(self.viewer.layers) - chosen)
            selection.clear()
            selection.update(chosen)
            selection.active = active
        finally:
            self._resyncing = False

    def _on_layers_changed(self, event=None) -> None:
        active = self.viewer.layers.selection.active
        if isinstance(active, Labels) and not is_helper(active):
            self._watch(active)
        for listener in list(self._layer_listeners):
            listener()
