"""What an edit marks as reviewed (Qt-free; ``ReviewedRegions.record_edit``).

An edit in one plane (a 2D image; the slice or time point on screen) marks boxes around
what it changed (``edit_boxes``): the user looked at that part of the plane, unless the
plane is drawn by hand (``hand_drawn``: there the box held nuclei not painted yet, and it
gets the grown pixels as below). An edit through several planes (deleting, merging,
splitting or adding a 3D object, a 3D brush or fill, Fill between slices, fill holes of
every plane, the same over time points) marks only its own pixels, grown by the margin in
each plane. Deleting a wrong nucleus says that its voxels are background in every plane it
spanned, and the margin keeps its edge (the contrast with what is beside it) in the
training data; but the other objects inside a box around it, in planes the user never
scrolled to, were not looked at, and marking them made their unchecked labels training
data (deleting each nucleus of the 12 x 96 x 96 test crop in turn: a box per plane marked
1.43 times its voxels, 1629 voxels of other nuclei among them; its grown voxels are 1.20
times, 163 of other nuclei, within the margin).

A split or a merge also marks the pixels of the objects it leaves that it did not change
(``LabelEdit.also_reviewed``: the part of a split object that keeps its id, the object the
others were merged to): the user decided on those objects whole. Marking only the changed
pixels left most of the kept part unreviewed (a HeLa split: 123 of 735 pixels), and the next
prediction cut the user's objects again where it wrote around the marks.

The grown pixels are found plane by plane in the plane's box of the edit (a small array,
cheap to grow), or, for a few pixels scattered over a big plane (the holes filled in every
object), as each pixel's square of neighbours: either way the cost follows the edit, not
the stack.
"""

from __future__ import annotations

import numpy as np

from unet_studio.app.edit_boxes import edit_boxes, plane_keys
from unet_studio.app.label_edit import LabelEdit

SCATTERED = 4  # a plane's box this many times its pixels' squares: those squares instead


def edit_marks(edit: LabelEdit, shape: tuple[int, ...], margin: int,
               by_hand: bool = False) -> list:
    """``[(region, footprint)]`` that ``edit`` marks as reviewed: ``region`` a slice per
    axis of ``shape``; ``footprint`` None (all of it), a bool mask of its shape, or index
    arrays into it (one per axis). Its ``also_reviewed`` pixels (the objects a split or
    merge leaves) are marked as its changed pixels are: with them through several planes
    when either spans several, else a box per plane around them. ``by_hand``: the edit's
    plane is drawn by hand (``hand_drawn``): its grown pixels there too, never a box (the
    objects beside it not painted yet are no background)."""
    if edit.is_empty:
        return []
    also = edit.also_reviewed
    if also is not None and not also[0].size:
        also = None
    indices = edit.indices if also is None else \
        tuple(np.concatenate(pair) for pair in zip(edit.indices, also))
    lead = max(len(shape) - 2, 0)
    if by_hand or (lead and any(int(i.min()) != int(i.max()) for i in indices[:lead])):
        return footprint_marks(indices, shape, margin)
    boxes = edit_boxes(edit, shape, margin)
    if also is not None:  # (one value: one box per plane, as for a delete)
        unchanged = np.zeros(also[0].size, np.uint8)
        boxes += edit_boxes(LabelEdit(also, unchanged, unchanged), shape, margin)
    return [(box, None) for box in boxes]


def mark_footprint(view: np.ndarray, footprint):
    """Mark ``footprint`` of ``view`` (None: all; a bool mask; flat indices, ints, into
    ``view`` in C order); returns the pixels that were not marked before, in the same form
    (None: a mask)."""
    if footprint is not None and footprint.dtype != bool:
        flat = _flat_view(view)  # (a tuple of index arrays costs ~6x more per pass)
        new = footprint[~flat[footprint]]
        flat[new] = True
        return new
    if footprint is None:
        new = ~view
        view[...] = True
    else:  # (a logical or: ~15 times faster than setting the new pixels of a plane)
        new = np.greater(footprint, view)  # (footprint and not view, in one pass)
        np.logical_or(view, footprint, out=view)
    return new


