"""The same id for the same object from one time point to the next.

Each time point of a time series is labelled on its own (ids 1..N in each), so a nucleus
would change its id, and its colour in the viewer, from frame to frame, and a table of
measurements over time could not follow it. Here each time point's objects take the ids of
the objects they overlap most in the time point next to it (intersection over union, each
id used once, the best-overlapping pairs first). Objects left over (moved more than about
half their size: fast cells, or a stage drift shifting every object past its own outline)
are then paired by position, once the drift common to all objects is taken off: only pairs
that are each other's nearest, within a diameter, clearly nearer than any other candidate
and of similar size, so that crowded objects moving far get new ids rather than each
other's. Objects with no partner (new ones, or the second daughter of a division) get ids
never used before. This is a light tracking, right when objects move less than their size
between frames (the usual frame rate for nuclei and cells), measured with known motion in
``benchmarks/bench_link_accuracy.py``. An object missing at one time point (missed by the
network) takes up its id again after it, where it pairs (the same way) with an object of the
time point before the gap that is missing at the gap.

Whole time points may be larger than RAM: overlaps and centres are counted and ids
replaced a slab of planes at a time.
"""

from __future__ import annotations

import math

import numpy as np

from unet_studio.models.scratch import scratch_zeros
from unet_studio.models.slab_label import slabs

# A pair of objects in neighbouring time points is the same object from this overlap on
# (intersection over union): a nucleus moving a third of its diameter between frames is
# still at ~0.5; half of a dividing one is at ~0.3-0.5.
MIN_IOU = 0.25
# Objects left without a partner by overlap (moved more than about half their size) are
# paired by distance, once the drift common to all is taken off: up to this many diameters,
# between objects of sizes within MAX_SIZE_RATIO of each other.
MAX_STEP = 1.0
MAX_SIZE_RATIO = 2.5
CLEAR_RATIO = 0.5  # the nearest at most this fraction of the next nearest's distance
MIN_DRIFT_OBJECTS = 5  # a drift common to all objects is measured on this many at least
SLAB_PIXELS = 1 << 22  # pixels read at once (overlap counting: ~24 bytes each)
KEPT_RAM_BYTES = 256 << 20  # a time point's labels kept for the next: in RAM up to this


def _slabs(shape: tuple[int, ...]):
    return (core for core, _ in slabs(shape, SLAB_PIXELS))


def matched_ids(previous, current, *, min_iou: float = MIN_IOU,
                max_step: float | None = None) -> dict[int, int]:  # fmt: skip
    """{id in ``current``: id in ``previous``}: first the pairs of overlapping objects with
    intersection over union at least ``min_iou``, best first; then, of the objects left,
    the pairs nearest once the common drift is taken off, up to ``max_step`` diameters apart
    (None: :data:`MAX_STEP`; 0: overlap only). Each id in one pair at most. ``previous`` and ``current``: label
    arrays of one shape (may be memory-mapped)."""
    if tuple(previous.shape) != tuple(current.shape):
        raise ValueError(f"time points of different shapes: {previous.shape} and {current.shape}")
    keys, counts, moments_before, moments_now = [], [], [], []
    for part in _slabs(tuple(current.shape)):
        block_before, block_now = np.asarray(previous[part]), np.asarray(current[part])
        offset = tuple(s.start for s in part)
        moments_before.append(_moments(block_before, offset))
        moments_now.append(_moments(block_now, offset))
        before = block_before.ravel().astype(np.int64, copy=False)
        now = block_now.ravel().astype(np.int64, copy=False)
        both = (before > 0) & (now > 0)
        if both.any():
            # One int64 key per pair (ids are int32): the pair counts in one sort.
            pair_keys, pair_counts = np.unique((before[both] << 32) | now[both], return_counts=True)
            keys.append(pair_keys)
            counts.append(pair_counts)
    objects_before, objects_now = _Objects.summed(moments_before), _Objects.summed(moments_now)
    matches = _matched_by_overlap(keys, counts, objects_before, objects_now, min_iou)
    max_step = MAX_STEP if max_step is None else max_step
    if max_step > 0:
        matches.update(_matched_by_motion(objects_before, objects_now, matches, max_step))
    return matches


def _matched_by_overlap(keys, counts, objects_before, objects_now, min_iou) -> dict[int, int]:
    if not keys:
        return {}
    pair_keys, overlap = _summed(keys, counts)
    old_ids, new_ids = pair_keys >> 32, pair_keys & 0xFFFFFFFF
    iou = overlap / (objects_before.size_of(old_ids) + objects_now.size_of(new_ids) - overlap)
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


