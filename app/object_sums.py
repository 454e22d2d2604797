"""Per-object running totals of one frame (pixel count, coordinate and intensity sums,
bounding boxes), added up slab by slab.

Separate from the measuring loop (``app.measure``) because this is the vectorised arithmetic
of one slab: labels compacted to 0..n-1 (ids may be huge and sparse), one ``bincount`` per
column, boxes from ``find_objects``, and new labels merged into the sorted table.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from unet_studio.app.measure_inputs import check_ids


class ObjectSums:
    """Running per-object totals of one frame, one row per label seen so far (sorted).

    ``table`` columns: pixel count, coordinate sum per spatial axis (storage order), intensity
    sum per channel. ``starts``/``stops``: bounding box per spatial axis, stop exclusive.
    """

    def __init__(self, ndim: int, channels: int):
        self.ndim = ndim
        self.labels = np.zeros(0, np.int64)
        self.table = np.zeros((0, 1 + ndim + channels))
        self.starts = np.zeros((0, ndim), np.int64)
        self.stops = np.zeros((0, ndim), np.int64)

    def add_slab(self, slab: np.ndarray, planes: np.ndarray | None, origin: Sequence[int]) -> None:
        """Add a block of labels whose first pixel is at ``origin`` (per spatial axis) in
        the frame; ``planes``: the image under it, (C, *slab.shape)."""
        if slab.dtype == bool:
            slab = slab.view(np.uint8)
        check_ids(slab)
        inside = slab > 0
        present, index = compact_ids(slab[inside])
        if not len(present):
            return
        count = len(present)
        table = np.empty((count, self.table.shape[1]))
        table[:, 0] = np.bincount(index, minlength=count)
        for axis, coordinate in enumerate(np.nonzero(inside)):
            sums = np.bincount(index, weights=coordinate, minlength=count)
            table[:, 1 + axis] = sums + origin[axis] * table[:, 0]  # block -> frame coordinates
        for channel, plane in enumerate([] if planes is None else planes):
            table[:, 1 + self.ndim + channel] = np.bincount(index, weights=plane[inside],
                                                            minlength=count)
        starts, stops = object_boxes(inside, index, count)
        self._merge(present, table, starts + origin, stops + origin)

    def _merge(self, present, table, starts, stops) -> None:
        new = present[~np.isin(present, self.labels, assume_unique=True)]
        if len(new):
            self._grow(new)
        rows = np.searchsorted(self.labels, present)
        self.table[rows] += table
        self.starts[rows] = np.minimum(self.starts[rows], starts)
        self.stops[rows] = np.maximum(self.stops[rows], stops)

    def _grow(self, new: np.ndarray) -> None:
        labels = np.union1d(self.labels, new)
        old = np.searchsorted(labels, self.labels)
        table = np.zeros((len(labels), self.table.shape[1]))
        starts = np.full((len(labels), self.ndim), np.iinfo(np.int64).max)
        stops = np.zeros((len(labels), self.ndim), np.int64)
        table[old], starts[old], stops[old] = self.table, self.starts, self.stops
        self.labels, self.table, self.starts, self.stops = labels, table, starts, stops


def compact_ids(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The labels present (sorted, int64) and, per pixel, its label's position among them."""
    if not ids.size:
        return np.zeros(0, np.int64), np.zeros(0, np.intp)
    top = int(ids.max())
    if top > 4 * ids.size + 2**16:  # sparse ids: a lookup table would outweigh the slab
        present, index = np.unique(ids, return_inverse=True)
        return present.astype(np.int64), index.reshape(-1)
    seen = np.zeros(top + 1, bool)
    seen[ids] = True
    present = np.flatnonzero(seen)
    lookup = np.zeros(top + 1, np.intp)
    lookup[present] = np.arange(len(present))
    return present.astype(np.int64), lookup[ids]


def object_boxes(inside: np.ndarray, index: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Bounding boxes in slab coordinates, (count, ndim) starts and stops: scipy's
    find_objects on the slab relabelled 1..count (the ids themselves may be huge)."""
    compact = np.zeros(inside.shape, np.int32 if count < 2**31 - 1 else np.int64)
    compact[inside] = index + 1
    boxes = ndimage.find_objects(compact, max_label=count)
    starts = np.array([[s.start for s in box] for box in boxes], np.int64)
    stops = np.array([[s.stop for s in box] for box in boxes], np.int64)
    return starts, stops
