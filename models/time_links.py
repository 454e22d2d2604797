"""The same id for the same object from one time point to the next.

Each time point of a time series is labelled on its own (ids 1..N in each), so a nucleus
would change its id, and its colour in the viewer, from frame to frame, and a table of
measurements over time could not follow it. Here each time point's objects take the ids of
the objects they overlap most in the time point next to it (intersection over union, each
id used once, the best-overlapping pairs first); objects with no such partner (new ones,
or the second daughter of a division) get ids never used before. Frame-to-frame overlap
is a light tracking, right when objects move less than their size between frames (the
usual frame rate for nuclei and cells); it makes no track through a frame where an object
is missing.

Whole time points may be larger than RAM: overlaps are counted and ids replaced a slab of
planes at a time.
"""

from __future__ import annotations

import numpy as np

from unet_studio.models.scratch import scratch_zeros
from unet_studio.models.slab_label import slabs

# A pair of objects in neighbouring time points is the same object from this overlap on
# (intersection over union): a nucleus moving a third of its diameter between frames is
# still at ~0.5; half of a dividing one is at ~0.3-0.5.
MIN_IOU = 0.25
SLAB_PIXELS = 1 << 22  # pixels read at once (overlap counting: ~24 bytes each)
KEPT_RAM_BYTES = 256 << 20  # a time point's labels kept for the next: in RAM up to this


def _slabs(shape: tuple[int, ...]):
    return (core for core, _ in slabs(shape, SLAB_PIXELS))


def matched_ids(previous, current, *, min_iou: float = MIN_IOU) -> dict[int, int]:
    """{id in ``current``: id in ``previous``} for the pairs of overlapping objects with
    intersection over union at least ``min_iou``, best first, each id in one pair at most.
    ``previous`` and ``current``: label arrays of one shape (may be memory-mapped)."""
    if tuple(previous.shape) != tuple(current.shape):
        raise ValueError(f"time points of different shapes: {previous.shape} and {current.shape}")
    keys, counts, sizes_before, sizes_now = [], [], [], []
    for part in _slabs(tuple(current.shape)):
        before = np.asarray(previous[part]).ravel().astype(np.int64, copy=False)
        now = np.asarray(current[part]).ravel().astype(np.int64, copy=False)
        sizes_before.append(_object_sizes(before))
        sizes_now.append(_object_sizes(now))
        both = (before > 0) & (now > 0)
        if both.any():
            # One int64 key per pair (ids are int32): the pair counts in one sort.
            pair_keys, pair_counts = np.unique((before[both] << 32) | now[both], return_counts=True)
            keys.append(pair_keys)
            counts.append(pair_counts)
    if not keys:
        return {}
    pair_keys, overlap = _summed(keys, counts)
    old_ids, new_ids = pair_keys >> 32, pair_keys & 0xFFFFFFFF
    iou = overlap / (_size_of(old_ids, sizes_before) + _size_of(new_ids, sizes_now) - overlap)
    matches: dict[int, int] = {}
    taken: set[int] = set()
    # Best first; ties in the order of the ids (the same matches on every run).
    for index in np.lexsort((new_ids, old_ids, -iou)):
        if iou[index] < min_iou:
            break
        old, new = int(old_ids[index]), int(new_ids[index])
        if new not in matches and old not in taken:
            matches[new] = old
            taken.add(old)
    return matches


def _object_sizes(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ids > 0, their pixel counts) in ``labels``."""
    return np.unique(labels[labels > 0], return_counts=True)


def _summed(keys: list[np.ndarray], counts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(unique keys, their counts summed) over slabs' (keys, counts)."""
    unique, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    return unique, np.bincount(inverse, weights=np.concatenate(counts))


def _size_of(ids: np.ndarray, slab_sizes: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Pixel counts of ``ids`` (each present) from the slabs' (ids, counts)."""
    unique, total = _summed([i for i, _ in slab_sizes], [n for _, n in slab_sizes])
    return total[np.searchsorted(unique, ids)]


def relabel_in_slabs(labels, mapping: np.ndarray) -> None:
    """``labels[...] = mapping[labels]`` in place, a slab at a time."""
    for part in _slabs(tuple(labels.shape)):
        labels[part] = mapping[np.asarray(labels[part])]


class TimeLinker:
    """Links the time points of one prediction as they are labelled, in any order in which
    each time point after the first is next to one already done (the time point on screen
    first, then outwards: ``_StackRun.order_groups``).

    ``link(t, labels)`` gives ``labels`` (ids 1..N, replaced in place) the ids of the
    neighbouring time point already linked (the one nearer the first), fresh ids to the
    rest; it keeps a copy of the labels of the time points at the ends of the linked run
    only (at most two)."""

    def __init__(self, frames: int, min_iou: float = MIN_IOU):
        self.frames, self.min_iou = frames, min_iou
        self.kept: dict[int, np.ndarray] = {}  # time point -> its linked labels
        self.done: set[int] = set()
        self.next_id = 1

    def link(self, t: int, labels) -> None:
        count = int(np.max(labels)) if labels.size else 0
        neighbour = next((n for n in (t - 1, t + 1) if n in self.kept), None)
        mapping = np.zeros(count + 1, np.int64)
        matches = {} if neighbour is None else matched_ids(self.kept[neighbour], labels,
                                                            min_iou=self.min_iou)
        for new in range(1, count + 1):
            if new in matches:
                mapping[new] = matches[new]
            else:
                mapping[new] = self.next_id
                self.next_id += 1
        relabel_in_slabs(labels, mapping.astype(labels.dtype))
        self._keep(t, labels)

    def _keep(self, t: int, labels) -> None:
        # Set aside while the next time points are predicted and labelled: in the smallest
        # type that holds the ids, and in a temporary file beyond KEPT_RAM_BYTES.
        dtype = np.min_scalar_type(max(self.next_id - 1, 1))
        copy = scratch_zeros(tuple(labels.shape), dtype, ram_bytes=KEPT_RAM_BYTES)
        for part in _slabs(tuple(labels.shape)):
            copy[part] = labels[part]
        self.kept[t] = copy
        self.done.add(t)
        for other in list(self.kept):  # a time point with both neighbours done is not needed
            if all(n in self.done or not 0 <= n < self.frames for n in (other - 1, other + 1)):
                del self.kept[other]