def _matched_by_motion(before: _Objects, now: _Objects, matches: dict[int, int],
                       max_step: float) -> dict[int, int]:  # fmt: skip
    """Pairs of the objects not matched by overlap that are each other's nearest (centre
    distance once the common drift is taken off) and clearly so: at most ``max_step``
    times their mean diameter apart, the next nearest on either side at least
    1 / :data:`CLEAR_RATIO` times farther, sizes within :data:`MAX_SIZE_RATIO`. Where
    objects crowd and move far, an ambiguous pair is left unlinked (a new id) rather than
    linked wrongly."""
    from scipy.spatial import cKDTree

    free_before = np.flatnonzero(~np.isin(before.ids, list(matches.values())))
    free_now = np.flatnonzero(~np.isin(now.ids, list(matches)))
    if not free_before.size or not free_now.size:
        return {}
    drift = common_drift(before, now)
    centres_before, centres_now = before.centres[free_before], now.centres[free_now] - drift
    # Nearest and next nearest, both ways, among all the objects of the other time point
    # (the overlap-matched ones too: an object right beside makes a pair ambiguous).
    k = min(2, len(before.ids))
    to_before, nearest_before = cKDTree(before.centres).query(centres_now, k=k)
    to_now, nearest_now = cKDTree(now.centres - drift).query(centres_before, k=min(2, len(now.ids)))
    to_before, nearest_before = to_before.reshape(len(free_now), -1), nearest_before.reshape(len(free_now), -1)
    to_now, nearest_now = to_now.reshape(len(free_before), -1), nearest_now.reshape(len(free_before), -1)
    row_of_before = {int(index): row for row, index in enumerate(free_before)}
    diameters_before, diameters_now = before.diameters(), now.diameters()
    found: dict[int, int] = {}
    for row, index in enumerate(free_now):
        other = int(nearest_before[row, 0])
        back = row_of_before.get(other)
        if back is None or int(nearest_now[back, 0]) != index:
            continue  # (its nearest is taken by overlap, or nearer to another object)
        distance = float(to_before[row, 0])
        mean_diameter = (diameters_now[index] + diameters_before[other]) / 2
        ratio = now.sizes[index] / before.sizes[other]
        clear = all(d.shape[0] < 2 or d[0] <= CLEAR_RATIO * d[1] for d in (to_before[row], to_now[back]))
        if distance <= max_step * mean_diameter and clear \
                and 1 / MAX_SIZE_RATIO <= ratio <= MAX_SIZE_RATIO:
            found[int(now.ids[index])] = int(before.ids[other])
    return found


def common_drift(before: _Objects, now: _Objects, rounds: int = 3) -> np.ndarray:
    """The shift shared by all objects between two time points (a stage or sample drift):
    the median of each object's displacement to its nearest object of the time point before,
    refined a few times with the drift taken off (then objects whose nearest is farther than
    a typical diameter, new ones, do not count)."""
    from scipy.spatial import cKDTree

    drift = np.zeros(now.centres.shape[1])
    if min(len(before.ids), len(now.ids)) < MIN_DRIFT_OBJECTS:
        return drift  # (a few objects' own steps are no common drift)
    tree = cKDTree(before.centres)
    typical = float(np.median(now.diameters()))
    for round_ in range(rounds):
        distance, nearest = tree.query(now.centres - drift)
        # (the first round takes every object: a drift beyond a diameter is still found
        # while it stays under half the spacing of the objects)
        near = distance <= (np.inf if round_ == 0 else typical)
        if near.sum() < MIN_DRIFT_OBJECTS:
            break
        drift = np.median(now.centres[near] - before.centres[nearest[near]], axis=0)
    return drift


class _Objects:
    """The objects of one time point: ids, pixel counts and centres (pixel coordinates)."""

    def __init__(self, ids: np.ndarray, sizes: np.ndarray, centres: np.ndarray):
        self.ids, self.sizes, self.centres = ids, sizes, centres

    @classmethod
    def summed(cls, slab_moments) -> _Objects:
        """From the slabs' (ids, counts, coordinate sums)."""
        ids, sizes = _summed([m[0] for m in slab_moments], [m[1] for m in slab_moments])
        ndim = slab_moments[0][2].shape[1] if slab_moments else 0
        sums = np.stack([_summed([m[0] for m in slab_moments], [m[2][:, a] for m in slab_moments])[1]
                         for a in range(ndim)], axis=1) if len(ids) else np.zeros((0, ndim))  # fmt: skip
        return cls(ids.astype(np.int64), sizes, sums / np.maximum(sizes, 1)[:, None])

    def size_of(self, ids: np.ndarray) -> np.ndarray:
        return self.sizes[np.searchsorted(self.ids, ids)]

    def diameters(self) -> np.ndarray:
        """The diameter of the disc (ball) of each object's size."""
        ndim = self.centres.shape[1]
        unit = math.pi ** (ndim / 2) / math.gamma(ndim / 2 + 1)
        return 2 * (self.sizes / unit) ** (1 / ndim)


