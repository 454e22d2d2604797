"""What a streamed run reads from the labels before its first write, in the worker thread.

Two things need the labels as they were: the largest id outside the region segmented (the
new objects' ids start above it, so a single plane does not reuse other planes' ids) and a
copy of the region (put back on cancel or error). A big stack's labels live in a file of
gigabytes, so both are read a slab of planes at a time, never copied whole (a boolean mask
of the stack and ``labels[mask]`` took 12 GiB and half a minute), and each step yields, so
that Cancel stops them between two slabs. Neither may run on the GUI thread.

Labels in a scratch file are mostly holes (a fresh run's are all holes): a slab whose planes
lie wholly in holes is zeros, known from the file system's metadata (``sparse_extent``), and
is not read (reading 20 GB of zeros took minutes and filled the page cache). It still
counts as one step of the progress, so totals and Cancel are as before.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np

from unet_studio.models.scratch import scratch_zeros
from unet_studio.models.slab_label import SLAB_PIXELS, slabs
from unet_studio.models.sparse_extent import data_planes


def outside_boxes(target: tuple[slice, ...], shape: tuple[int, ...]) -> list[tuple[slice, ...]]:
    """Boxes that together hold every pixel of an array of ``shape`` outside ``target`` (a
    slice of step 1 per axis), each pixel once: along each axis in turn, the parts before and
    after the target, within the target on the axes before it."""
    bounds = [part.indices(size)[:2] for part, size in zip(target, shape)]
    boxes = []
    for axis, (size, (start, stop)) in enumerate(zip(shape, bounds)):
        inside = tuple(slice(lo, hi) for lo, hi in bounds[:axis])
        rest = (slice(None),) * (len(shape) - axis - 1)
        for part in (slice(0, start), slice(max(stop, start), size)):
            if part.stop > part.start:
                boxes.append((*inside, part, *rest))
    return boxes


def box_overlap(box: tuple[slice, ...], target: tuple[slice, ...], shape: tuple[int, ...],
                ) -> tuple[tuple[slice, ...], tuple[slice, ...]] | None:
    """Where ``box`` and ``target`` (a slice of step 1 per axis each, of an array of
    ``shape``) meet: that part as slices within ``box`` and as slices within ``target``;
    None when they do not meet."""
    in_box, in_target = [], []
    for part, whole, size in zip(box, target, shape):
        start, stop, _ = part.indices(size)
        first, end, _ = whole.indices(size)
        low, high = max(start, first), min(stop, end)
        if high <= low:
            return None
        in_box.append(slice(low - start, high - start))
        in_target.append(slice(low - first, high - first))
    return tuple(in_box), tuple(in_target)


def iter_slabs(array, pixels: int = SLAB_PIXELS) -> Generator[tuple[slice, ...], None, None]:
    """The slab keys of ``array`` (whole planes along its first axis, about ``pixels`` each)."""
    if array.ndim == 0:
        yield (Ellipsis,)
        return
    for core, _ in slabs(array.shape, pixels):
        yield core


def may_hold_data(planes: np.ndarray | None, key: tuple) -> bool:
    """Can the slab ``key`` (from :func:`iter_slabs`) hold a nonzero pixel, by ``planes``
    (``data_planes`` of its array: None when unknown)?"""
    if planes is None or not isinstance(key[0], slice):
        return True
    return bool(planes[key[0]].any())


def count_slabs(arrays, pixels: int = SLAB_PIXELS) -> int:
    """How many slabs :func:`iter_slabs` gives over all of ``arrays`` (for a progress total)."""
    return sum(sum(1 for _ in iter_slabs(a, pixels)) for a in arrays)


def iter_largest_outside(labels: np.ndarray, target: tuple[slice, ...],
                         pixels: int = SLAB_PIXELS) -> Generator[None, None, int]:
    """The largest id of ``labels`` outside ``target`` (0 when nothing is outside), yielding
    after every slab (read, or known zeros: in holes of its file). Views only: no copy of
    the labels and no mask of the stack."""
    largest = 0
    for box in outside_boxes(target, labels.shape):
        part = labels[box]  # basic indexing: a view
        planes = data_planes(part)
        for key in iter_slabs(part, pixels):
            if may_hold_data(planes, key):
                block = part[key]
                if block.size:
                    largest = max(largest, int(block.max()))
            yield
    return largest


def iter_copy_unless_empty(region: np.ndarray, pixels: int = SLAB_PIXELS,
                           into: np.ndarray | None = None,
                           ) -> Generator[None, None, np.ndarray | None]:
    """A copy of ``region`` (a scratch array: a file when too big for RAM), or None when it
    holds only zeros (fresh labels of a first run: no second stack made of nothing). One pass:
    a slab is copied when it holds an object, into zeros: ``into`` (made and its disk space
    reserved beforehand, so that a full disk is said before the run starts), else made when
    the first object is met. Slabs in holes of the region's file are zeros: not read."""
    copied = False
    planes = data_planes(region)
    for key in iter_slabs(region, pixels):
        if not may_hold_data(planes, key):
            yield
            continue
        block = region[key]
        if block.any():
            if into is None:
                into = scratch_zeros(region.shape, region.dtype)
            np.copyto(into[key], block)
            copied = True
        yield
    return into if copied else None

