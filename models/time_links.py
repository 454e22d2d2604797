"""The same id for the same object from one time point to the next.

Each time point of a time series is labelled on its own (ids 1..N in each), so a nucleus
would change its id, and its colour in the viewer, from frame to frame, and a table of
measurements over time could not follow it. Here each time point's objects take the ids of
the objects they overlap most in the time point next to it (intersection over union, each
id used once, the best-overlapping pairs first). Objects left over (moved more than about
half their size: fast cells, or a stage drift shifting every object past its own outline)
are then paired by position, once the drift common to all objects is taken off: the
pairing with the least total distance (a linear assignment among the objects left over, as
LAP trackers solve it), between objects of similar size no farther apart than a diameter
and a few times the typical step of the objects that overlap, and only where it is clearly
cheaper than any pairing without that pair, so that crowded objects moving far get new ids
rather than each other's. Objects with no partner (new ones, or the second daughter of a
division) get ids never used before. This is a light tracking, right when objects move less
than their size between frames (the usual frame rate for nuclei and cells), measured with
known motion in ``benchmarks/bench_link_accuracy.py``. An object missing at one time point (missed by the
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
# ... and no farther than STEP_FACTOR times the median step of the objects matched by
# overlap (at least MIN_GATE diameters: outlines change from frame to frame).
STEP_FACTOR = 4.0
MIN_GATE = 0.25
_NO_PAIR = 1e9  # (the cost of a pair that is not a candidate)
CLEAR_MARGIN = 0.2  # a pairing this many diameters cheaper than any without the pair
MAX_CHECKED_GROUP = 120  # objects in a group of candidates checked pair by pair
MAX_ASSIGNED_GROUP = 600  # beyond this many, the cheapest clear pairs first (no assignment)
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
    """Pairs of the objects not matched by overlap, by position once the common drift is
    taken off: the pairing with the least total distance (each in units of the pair's mean
    diameter) among the pairs at most ``max_step`` diameters apart with sizes within
    :data:`MAX_SIZE_RATIO`, where leaving an object unpaired costs ``max_step / 2`` (so
    two objects alone pair up to ``max_step`` apart): a linear assignment, as LAP trackers
    solve it. Objects taken by overlap compete for none."""
    from scipy.spatial import cKDTree

    free_before = np.flatnonzero(~np.isin(before.ids, list(matches.values())))
    free_now = np.flatnonzero(~np.isin(now.ids, list(matches)))
    if not free_before.size or not free_now.size:
        return {}
    drift = common_drift(before, now)
    max_step = min(max_step, _gate(before, now, matches, drift))
    centres_now = now.centres[free_now] - drift
    diameters_before, diameters_now = before.diameters()[free_before], now.diameters()[free_now]
    # (one giant object, a merged blob, must not make every pair of small ones a candidate)
    typical = float(np.median(np.concatenate([diameters_before, diameters_now])))
    reach = max_step * min(max(diameters_before.max(), diameters_now.max()), 4 * typical)
    pairs = cKDTree(before.centres[free_before]).sparse_distance_matrix(
        cKDTree(centres_now), reach, output_type="ndarray")
    rows, cols = pairs["i"], pairs["j"]
    cost = pairs["v"] / ((diameters_before[rows] + diameters_now[cols]) / 2)
    ratio = now.sizes[free_now][cols] / before.sizes[free_before][rows]
    keep = (cost <= max_step) & (ratio >= 1 / MAX_SIZE_RATIO) & (ratio <= MAX_SIZE_RATIO)
    found: dict[int, int] = {}
    for row, col in _assigned(rows[keep], cols[keep], cost[keep], max_step / 2):
        found[int(now.ids[free_now[col]])] = int(before.ids[free_before[row]])
    return found


def _gate(before: _Objects, now: _Objects, matches: dict[int, int], drift) -> float:
    """How far (in diameters) an object may have moved to be paired by position: a few
    times the typical step of the objects paired by overlap, once the drift is taken off
    (where objects barely move, a new object near one that left is not taken for it);
    unbounded where too few objects overlap to tell."""
    if len(matches) < MIN_DRIFT_OBJECTS:
        return np.inf
    new_ids, old_ids = (np.fromiter(side, np.int64, len(matches)) for side in (matches, matches.values()))
    row_now, row_before = np.searchsorted(now.ids, new_ids), np.searchsorted(before.ids, old_ids)
    steps = np.linalg.norm(now.centres[row_now] - drift - before.centres[row_before], axis=1)
    diameters = (now.diameters()[row_now] + before.diameters()[row_before]) / 2
    return max(STEP_FACTOR * float(np.median(steps / diameters)), MIN_GATE)


def _assigned(rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, unpaired: float):
    """(row, col) pairs of the least-cost assignment over the candidate pairs ``(rows[k],
    cols[k])`` of cost ``cost[k]``, each row and column paired at most once and each left
    unpaired at a cost of ``unpaired``; solved per group of candidates that share objects
    (small groups, however many objects a time point holds)."""
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not len(rows):
        return []
    n_rows, n_cols = int(rows.max()) + 1, int(cols.max()) + 1
    graph = coo_matrix((np.ones(len(rows)), (rows, n_rows + cols)),
                       shape=(n_rows + n_cols,) * 2)  # fmt: skip
    _, group = connected_components(graph, directed=False)
    found = []
    order = np.argsort(group[rows], kind="stable")
    starts = np.flatnonzero(np.diff(group[rows][order], prepend=-1))
    for members in np.split(order, starts[1:]):
        group_rows, row_index = np.unique(rows[members], return_inverse=True)
        group_cols, col_index = np.unique(cols[members], return_inverse=True)
        if len(members) == 1:  # (most groups: one free object on each side)
            found.append((int(group_rows[0]), int(group_cols[0])))
            continue
        n, m = len(group_rows), len(group_cols)
        if n + m > MAX_ASSIGNED_GROUP:  # (a crowd moving far: the assignment's cost is cubic)
            found += [(int(group_rows[r]), int(group_cols[c]))
                      for r, c in _clear_best_first(row_index, col_index, cost[members])]
            continue
        # Rows and columns may each stay unpaired: an n x m block of the pairs' costs,
        # bordered by an unpaired choice for every row and every column.
        matrix = np.full((n + m, m + n), _NO_PAIR)
        matrix[row_index, col_index] = cost[members]
        matrix[np.arange(n), m + np.arange(n)] = unpaired
        matrix[n + np.arange(m), np.arange(m)] = unpaired
        matrix[n:, m:] = 0.0  # (unpaired with unpaired: nothing)
        chosen = linear_sum_assignment(matrix)
        best = float(matrix[chosen].sum())
        for r, c in zip(*chosen):
            if r < n and c < m and _clear(matrix, (n, m), r, c, best):
                found.append((int(group_rows[r]), int(group_cols[c])))
    return found


def _clear_best_first(rows: np.ndarray, cols: np.ndarray, cost: np.ndarray):
    """For groups too big to assign: the cheapest pairs first, each taken when both objects
    are free and its cost is :data:`CLEAR_MARGIN` below every other candidate of either."""
    def second_best(index: np.ndarray) -> dict[int, float]:
        out: dict[int, list[float]] = {}
        for key, value in zip(index.tolist(), cost.tolist()):
            out.setdefault(key, []).append(value)
        return {key: sorted(values)[1] if len(values) > 1 else np.inf for key, values in out.items()}

    row_next, col_next = second_best(rows), second_best(cols)
    taken_rows, taken_cols, found = set(), set(), []
    for k in np.argsort(cost, kind="stable"):
        r, c = int(rows[k]), int(cols[k])
        if r in taken_rows or c in taken_cols:
            continue
        if min(row_next[r], col_next[c]) - cost[k] >= CLEAR_MARGIN:
            found.append((r, c))
            taken_rows.add(r)
            taken_cols.add(c)
    return found


def _assignment_cost(matrix: np.ndarray) -> float:
    from scipy.optimize import linear_sum_assignment

    return float(matrix[linear_sum_assignment(matrix)].sum())


def _clear(matrix: np.ndarray, size: tuple[int, int], r: int, c: int, best: float) -> bool:
    """Whether the pair (r, c) of the least-cost assignment (cost ``best``) of ``matrix``
    (``size``: its rows and columns of objects, bordered as ``_assigned`` builds it) is
    clearly better than any assignment in which r or c pairs with another object: by
    :data:`CLEAR_MARGIN` diameters at least. Where crowded objects move far, two ways of
    pairing them cost about the same, and a guess would give an object another's id: it
    gets a new id instead. (In a group too big for an assignment per pair, the pair must be
    that much cheaper than each object's next candidate.)"""
    n, m = size
    if matrix.shape[0] > MAX_CHECKED_GROUP:
        others = np.concatenate([np.delete(matrix[r, :m], c), np.delete(matrix[:n, c], r)])
        return bool(others.size == 0 or others.min() - matrix[r, c] >= CLEAR_MARGIN)
    for unpaired in ((r, m + r), (n + c, c)):  # r, then c, made to pair with another
        saved = matrix[r, c], matrix[unpaired]
        matrix[r, c] = matrix[unpaired] = _NO_PAIR
        try:
            if _assignment_cost(matrix) - best < CLEAR_MARGIN:
                return False
        finally:
            matrix[r, c], matrix[unpaired] = saved
    return True


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
