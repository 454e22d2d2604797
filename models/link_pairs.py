"""Which objects of one time point are which of the time point next to it
(``time_links``): overlaps counted a slab of planes at a time, pairs by overlap, then the
objects left over paired by position (where each is looked for: ``Guesses``) with a
least-cost assignment (``link_assignment``), and the drift common to all objects."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unet_studio.models.id_pairs import distinct_pairs
from unet_studio.models.link_assignment import assigned
from unet_studio.models.slab_label import (  # (overlap counting: ~24 bytes a pixel)
    SLAB_PIXELS,
    slabs,
)
from unet_studio.models.track_history import Objects, summed_by_key

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
MIN_DRIFT_OBJECTS = 5  # a drift common to all objects is measured on this many at least


def slab_parts(shape: tuple[int, ...]):
    return (core for core, _ in slabs(shape, SLAB_PIXELS))


def counted(previous, current, before: Objects | None = None):
    """(overlapping pairs' keys (``pair_keys``) and pixel counts, per slab; the objects of
    ``previous``, or ``before`` where given (it must hold every id of ``previous``); the
    objects of ``current``)."""
    if tuple(previous.shape) != tuple(current.shape):
        raise ValueError(f"time points of different shapes: {previous.shape} and {current.shape}")
    pairs, moments_before, moments_now = [], [], []
    for part in slab_parts(tuple(current.shape)):
        block_before, block_now = np.asarray(previous[part]), np.asarray(current[part])
        offset = tuple(s.start for s in part)
        if before is None:
            moments_before.append(_moments(block_before, offset))
        moments_now.append(_moments(block_now, offset))
        both = (block_before > 0) & (block_now > 0)
        if both.any():
            pairs.append(distinct_pairs(block_before[both], block_now[both], counts=True))
    before = Objects.summed(moments_before) if before is None else before
    now = Objects.summed(moments_now)
    keys = [pair_keys(before, now, old_ids, new_ids) for old_ids, new_ids, _ in pairs]
    return keys, [pixels for *_, pixels in pairs], before, now


def pair_keys(before: Objects, now: Objects, old_ids, new_ids) -> np.ndarray:
    """One int64 key per pair of objects: its rows among the objects of ``before`` and of
    ``now``, packed. Rows fit 32 bits each whatever the ids (uint32 past 2**31, uint64:
    packed ids would overflow into the keys of other pairs), and keys of every slab agree."""
    return (np.searchsorted(before.ids, old_ids) << 32) | np.searchsorted(now.ids, new_ids)


def pair_ids(keys: np.ndarray, before: Objects, now: Objects) -> tuple[np.ndarray, np.ndarray]:
    """(ids before, ids now) of the pairs of ``pair_keys``."""
    return before.ids[keys >> 32], now.ids[keys & 0xFFFFFFFF]


def objects_of(labels) -> Objects:
    return Objects.summed([_moments(np.asarray(labels[part]), tuple(s.start for s in part))
                           for part in slab_parts(tuple(labels.shape))])  # fmt: skip


def matched_by_overlap(keys, counts, objects_before, objects_now, min_iou) -> dict[int, int]:
    if not keys:
        return {}
    summed_keys, overlap = summed_by_key(keys, counts)
    old_ids, new_ids = pair_ids(summed_keys, objects_before, objects_now)
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


def matched_one_to_one(keys, counts, matches: dict[int, int], objects_before, objects_now,
                       drift=None) -> dict[int, int]:
    """{id now: id before} for the pairs of objects, neither in ``matches``, that overlap
    each other and no other object at all (of either time point), whatever their overlap,
    and whose centres (``drift``, the common one, taken off) lie at most their mean
    diameter apart: a nucleus that moved half its size, or whose outline changed (cut by
    the image edge, out of focus), still overlaps itself and nothing else, and nothing else
    can be it (a division or a merge overlaps two). Below ``MIN_IOU`` such a pair would
    otherwise be left to the position rule's gate, tight where most objects barely move;
    a sliver of overlap between objects further apart is two objects passing."""
    if not keys:
        return {}
    summed_keys, _ = summed_by_key(keys, counts)
    old_ids, new_ids = pair_ids(summed_keys, objects_before, objects_now)
    sole = _occurs_once(old_ids) & _occurs_once(new_ids)
    old_ids, new_ids = old_ids[sole], new_ids[sole]
    rows_before = np.searchsorted(objects_before.ids, old_ids)
    rows_now = np.searchsorted(objects_now.ids, new_ids)
    shift = 0.0 if drift is None else np.asarray(drift)
    step = np.linalg.norm(objects_now.centres[rows_now]
                          - (objects_before.centres[rows_before] + shift), axis=1)
    reach = (objects_before.diameters()[rows_before] + objects_now.diameters()[rows_now]) / 2
    taken = set(matches.values())
    return {int(new): int(old) for old, new in zip(old_ids[step <= reach], new_ids[step <= reach])
            if int(new) not in matches and int(old) not in taken}  # fmt: skip


def _occurs_once(values: np.ndarray) -> np.ndarray:
    """Whether each of ``values`` is the only one of its value."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return counts[inverse.ravel()] == 1


