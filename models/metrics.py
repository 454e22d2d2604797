"""Object-level segmentation scores: matching predicted to true objects by IoU.

Conventions follow StarDist / cellpose: a predicted and a true object match when their IoU
reaches the threshold, each object matching at most once (optimal assignment); then
``ap = TP / (TP + FP + FN)`` (the "average precision" of the 2018 DSB challenge) and
``f1 = 2 TP / (2 TP + FP + FN)``. For thresholds >= 0.5 a match is unique by construction
(two objects cannot both overlap a third by more than half of their union), so the
assignment is only needed to break exact ties.

Works for label images of any dimension (2D, 3D): everything goes through one contingency
table of overlapping (pred, true) pairs: built with ``np.unique`` on pixel pairs for images in
memory (:func:`object_overlaps`), or block by block for images larger than memory should hold
(:class:`OverlapTable`), with the same result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Overlaps:
    """Overlapping object pairs. ``pred``/``true``: indices into the sorted object ids
    (0-based) of each pair; ``iou``: the pair's IoU; ``n_pred``/``n_true``: object counts."""

    pred: np.ndarray
    true: np.ndarray
    iou: np.ndarray
    n_pred: int
    n_true: int


def _sequential(labels: np.ndarray) -> tuple[np.ndarray, int]:
    """Objects renumbered 1..n (0 = background) and n."""
    ids, inverse = np.unique(labels, return_inverse=True)
    inverse = inverse.reshape(-1)
    has_background = ids.size > 0 and ids[0] == 0
    if not has_background:
        inverse = inverse + 1
    return inverse.astype(np.int64), int(ids.size - has_background)


def object_overlaps(pred: np.ndarray, true: np.ndarray) -> Overlaps:
    """Contingency table of ``pred`` and ``true`` label images (same shape, 0 background)."""
    pred, true = np.asarray(pred), np.asarray(true)
    if pred.shape != true.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from ground truth {true.shape}")
    if np.any(pred < 0) or np.any(true < 0):
        raise ValueError("label images must not contain negative ids")
    p, n_pred = _sequential(pred)
    t, n_true = _sequential(true)
    area_p = np.bincount(p, minlength=n_pred + 1)
    area_t = np.bincount(t, minlength=n_true + 1)
    both = (p > 0) & (t > 0)
    keys, counts = np.unique(p[both] * (n_true + 1) + t[both], return_counts=True)
    pi, ti = keys // (n_true + 1), keys % (n_true + 1)
    return _overlaps_of(pi - 1, ti - 1, counts, area_p[1:], area_t[1:])


def _overlaps_of(pred_index: np.ndarray, true_index: np.ndarray, counts: np.ndarray,
                 pred_areas: np.ndarray, true_areas: np.ndarray) -> Overlaps:
    """Overlaps from a contingency table: pixel ``counts`` of the pairs (``pred_index``,
    ``true_index``: 0-based positions among the sorted ids, pairs in that order) and the
    objects' areas (integers, so that the IoU does not depend on how they were summed)."""
    iou = counts / (pred_areas[pred_index] + true_areas[true_index] - counts)
    return Overlaps(pred_index, true_index, iou.astype(np.float64), int(pred_areas.size),
                    int(true_areas.size))


# ---- the contingency table built block by block --------------------------------------------
# A running table merges the parts added to it (a sort of the whole table) once they are as
# many rows as it holds, but not for fewer than this: ~1.5 MB of pairs waiting at most.
_MERGE_ABOVE_ROWS = 2**16
_LARGEST_ID = int(np.iinfo(np.int64).max)


class OverlapTable:
    """The contingency table of a predicted and a true label image, summed over blocks of
    their pixels: any partition, in any order (slabs of planes, tiles), added with
    :meth:`add`. :meth:`overlaps` then equals :func:`object_overlaps` of the whole images,
    while memory holds one block's working arrays and tables as long as the number of
    objects and overlapping pairs, never the images. One table per frame of a time series.
    """

    def __init__(self):
        self._pred_areas = _SumsByKey(1)
        self._true_areas = _SumsByKey(1)
        self._pairs = _SumsByKey(2)

    def add(self, pred: np.ndarray, true: np.ndarray) -> None:
        """Add the same block of both images (same shape; integer or bool ids >= 0)."""
        pred, true = np.asarray(pred), np.asarray(true)
        if pred.shape != true.shape:
            raise ValueError(f"prediction block {pred.shape} differs from ground truth {true.shape}")
        for block in (pred, true):
            if block.dtype.kind not in "iub":
                raise ValueError(f"label images must hold integer ids, not {block.dtype}")
        pred, true = pred.reshape(-1), true.reshape(-1)
        for areas, block in ((self._pred_areas, pred), (self._true_areas, true)):
            (ids,), lengths = _runs(block)
            objects = ids > 0
            areas.add((ids[objects],), lengths[objects])
        both = (pred > 0) & (true > 0)
        keys, lengths = _runs(pred[both], true[both])
        self._pairs.add(keys, lengths)

    def overlaps(self) -> Overlaps:
        """:class:`Overlaps` of everything added (pairs sorted by pred id, then true id, as
        :func:`object_overlaps` gives them)."""
        (pred_ids,), pred_areas = self._pred_areas.totals()
        (true_ids,), true_areas = self._true_areas.totals()
        (pair_pred, pair_true), counts = self._pairs.totals()
        return _overlaps_of(np.searchsorted(pred_ids, pair_pred),
                            np.searchsorted(true_ids, pair_true), counts, pred_areas, true_areas)


