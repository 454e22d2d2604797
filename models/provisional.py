"""Quick instance labels of one tile, shown while a prediction is still running.

The real labels come from one watershed over a whole time point or volume (objects crossing
tile borders stay whole), which can only run when all its tiles are done. Until then a
viewer can show these: connected parts of the tile's interior mask, grown back over the
object mask by a few pixels. An object crossing a tile border gets one id per tile, and
touching objects joined by their interior stay joined; both are fixed when the group's
watershed labels replace them.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

GROW_PIXELS = 3


def provisional_labels(objects: np.ndarray, interior: np.ndarray) -> tuple[np.ndarray, int]:
    """``(labels, count)``: int32 labels 1..count ``(*core)`` of a tile's masks ``(*core)``.

    ``objects``: not background; ``interior``: objects' inner part (the watershed's seeds).
    Object pixels farther than ``GROW_PIXELS`` from any interior stay 0.
    """
    objects = np.asarray(objects, dtype=bool)
    seeds, count = ndi.label(np.asarray(interior, dtype=bool) & objects)
    if count == 0:
        return np.zeros(objects.shape, dtype=np.int32), 0
    distance, nearest = ndi.distance_transform_edt(seeds == 0, return_indices=True)
    grown = seeds[tuple(nearest)]
    grown[(distance > GROW_PIXELS) | ~objects] = 0
    return grown.astype(np.int32, copy=False), int(count)
