"""Object-level segmentation scores: matching predicted to true objects by IoU.

Conventions follow StarDist / cellpose: a predicted and a true object match when their IoU
reaches the threshold, each object matching at most once (optimal assignment); then
``ap = TP / (TP + FP + FN)`` (the "average precision" of the 2018 DSB challenge) and
``f1 = 2 TP / (2 TP + FP + FN)``. For thresholds >= 0.5 a match is unique by construction
(two objects cannot both overlap a third by more than half of their union), so the
assignment is only needed to break exact ties.

Works for label images of any dimension (2D, 3D): everything goes through one contingency
table of overlapping (pred, true) pairs, built with ``np.unique`` on pixel pairs.
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
    iou = counts / (area_p[pi] + area_t[ti] - counts)
    return Overlaps(pi - 1, ti - 1, iou.astype(np.float64), n_pred, n_true)


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
    overlaps = object_overlaps(pred, true)
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
    totals: dict = {}
    for pred, true in pairs:
        for key, value in object_counts(pred, true, thresholds).items():
            totals[key] = totals.get(key, 0) + value
    if not totals:
        raise ValueError("no label images to score")
    return scores_from_totals(totals, thresholds)


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
