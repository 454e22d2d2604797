"""The boxes an edit in one plane marks as reviewed (Qt-free; an edit through several
planes marks its grown pixels instead: ``edit_footprint``).

One box per plane (each index of the axes before the last two: a Z slice, a time point)
and per new value (an object painted, filled or given an id; 0: erased), around the pixels
of that plane given that value, grown by a margin in the plane. One box around every
changed pixel instead spanned the planes and the space between the objects of an edit that
fills many objects at once (Fill between slices for every object: a few hundred pixels in
each of four time points marked 58 % of those time points), making the unchecked labels
there training data and keeping them from the next prediction.
"""

from __future__ import annotations

import numpy as np

from unet_studio.app.label_edit import LabelEdit

MAX_BOXES = 10_000  # past this many (plane, value) groups: one box per plane (time on the GUI thread)
SORT_PIXELS = 1 << 20  # an edit this big is grouped without sorting its pixels
FEW_VALUES = 16  # ... by each of its new values when they span no more than this, else by plane


def edit_boxes(edit: LabelEdit, shape: tuple[int, ...], margin: int) -> list[tuple[slice, ...]]:
    """The regions (a slice per axis of ``shape``) that ``edit`` marks as reviewed."""
    if edit.is_empty:
        return []
    lead = max(len(shape) - 2, 0)
    indices, values = edit.indices, edit.new_values
    low, high = int(values.min()), int(values.max())
    if low == high:  # (one value: a delete, a merge, a brush stroke)
        return _boxes(indices, plane_keys(indices, shape, lead), shape, lead, margin)
    if edit.size > SORT_PIXELS:  # (a big edit: grouped in linear time)
        if high - low > FEW_VALUES:
            return _boxes(indices, plane_keys(indices, shape, lead), shape, lead, margin)
        boxes = []
        for value in range(low, high + 1):
            part = tuple(i[values == value] for i in indices)
            if part[0].size:
                boxes += _boxes(part, plane_keys(part, shape, lead), shape, lead, margin)
        return boxes
    _, ranks = np.unique(values, return_inverse=True)
    keys = plane_keys(indices, shape, lead) * (int(ranks.max()) + 1) + ranks.reshape(-1)
    if np.unique(keys).size > MAX_BOXES:
        keys = plane_keys(indices, shape, lead)
    return _boxes(indices, keys, shape, lead, margin)


def plane_keys(indices, shape, lead: int) -> np.ndarray:
    """The flat index of each pixel's plane (the ``lead`` axes), int64."""
    keys = np.zeros(indices[0].size, np.int64) if not lead else \
        np.asarray(indices[0], np.int64)
    for axis in range(1, lead):  # (plain arithmetic: ravel_multi_index is ~8 times slower)
        keys = keys * shape[axis] + indices[axis]
    return keys


def _boxes(indices, keys: np.ndarray, shape, lead: int, margin: int) -> list[tuple[slice, ...]]:
    """A box around the pixels of each key, grown by ``margin`` on the last two axes."""
    if keys.size > 1 and not (keys[1:] >= keys[:-1]).all():  # (C-order edits come sorted)
        order = np.argsort(keys, kind="stable")
        keys, indices = keys[order], tuple(i[order] for i in indices)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    lows = [np.minimum.reduceat(i, starts) for i in indices]
    highs = [np.maximum.reduceat(i, starts) for i in indices]
    return [tuple(slice(int(low[g]), int(high[g]) + 1) if a < lead else
                  slice(max(int(low[g]) - margin, 0), min(int(high[g]) + 1 + margin, n))
                  for a, (low, high, n) in enumerate(zip(lows, highs, shape)))
            for g in range(len(starts))]  # fmt: skip
