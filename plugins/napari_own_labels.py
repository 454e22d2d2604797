"""Whose labels a prediction may write into (a mixin of ``NapariHost``).

A Labels layer is the image's own when we made it for that image (``IMAGE_KEY`` in its
metadata); a layer the user brought or painted with napari's tools is theirs. The Correct
tools may edit the user's layer (that is their edit), but a prediction never overwrites it:
it goes to the image's own labels layer, a new one when there is none. And no two layers
ever show one array: painting in one would change the other behind napari's undo.
"""

from __future__ import annotations

import numpy as np
from napari.layers import Labels

from unet_studio.plugins.napari_layer_events import IMAGE_KEY


class OwnLabels:
    """Needs from the host: ``viewer``, ``_labels_name``, ``_left_alone``, ``image_layer``,
    ``labels_layer`` and ``notify``; sits before ``LabelsLayers`` (it wraps ``set_labels``)."""

    def own_labels(self, shape: tuple[int, ...], new_name: str) -> np.ndarray | None:
        """The labels a prediction of the current image (labels ``shape``) streams into: its
        own labels layer, made the one corrected; None when it has none yet (the prediction
        then makes ``new_name``). A user's layer corrected now is left as it is, and the user
        is told so once per layer and image, with the layer the prediction goes to."""
        layer = self.labels_layer()
        image = self.image_layer()
        if layer is None or image is None or layer.metadata.get(IMAGE_KEY) == image.name:
            return None if layer is None else layer.data
        own = self._layer_made_for(image.name)
        if own is not None:  # (the corrections go on there, where the prediction is shown)
            self._labels_name = own.name
            self.viewer.layers.selection.active = own
        # A layer of another shape could not take this prediction anyway: nothing to say.
        told = (layer.name, image.name)
        if tuple(layer.data.shape) == tuple(shape) and told not in self._left_alone:
            self._left_alone.add(told)
            target = new_name if own is None else own.name
            self.notify(f"'{layer.name}' is your own labels layer: it was left as it is, and "
                        f"the prediction of '{image.name}' goes to '{target}'")
        return None if own is None else own.data

    def set_labels(self, data: np.ndarray, *, name: str = "labels", scale=None) -> None:
        """As ``LabelsLayers.set_labels``, never adding a second layer on an array a layer
        already shows: our layer holding it (renamed by the user) is the one updated, and a
        user's layer keeps its array while the labels ``name`` get a copy."""
        holder = self._layer_holding(data)
        if holder is not None and holder.name != name:
            image = self.image_layer()
            if image is not None and holder.metadata.get(IMAGE_KEY) == image.name:
                name = holder.name
            else:
                data = np.array(data, copy=True)
        super().set_labels(data, name=name, scale=scale)

    def _layer_made_for(self, image_name: str):
        """The labels layer we made for ``image_name`` (the last one, as napari draws it on top)."""
        for layer in reversed(list(self.viewer.layers)):
            if isinstance(layer, Labels) and layer.metadata.get(IMAGE_KEY) == image_name:
                return layer
        return None

    def _layer_holding(self, data: np.ndarray):
        """The Labels layer showing ``data`` or a view of it. In-memory arrays are compared by
        bounds only (an exact overlap test can take seconds on big arrays); lazy ones (dask,
        zarr) by identity, as converting them would read them whole."""
        for layer in self.viewer.layers:
            if not isinstance(layer, Labels):
                continue
            if layer.data is data or (isinstance(layer.data, np.ndarray) and isinstance(data, np.ndarray)
                                      and np.may_share_memory(layer.data, data)):  # fmt: skip
                return layer
        return None