def _runs(*columns: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Runs of equal consecutive rows of ``columns`` (1D, same length): each run's values
    (int64) and length. Objects are compact, so a block has far fewer runs than pixels and
    summing runs is much cheaper than sorting pixels."""
    size = columns[0].size
    if not size:
        return tuple(np.zeros(0, np.int64) for _ in columns), np.zeros(0, np.int64)
    starts = np.ones(size, bool)
    for column in columns:
        starts[1:] &= column[1:] == column[:-1]
    np.logical_not(starts[1:], out=starts[1:])  # (starts[0] stays: the first run)
    first = np.flatnonzero(starts)
    return tuple(_ids(column[first]) for column in columns), np.diff(first, append=size)


def _ids(values: np.ndarray) -> np.ndarray:
    """``values`` as int64 ids; ValueError for ids int64 cannot hold or that are negative."""
    if values.dtype == np.uint64 and values.size and int(values.max()) > _LARGEST_ID:
        raise ValueError(f"label ids must not exceed {_LARGEST_ID}")
    ids = values.astype(np.int64)
    if ids.size and int(ids.min()) < 0:
        raise ValueError("label images must not contain negative ids")
    return ids


class _SumsByKey:
    """Counts summed per key (one or two int64 ids), sorted by key. Each part added is summed
    on its own (a block's runs become its objects or pairs), then kept until the parts are
    as many rows as the table (and at least ``_MERGE_ABOVE_ROWS``): merging then sorts each
    row a few times in all, not once per block, and the parts waiting stay within a constant
    factor of the table."""

    def __init__(self, width: int):
        self._keys = tuple(np.zeros(0, np.int64) for _ in range(width))
        self._counts = np.zeros(0, np.int64)
        self._parts: list[tuple[tuple[np.ndarray, ...], np.ndarray]] = []
        self._pending = 0

    def add(self, keys: tuple[np.ndarray, ...], counts: np.ndarray) -> None:
        if not counts.size:
            return
        keys, counts = _sum_by_key(keys, counts)
        self._parts.append((keys, counts))
        self._pending += counts.size
        if self._pending >= max(self._counts.size, _MERGE_ABOVE_ROWS):
            self._merge()

    def totals(self) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
        """(key columns, counts), one row per distinct key, sorted by key."""
        self._merge()
        return self._keys, self._counts

    def _merge(self) -> None:
        if not self._parts:
            return
        keys = tuple(np.concatenate([column, *(part[0][i] for part in self._parts)])
                     for i, column in enumerate(self._keys))
        counts = np.concatenate([self._counts, *(part[1] for part in self._parts)])
        self._keys, self._counts = _sum_by_key(keys, counts)
        self._parts, self._pending = [], 0


def _sum_by_key(keys: tuple[np.ndarray, ...], counts: np.ndarray):
    """Rows with the same key merged, their counts added; sorted by key (first column first)."""
    order = np.lexsort(keys[::-1])  # (lexsort sorts by its last key first)
    keys = tuple(column[order] for column in keys)
    first = np.ones(counts.size, bool)
    for column in keys:
        first[1:] &= column[1:] == column[:-1]
    np.logical_not(first[1:], out=first[1:])
    starts = np.flatnonzero(first)
    return tuple(column[starts] for column in keys), np.add.reduceat(counts[order], starts)


def match(overlaps: Overlaps, threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-to-one matches with IoU >= ``threshold``: (pred indices, true indices, ious)."""
    keep = overlaps.iou >= threshold
    pred, true, iou = overlaps.pred[keep], overlaps.true[keep], overlaps.iou[keep]
    unique = np.unique(pred).size == pred.size and np.unique(true).size == true.size
    if unique:
        return pred, true, iou
    from scipy.optimize import linear_sum_assignment

    # Ties (or a threshold below 0.5): optimal assignment over the candidate objects only.
    rows, row_index = np.unique(pred, return_inverse=True)
    cols, col_index = np.unique(true, return_inverse=True)
    table = np.zeros((rows.size, cols.size))
    table[row_index, col_index] = iou
    r, c = linear_sum_assignment(table, maximize=True)
    ok = table[r, c] >= threshold
    return rows[r[ok]], cols[c[ok]], table[r[ok], c[ok]]


def _ratio(numerator: float, denominator: float) -> float:
    # Nothing to find and nothing found is perfect agreement.
    return 1.0 if denominator == 0 else float(numerator) / float(denominator)


def scores_from_counts(tp: int, n_pred: int, n_true: int) -> dict:
    fp, fn = n_pred - tp, n_true - tp
    return {"f1": _ratio(2 * tp, 2 * tp + fp + fn), "ap": _ratio(tp, tp + fp + fn),
            "precision": _ratio(tp, n_pred), "recall": _ratio(tp, n_true)}


def object_counts(pred, true, thresholds=(0.5, 0.75)) -> dict:
    """Additive counts for :func:`scores_from_totals`: tp per threshold, the matched IoU sum at
    the first threshold, n_pred, n_true."""
    return match_counts(object_overlaps(pred, true), thresholds)


def match_counts(overlaps: Overlaps, thresholds=(0.5, 0.75)) -> dict:
    """:func:`object_counts` of a contingency table (e.g. one :class:`OverlapTable` built)."""
    counts = {"n_pred": overlaps.n_pred, "n_true": overlaps.n_true}
    for index, threshold in enumerate(thresholds):
        _, _, iou = match(overlaps, threshold)
        counts[f"tp_{round(threshold * 100)}"] = int(iou.size)
        if index == 0:
            counts["matched_iou_sum"] = float(iou.sum())
    return counts


def scores_from_totals(totals: dict, thresholds=(0.5, 0.75)) -> dict:
    """Scores from (summed) :func:`object_counts`: ``f1_50``, ``ap_50``, ... and
    ``mean_matched_iou`` (mean IoU of the matches at the first threshold)."""
    result = {}
    for threshold in thresholds:
        tag = round(threshold * 100)
        tp = totals[f"tp_{tag}"]
        for name, value in scores_from_counts(tp, totals["n_pred"], totals["n_true"]).items():
            result[f"{name}_{tag}"] = value
    first = totals[f"tp_{round(thresholds[0] * 100)}"]
    result["mean_matched_iou"] = totals["matched_iou_sum"] / first if first else 0.0
    result["n_pred"], result["n_true"] = int(totals["n_pred"]), int(totals["n_true"])
    return result


def object_scores(pred: np.ndarray, true: np.ndarray, thresholds=(0.5, 0.75)) -> dict:
    """Object scores of one label image against its ground truth (2D or 3D, same shape).

    Returns ``f1_50``, ``f1_75``, ``ap_50``, ``ap_75`` (and precision/recall per threshold),
    ``mean_matched_iou`` (over matches at IoU 0.5), ``n_pred``, ``n_true``.
    """
    return scores_from_totals(object_counts(pred, true, thresholds), thresholds)


def object_scores_many(pairs: Iterable[tuple[np.ndarray, np.ndarray]],
                       thresholds=(0.5, 0.75)) -> dict:
    """Scores over several (pred, true) pairs, e.g. the frames of a time series: matches are
    made per pair and counted together, so no object matches across frames."""
    counts = (object_counts(pred, true, thresholds) for pred, true in pairs)
    return scores_from_totals(summed_counts(counts), thresholds)


def summed_counts(per_frame: Iterable[dict]) -> dict:
    """The :func:`object_counts` of several frames added up, in order (for
    :func:`scores_from_totals`). ValueError when there are none."""
    totals: dict = {}
    for counts in per_frame:
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    if not totals:
        raise ValueError("no label images to score")
    return totals


def partition_agreement(reference: np.ndarray, labels: np.ndarray) -> float:
    """Share of the reference's object pixels on which ``labels`` agree once each object of
    ``labels`` is matched to the reference object it overlaps most: 1.0 when both hold the
    same objects (whatever their ids). For comparing two ways of computing one labelling."""
    fg = reference > 0
    pairs, counts = np.unique(np.stack([reference[fg], labels[fg]]), axis=1, return_counts=True)
    best: dict[int, int] = {}
    for (_, label), n in zip(pairs.T, counts):
        best[label] = max(best.get(label, 0), int(n))
    return sum(best.values()) / max(int(fg.sum()), 1)
