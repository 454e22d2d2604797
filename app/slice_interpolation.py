"""Filling the slices between painted slices of one object (shape-based interpolation).

Outlining a nucleus in every plane of a 3D stack is the slow part of correcting it; with
this the user paints the object on a few planes (every fifth, say, or a predicted object
plus one plane where it should go on) and the planes between are filled in.

Each plane's outline is described by its signed distance map (positive inside, negative
outside); a plane between two painted planes takes the weighted mean of the two maps, and
its object is where that mean is positive: a disc of radius 4 and one of radius 8 give
radius 6 midway. An object that leans (its centre moving from plane to plane, as a
tilted nucleus does) would shrink to nothing midway if the maps were blended where they
lie, so each map is first moved to the centre the object has at that plane (the centres
interpolated linearly, to the nearest whole pixel), then blended.

Only background pixels are painted: an interpolated outline never eats into another object,
and the painted planes themselves stay as they are.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage as ndi

from unet_studio.app import object_search
from unet_studio.app.errors import UserError
from unet_studio.app.label_edit import LabelEdit, bounding_box, edit_from_region, empty_edit
from unet_studio.models.distance import distance_map


def painted_slices(labels: np.ndarray, label_id: int, axis: int) -> np.ndarray:
    """The indices along ``axis`` of the slices holding ``label_id``, ascending."""
    mask = labels == label_id
    others = tuple(a for a in range(labels.ndim) if a != axis)
    return np.flatnonzero(mask.any(axis=others))


def interpolate_slices_edit(
    labels: np.ndarray, label_id: int, axis: int, *, sampling=None, near=None,
    unit: str = "slice",
) -> LabelEdit:
    """The edit filling every gap of ``label_id`` along ``axis`` (slices without it between
    two slices with it) by shape-based interpolation; background pixels only.

    ``sampling``: the pixel size of the other axes, in their order (None: square pixels).
    ``near``: a point of the object, around which big arrays are searched (see
    :func:`object_column`). ``unit``: what a step along ``axis`` is called in messages
    ("time point" along T). Raises :class:`UserError` when the object is absent or on one
    slice only; an object without gaps gives an empty edit.
    """
    if labels.ndim < 2:
        raise ValueError("interpolating between slices needs labels with 2 axes or more")
    description = f"interpolate {label_id}"
    region = object_column(labels, label_id, axis, near)
    if region is None:
        raise UserError(f"there is no object {label_id} to interpolate")
    block = np.moveaxis(np.asarray(labels[region]), axis, 0)
    present = painted_slices(block, label_id, 0)
    if present.size < 2:
        first = region[axis].start + int(present[0])
        raise UserError(f"object {label_id} is on one {unit} only ({first}): paint it on "
                        f"another {unit} too, with the same label, then interpolate")  # fmt: skip
    gaps = [(int(a), int(b)) for a, b in zip(present[:-1], present[1:]) if b - a > 1]
    if not gaps:
        return empty_edit(labels.ndim, labels.dtype, description)
    filled = block.copy()
    for start, stop in gaps:
        for index, inside in _planes_between(block[start] == label_id, block[stop] == label_id,
                                             stop - start, sampling):  # fmt: skip
            plane = filled[start + index]
            plane[inside & (plane == 0)] = label_id
    return edit_from_region(labels, region, np.moveaxis(filled, 0, axis), description)


def object_column(labels, label_id: int, axis: int, near=None) -> tuple[slice, ...] | None:
    """The box of ``label_id`` over all its slices along ``axis``. A big array
    (``object_search``) is searched around ``near``: the object's box at the picked slice,
    widened by its own size on each side, through every slice; pieces painted further off
    are not seen there."""
    if near is None or labels.size <= object_search.LOCAL_SEARCH_PIXELS:
        return bounding_box(labels == label_id)
    box = object_search.local_box(labels, label_id, near)
    if box is None:
        return None
    column = tuple(slice(0, n) if a == axis else
                   slice(max(s.start - (s.stop - s.start), 0), min(s.stop + (s.stop - s.start), n))
                   for a, (s, n) in enumerate(zip(box, labels.shape)))  # fmt: skip
    inside = bounding_box(np.asarray(labels[column]) == label_id)
    return tuple(slice(c.start + i.start, c.start + i.stop) for c, i in zip(column, inside))


def _planes_between(first: np.ndarray, last: np.ndarray, steps: int, sampling):
    """``(i, mask)`` for i = 1 .. steps - 1: the object's outline i steps from ``first``
    towards ``last`` (``steps`` apart)."""
    start, end = _centre(first), _centre(last)
    shift = end - start
    # Room around the plane for the moved maps: what moves in from beyond the edge is
    # background, never a copy of an object pixel at the edge.
    pad = [int(math.ceil(abs(s))) + 2 for s in shift]
    padding = [(p, p) for p in pad]
    first_map = _signed_distance(np.pad(first, padding), sampling)
    last_map = _signed_distance(np.pad(last, padding), sampling)
    crop = tuple(slice(p, p + n) for p, n in zip(pad, first.shape))
    for index in range(1, steps):
        weight = index / steps
        # Whole-pixel moves: an object that only leans is copied exactly from slice to slice
        # (a half-pixel move of a distance map would round its edges away).
        towards_last = ndi.shift(first_map, np.round(weight * shift), order=0, mode="nearest")
        towards_first = ndi.shift(last_map, np.round((weight - 1) * shift), order=0,
                                  mode="nearest")  # fmt: skip
        blend = (1 - weight) * towards_last + weight * towards_first
        yield index, blend[crop] > 0


def _centre(mask: np.ndarray) -> np.ndarray:
    return np.array(ndi.center_of_mass(mask), dtype=np.float64)


def _signed_distance(mask: np.ndarray, sampling) -> np.ndarray:
    """Distance to the outline: positive inside ``mask``, negative outside (at least one
    pixel either side, so the zero level lies between pixels and ``> 0`` gives the mask)."""
    return distance_map(mask, sampling) - distance_map(~mask, sampling)
