"""Redrawing a region of a Labels layer whose data was written in place (streamed prediction
tiles): only that region of the plane on screen is recoloured.

``Labels.refresh()`` recolours the whole plane on screen on the GUI thread: on a 16k x 16k
mosaic (268 Mpx) 6-10 s, at every redraw of a streamed prediction. napari's brush updates
only what it painted (the layer's partial refresh); this does the same for a region written
from outside. It leans on napari's private slice state (napari 0.5-0.9): anything it does
not find as expected makes it say so (False) and the caller refreshes the whole layer.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)


def redraw_region(layer, region: tuple[slice, ...]) -> bool:
    """Recolour ``region`` (a slice per data axis) of ``layer`` where it is on screen; True
    when done (or nothing of it is on screen), False when the whole layer must be refreshed."""
    try:
        return _redraw_region(layer, region)
    except Exception as error:  # (napari's internals moved: the full refresh still works)
        log.debug("partial labels redraw unavailable (%s); full refresh", error)
        return False


def _redraw_region(layer, region: tuple[slice, ...]) -> bool:
    if not layer.loaded or len(region) != layer.ndim or not isinstance(layer.data, np.ndarray):
        return False  # (a lazy array: napari's slice is a copy, not a view of the data)
    shape = layer.data.shape
    region = tuple(slice(*part.indices(size)[:2]) for part, size in zip(region, shape))
    if any(part.start >= part.stop for part in region):
        return True
    displayed = list(layer._slice_input.displayed)
    if displayed != sorted(displayed) or layer.multiscale:
        return False  # (a transposed or multiscale view: the caches' layout differs)
    on_screen = layer._get_pt_not_disp()  # {axis not displayed: its index on screen}
    if any(not region[axis].start <= index < region[axis].stop for axis, index in on_screen.items()):
        return True  # (written in planes not shown: drawn when the user goes there)
    shown = tuple(region[axis] for axis in displayed)
    if layer.contour == 0:  # (with contours the partial refresh recolours them itself)
        layer._slice.image.view[shown] = layer.colormap._data_to_texture(layer._slice.image.raw[shown])
    layer._accumulate_updated_slice(region)
    layer._partial_labels_refresh()
    return True
