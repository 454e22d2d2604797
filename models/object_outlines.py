"""Where an object's outline goes once the watershed has found it: how far it reaches from
its interior into the predicted boundary band, and the background holes it encloses.

Separate from the watershed (``models.postprocess``) because these are plain mask
operations, run by the batched labelling on each batch and on giant groups piece by piece.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage as ndi

from unet_studio.models.label_tallies import labels_where

# Largest ball (pixels of its box) for which ``within_distance`` dilates instead of taking
# the distance map: a dilation by a few neighbours is several times cheaper.
DILATION_BOX = 7**3


def within_distance(mask: np.ndarray, reach: float,
                    sampling: tuple[float, ...] | None = None) -> np.ndarray:
    """Pixels at most ``reach`` (sampling units) from a pixel of ``mask``: the same as
    ``distance_transform_edt(~mask, sampling) <= reach``, by a dilation with that ball where
    it is small."""
    cells = np.asarray(sampling if sampling is not None else (1.0,) * mask.ndim, float)
    radii = [int(reach // cell) for cell in cells]
    if not mask.any():
        return np.zeros(mask.shape, bool)
    if math.prod(2 * r + 1 for r in radii) > DILATION_BOX:
        return ndi.distance_transform_edt(~mask, sampling=sampling) <= reach
    offsets = np.indices([2 * r + 1 for r in radii]) - np.reshape(radii, (-1,) + (1,) * mask.ndim)
    ball = ((offsets * cells.reshape((-1,) + (1,) * mask.ndim)) ** 2).sum(axis=0) <= reach**2
    return ndi.binary_dilation(mask, structure=ball)


def near_interior(objects: np.ndarray, interior: np.ndarray, grow: float,
                  sampling: tuple[float, ...] | None) -> np.ndarray:
    """Object pixels within ``grow`` (sampling units) of the interior, plus whole object parts
    that have no interior at all (thin objects that are all boundary)."""
    near = within_distance(interior, grow, sampling)
    parts, n_parts = ndi.label(objects)
    if n_parts:
        has_interior = labels_where(interior, parts, n_parts)[1:]
        near |= np.concatenate([[False], ~has_interior])[parts]
    return objects & near


def enclosed_background(mask: np.ndarray) -> np.ndarray:
    """Background pixels that ``mask`` encloses (``binary_fill_holes(mask) & ~mask``): the
    pieces of background (face connectivity) that do not reach the array's border. One
    labelling instead of scipy's fill, which floods from the border one dilation at a time
    (~3x slower on a labelling batch)."""
    parts, count = ndi.label(~mask)
    outside = np.zeros(count + 1, bool)
    outside[0] = True  # (the mask's own pixels)
    for axis in range(mask.ndim):
        for index in (0, -1):
            outside[np.take(parts, index, axis=axis)] = True
    return ~outside[parts]


def fill_label_holes(labels: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """Background enclosed by objects given to the nearest object (in place, returned);
    ``keep``: background pixels never filled (other objects' pixels, when labelling some
    objects of an image at a time)."""
    holes = enclosed_background(labels > 0)
    if keep is not None:
        holes &= ~keep
    if not holes.any():
        return labels
    box = tuple(slice(max(s.start - 1, 0), s.stop + 1) for s in ndi.find_objects(holes.astype(np.uint8))[0])
    crop = labels[box]
    # Each hole pixel takes the label of the nearest object pixel (only within the holes' box).
    _, nearest = ndi.distance_transform_edt(crop == 0, return_indices=True)
    filled = crop[tuple(nearest)]
    crop[holes[box]] = filled[holes[box]]
    return labels