@dataclass
class Guesses:
    """Where objects of an earlier time point are looked for, one row per guess: the
    object (``owner``: its row among the objects guessed for), its expected centre
    (``points``, drift included) and the largest cost a pair from this guess may have
    (``caps``, diameters). An object may have several: where the common drift takes it,
    where its own steady motion does."""

    owner: np.ndarray
    points: np.ndarray
    caps: np.ndarray

    @classmethod
    def at(cls, owner, points, cap) -> Guesses:
        """``points``: ``(guesses, ndim)``; ``cap``: one for all, or one per guess."""
        owner = np.asarray(owner, np.int64)
        caps = np.broadcast_to(np.asarray(cap, float), owner.shape).copy()
        return cls(owner, np.asarray(points, float), caps)

    def __add__(self, other: Guesses) -> Guesses:
        return Guesses(*(np.concatenate([a, b]) for a, b in zip(self._fields(), other._fields())))

    def of(self, rows: np.ndarray) -> Guesses:
        """The guesses for the objects ``rows`` only."""
        keep = np.isin(self.owner, rows)
        return Guesses(*(field[keep] for field in self._fields()))

    def _fields(self):
        return self.owner, self.points, self.caps


def guessed_pairs(guesses: Guesses, diameters, sizes, now_centres, now_diameters, now_sizes,
                   reach: float):  # fmt: skip
    """(rows of the objects guessed for, rows of the objects now, cost: their distance in
    mean diameters): each pair within its guess's cap and of sizes within
    :data:`MAX_SIZE_RATIO`, at the cost of its nearest guess. ``reach``: pixels."""
    from scipy.spatial import cKDTree

    nothing = np.zeros(0, np.int64)
    if not len(guesses.owner) or not len(now_centres):
        return nothing, nothing, np.zeros(0)
    pairs = cKDTree(guesses.points).sparse_distance_matrix(
        cKDTree(now_centres), reach, output_type="ndarray")
    guess, cols = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
    rows = guesses.owner[guess]
    cost = pairs["v"] / ((diameters[rows] + now_diameters[cols]) / 2)
    ratio = now_sizes[cols] / sizes[rows]
    keep = (cost <= guesses.caps[guess]) & (ratio >= 1 / MAX_SIZE_RATIO) & (ratio <= MAX_SIZE_RATIO)
    rows, cols, cost = rows[keep], cols[keep], cost[keep]
    # (several guesses for one pair: the one it lies nearest counts)
    order = np.lexsort((cost, cols, rows))
    rows, cols, cost = rows[order], cols[order], cost[order]
    first = np.ones(len(rows), bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return rows[first], cols[first], cost[first]


def typical_reach(diameters_before: np.ndarray, diameters_now: np.ndarray) -> float:
    """The diameter that bounds a search: the largest object's, but (one giant object, a
    merged blob, must not make every pair of small ones a candidate) at most 4 typical."""
    typical = float(np.median(np.concatenate([diameters_before, diameters_now])))
    return min(max(diameters_before.max(), diameters_now.max()), 4 * typical)


def matched_by_motion(before: Objects, now: Objects, matches: dict[int, int], step_cap: float,
                       drift, guesses: Guesses | None = None) -> dict[int, int]:  # fmt: skip
    """Pairs of the objects not matched by overlap, by position: each object of ``before``
    looked for where ``guesses`` say (default: where the common drift takes it): the pairing with the least total distance (each in units of the pair's mean
    diameter) among the pairs at most ``step_cap`` diameters apart with sizes within
    :data:`MAX_SIZE_RATIO`, where leaving an object unpaired costs ``step_cap / 2`` (so
    two objects alone pair up to ``step_cap`` apart): a linear assignment, as LAP trackers
    solve it (``link_assignment``). Objects taken by overlap compete for none."""
    free_before = np.flatnonzero(~np.isin(before.ids, list(matches.values())))
    free_now = np.flatnonzero(~np.isin(now.ids, list(matches)))
    if not free_before.size or not free_now.size:
        return {}
    if guesses is None:
        guesses = Guesses.at(np.arange(len(before.ids)), before.centres + drift, step_cap)
    looked = guesses.of(free_before)
    diameters_before, diameters_now = before.diameters(), now.diameters()
    reach = step_cap * typical_reach(diameters_before[free_before], diameters_now[free_now])
    rows, cols, cost = guessed_pairs(looked, diameters_before, before.sizes, now.centres[free_now],
                                      diameters_now[free_now], now.sizes[free_now], reach)  # fmt: skip
    return {int(now.ids[free_now[c]]): int(before.ids[r])
            for r, c in assigned(rows, cols, cost, step_cap / 2)}  # fmt: skip


def step_gate(before: Objects, now: Objects, matches: dict[int, int], drift) -> float:
    """How far (in diameters) an object may have moved to be paired by position: a few
    times the typical step of the objects paired by overlap, once the drift is taken off
    (where objects barely move, a new object near one that left is not taken for it);
    unbounded where too few objects overlap to tell."""
    if len(matches) < MIN_DRIFT_OBJECTS:
        return np.inf
    # (in the dtype of the ids they are looked up among: uint64 ids past 2**63 fit no int64)
    new_ids = np.fromiter(matches, now.ids.dtype, len(matches))
    old_ids = np.fromiter(matches.values(), before.ids.dtype, len(matches))
    row_now, row_before = np.searchsorted(now.ids, new_ids), np.searchsorted(before.ids, old_ids)
    steps = np.linalg.norm(now.centres[row_now] - drift - before.centres[row_before], axis=1)
    diameters = (now.diameters()[row_now] + before.diameters()[row_before]) / 2
    return max(STEP_FACTOR * float(np.median(steps / diameters)), MIN_GATE)


def common_drift(before: Objects, now: Objects, rounds: int = 3) -> np.ndarray:
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