def _moments(block: np.ndarray, offset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids > 0, their pixel counts, their coordinate sums per axis) in ``block``, whose
    first pixel is at ``offset``."""
    inside = block > 0
    values = block[inside]
    ids, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.zeros((len(ids), block.ndim))
    for axis in range(block.ndim):  # (one axis's coordinates at a time: bounded memory)
        shape = [1] * block.ndim
        shape[axis] = block.shape[axis]
        along = np.broadcast_to(np.arange(block.shape[axis]).reshape(shape) + offset[axis],
                                block.shape)[inside]  # fmt: skip
        sums[:, axis] = np.bincount(inverse, weights=along, minlength=len(ids))
    return ids, counts, sums


def _summed(keys: list[np.ndarray], counts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(unique keys, their counts summed) over slabs' (keys, counts)."""
    if not keys:
        return np.zeros(0, np.int64), np.zeros(0)
    unique, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    return unique, np.bincount(inverse, weights=np.concatenate(counts))


def relabel_in_slabs(labels, mapping: np.ndarray) -> None:
    """``labels[...] = mapping[labels]`` in place, a slab at a time."""
    for part in _slabs(tuple(labels.shape)):
        labels[part] = mapping[np.asarray(labels[part])]


class TimeLinker:
    """Links the time points of one prediction as they are labelled, in any order in which
    each time point after the first is next to one already done (the time point on screen
    first, then outwards: ``_StackRun.order_groups``).

    ``link(t, labels)`` gives ``labels`` (ids 1..N, replaced in place) the ids of the
    neighbouring time point already linked (the one nearer the first); objects left over
    may take the id of an object missing at that neighbour but present one time point
    further (``close_gaps``: a nucleus the network missed in one frame keeps its id after
    it); the rest get fresh ids. It keeps a copy of the labels of the time points within
    two of the ends of the linked run only (at most four)."""

    def __init__(self, frames: int, min_iou: float = MIN_IOU, max_step: float | None = None,
                 close_gaps: bool = True):  # fmt: skip
        self.frames, self.min_iou, self.max_step = frames, min_iou, max_step
        self.close_gaps = close_gaps
        self.kept: dict[int, np.ndarray] = {}  # time point -> its linked labels
        self.ids: dict[int, set[int]] = {}  # time point -> the ids it holds
        self.done: set[int] = set()
        self.next_id = 1

    def link(self, t: int, labels) -> None:
        count = int(np.max(labels)) if labels.size else 0
        neighbour = next((n for n in (t - 1, t + 1) if n in self.kept), None)
        mapping = np.zeros(count + 1, np.int64)
        matches = {} if neighbour is None else self._matched(self.kept[neighbour], labels)
        if neighbour is not None and self.close_gaps:
            matches.update(self._across_gap(t, neighbour, labels, matches))
        for new in range(1, count + 1):
            if new in matches:
                mapping[new] = matches[new]
            else:
                mapping[new] = self.next_id
                self.next_id += 1
        relabel_in_slabs(labels, mapping.astype(labels.dtype))
        self.ids[t] = set(mapping[1:].tolist())
        self._keep(t, labels)

    def _matched(self, before, labels) -> dict[int, int]:
        return matched_ids(before, labels, min_iou=self.min_iou, max_step=self.max_step)

    def _across_gap(self, t: int, neighbour: int, labels, matches) -> dict[int, int]:
        """Objects of ``labels`` without a partner at ``neighbour`` that pair with an object
        one time point further that is missing at ``neighbour``."""
        further = 2 * neighbour - t
        if further not in self.kept:
            return {}
        missing = self.ids[further] - self.ids[neighbour]
        if not missing:
            return {}
        taken = set(matches.values())
        return {new: old for new, old in self._matched(self.kept[further], labels).items()
                if new not in matches and old in missing and old not in taken}  # fmt: skip

    def _keep(self, t: int, labels) -> None:
        # Set aside while the next time points are predicted and labelled: in the smallest
        # type that holds the ids, and in a temporary file beyond KEPT_RAM_BYTES.
        dtype = np.min_scalar_type(max(self.next_id - 1, 1))
        copy = scratch_zeros(tuple(labels.shape), dtype, ram_bytes=KEPT_RAM_BYTES)
        for part in _slabs(tuple(labels.shape)):
            copy[part] = labels[part]
        self.kept[t] = copy
        self.done.add(t)
        reach = 2 if self.close_gaps else 1
        for other in list(self.kept):  # not needed once every time point in reach is done
            if all(n in self.done or not 0 <= n < self.frames
                   for n in range(other - reach, other + reach + 1)):  # fmt: skip
                del self.kept[other], self.ids[other]