def unmark_footprint(view: np.ndarray, new) -> None:
    """Clear what :func:`mark_footprint` returned as newly marked in ``view``."""
    if new is not None and new.dtype != bool:
        view = _flat_view(view)
    view[new] = False


def _flat_view(view: np.ndarray) -> np.ndarray:
    """``view`` as 1D, sharing its memory (flat indices need it C-contiguous)."""
    if not view.flags.c_contiguous:
        raise ValueError("flat indices need a C-contiguous mask")
    return view.reshape(-1)


def footprint_marks(indices, shape: tuple[int, ...], margin: int) -> list:
    """The pixels at ``indices`` (one array per axis of ``shape``, 2 axes or more) grown by
    ``margin`` along the last two axes (a square, as the boxes grow), never into other
    planes, as :func:`edit_marks` entries."""
    lead = len(shape) - 2
    keys = plane_keys(indices, shape, lead)
    if keys.size > 1 and not (keys[1:] >= keys[:-1]).all():  # (C-order edits come sorted)
        order = np.argsort(keys, kind="stable")
        keys, indices = keys[order], tuple(i[order] for i in indices)
    starts = np.concatenate([[0], np.flatnonzero(keys[1:] != keys[:-1]) + 1])
    stops = np.append(starts[1:], keys.size)
    lows = [np.maximum(np.minimum.reduceat(i, starts) - margin, 0) for i in indices[lead:]]
    highs = [np.minimum(np.maximum.reduceat(i, starts) + 1 + margin, n)
             for i, n in zip(indices[lead:], shape[lead:])]  # fmt: skip
    areas = (highs[0] - lows[0]) * (highs[1] - lows[1])
    scattered = (stops - starts) * (2 * margin + 1) ** 2 * SCATTERED < areas
    marks = []
    for g in np.flatnonzero(~scattered):
        part = tuple(i[starts[g] : stops[g]] for i in indices)
        box = tuple(slice(int(low[g]), int(high[g])) for low, high in zip(lows, highs))
        marks.append(_grown_plane(part, box, margin))
    if scattered.any():
        pick = np.repeat(scattered, stops - starts)
        marks.append(_squares(tuple(i[pick] for i in indices), shape, margin))
    return marks


def _grown_plane(part, box: tuple[slice, slice], margin: int):
    """(region, mask) of one plane's pixels ``part`` grown in ``box`` (their box in the
    plane, grown by ``margin``)."""
    (top, bottom), (left, right) = ((s.start, s.stop) for s in box)
    mask = np.zeros((bottom - top) * (right - left), bool)
    mask[(part[-2] - top) * (right - left) + (part[-1] - left)] = True  # (flat: faster)
    mask = mask.reshape(bottom - top, right - left)
    for axis in (0, 1):
        mask = _spread(mask, axis, margin)
    lead = tuple(slice(int(i[0]), int(i[0]) + 1) for i in part[:-2])
    return lead + box, mask.reshape((1,) * len(lead) + mask.shape)


def _spread(mask: np.ndarray, axis: int, margin: int) -> np.ndarray:
    """``mask`` with each True pixel spread ``margin`` pixels both ways along ``axis``
    (one pixel at a time: twice as fast as shifts by 2 on a plane of 1024 x 1024)."""
    ahead = (slice(None),) * axis + (slice(1, None),)
    behind = (slice(None),) * axis + (slice(None, -1),)
    for _ in range(margin):
        out = mask.copy()
        out[ahead] |= mask[behind]
        out[behind] |= mask[ahead]
        mask = out
    return mask


def _squares(part, shape, margin: int):
    """(the whole array, flat indices) of the square around each pixel of ``part``."""
    height, width = shape[-2:]
    flat = []
    for dy in range(-margin, margin + 1):
        y = part[-2] + dy
        for dx in range(-margin, margin + 1):
            x = part[-1] + dx
            inside = (y >= 0) & (y < height) & (x >= 0) & (x < width)
            flat.append(np.ravel_multi_index((*(i[inside] for i in part[:-2]), y[inside],
                                              x[inside]), shape))  # fmt: skip
    return tuple(slice(0, n) for n in shape), np.unique(np.concatenate(flat))
