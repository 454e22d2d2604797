"""Where an object picked by a click lies, without reading a whole big stack.

An object tool needs the box holding the object it acts on. Comparing the whole label
array with the object's id finds it exactly, at a cost that grows with the stack: half a
second per click on a 1 GB stack in RAM, seconds on a bigger one on disk, and a temporary
array of one byte per pixel. Above :data:`LOCAL_SEARCH_PIXELS` the box is found around the
click instead: a window centred on it is read and, while the object reaches an edge of the
window, the window doubles on that side; the cost follows the object's size.

What the local search finds is the object's extent around the click: pixels of the same id
lying apart from it, beyond its box (a stray fragment painted far away with the same label),
are not part of it. Ids stand for one object each, so for the objects the tools are meant
for the two searches agree (tested).

From :data:`CHECKED_SEARCH_PIXELS` up to :data:`LOCAL_SEARCH_PIXELS` the local box is
found first and then checked: one pass over the labels a slab at a time, into one small
buffer, looking for the id outside it (~15 ms on 64 x 1024 x 1024 against ~38 ms for the
comparison of the whole array and its reductions; a merge finds two objects). The id found
outside, the whole array is searched: the result is always the whole search's.
"""

from __future__ import annotations

import numpy as np

from unet_studio.app.label_edit import bounding_box

LOCAL_SEARCH_PIXELS = 1 << 26  # labels larger than this (64 M pixels): objects found locally
CHECKED_SEARCH_PIXELS = 1 << 22  # labels this large and up: found locally, then checked
START_WINDOW = 64  # pixels per axis of the first window read around the click
SLAB_PIXELS = 1 << 20  # pixels compared at a time when checking


def object_box(labels, label_id: int, near=None, margin: int = 0) -> tuple[slice, ...] | None:
    """The box (slices) holding object ``label_id``, grown by ``margin`` and clipped; None
    when it is absent. ``near``: a point inside the object (labels coordinates), which lets
    big label arrays be searched around it; None: the whole array is searched."""
    checked = labels.size <= LOCAL_SEARCH_PIXELS
    if near is None or (checked and labels.size < CHECKED_SEARCH_PIXELS):
        return bounding_box(labels == label_id, margin)
    box = local_box(labels, label_id, near)
    if checked and (box is None or found_outside(labels, label_id, box)):
        return bounding_box(labels == label_id, margin)  # (the whole search's answer)
    if box is None:
        return None
    return tuple(slice(max(s.start - margin, 0), min(s.stop + margin, n))
                 for s, n in zip(box, labels.shape))  # fmt: skip


def found_outside(labels, label_id: int, box: tuple[slice, ...]) -> bool:
    """Does ``label_id`` occur in ``labels`` outside ``box``? Compared a slab of planes at
    a time into one buffer (no temporary the size of the labels)."""
    step = max(1, SLAB_PIXELS // max(1, int(np.prod(labels.shape[1:]))))
    buffer = np.empty((step, *labels.shape[1:]), bool)
    for start in range(0, labels.shape[0], step):
        part = np.asarray(labels[start : start + step])
        hits = buffer[: len(part)]
        np.equal(part, label_id, out=hits)
        low, high = max(box[0].start - start, 0), min(box[0].stop - start, len(part))
        if high > low:
            hits[(slice(low, high), *box[1:])] = False
        if hits.any():
            return True
    return False


def local_box(labels, label_id: int, near) -> tuple[slice, ...] | None:
    """The box of ``label_id`` found by growing a window around ``near`` (see the module's
    description); None when the object is not in the first window."""
    shape = labels.shape
    point = [min(max(int(round(float(c))), 0), n - 1) for c, n in zip(near, shape)]
    low = [max(p - START_WINDOW // 2, 0) for p in point]
    high = [min(p + START_WINDOW // 2 + 1, n) for p, n in zip(point, shape)]
    while True:
        window = tuple(slice(a, b) for a, b in zip(low, high))
        box = bounding_box(np.asarray(labels[window]) == label_id)
        if box is None:
            return None
        grew = False
        for axis, n in enumerate(shape):
            width = high[axis] - low[axis]
            if box[axis].start == 0 and low[axis] > 0:  # (touches an edge inside the image)
                low[axis], grew = max(low[axis] - width, 0), True
            if box[axis].stop == width and high[axis] < n:
                high[axis], grew = min(high[axis] + width, n), True
        if not grew:
            return tuple(slice(a + s.start, a + s.stop) for a, s in zip(low, box))


def holds_id(labels, label_id: int, slab_pixels: int = 1 << 24) -> bool:
    """Does ``label_id`` occur in ``labels``? Read a slab of planes at a time (no temporary
    the size of a big stack), stopping at the first slab holding it."""
    if labels.ndim == 0 or labels.size == 0:
        return False
    step = max(1, slab_pixels // max(1, labels.size // labels.shape[0]))
    return any((np.asarray(labels[start:start + step]) == label_id).any()
               for start in range(0, labels.shape[0], step))  # fmt: skip
