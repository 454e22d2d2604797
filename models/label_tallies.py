"""What is counted per label of a label image: which labels a mask touches, how big the
objects are, and the size floors that drop specks.

Separate from the watershed (``models.postprocess``) because the seeds, the outlines and
the batched labelling all ask these questions of their own label images; each answer is one
``bincount`` or lookup, never a sort of every pixel by label.
"""

from __future__ import annotations

import numpy as np


def labels_where(mask: np.ndarray, labels: np.ndarray, count: int) -> np.ndarray:
    """Which of the labels 0..count have a pixel in ``mask`` (bool per label; sort-free,
    unlike ``ndi.maximum`` with an index, which sorts every pixel by label)."""
    found = np.zeros(count + 1, bool)
    found[labels[mask]] = True
    return found


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The value below which half the total weight lies (values and weights of equal length)."""
    order = np.argsort(values, kind="stable")
    covered = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(covered, covered[-1] / 2)])


def typical_object_size(labels: np.ndarray) -> float:
    """Size of the object that a typical object pixel belongs to (the pixel-weighted median
    of the object sizes), 0 without objects. Many tiny specks hardly move it: they hold
    few pixels, unlike a plain median, which they can drag down to their own size."""
    sizes = np.bincount(labels.ravel())[1:]
    sizes = sizes[sizes > 0]
    return weighted_median(sizes, sizes) if sizes.size else 0.0


def remove_small_objects(labels: np.ndarray, min_size: int) -> np.ndarray:
    """Labels with fewer than ``min_size`` pixels set to 0 (in place, returned)."""
    if min_size > 1 and labels.any():
        _remove_below(labels, np.bincount(labels.ravel()), min_size)
    return labels


def remove_small_relative(labels: np.ndarray, fraction: float) -> np.ndarray:
    """Labels smaller than ``fraction`` x ``typical_object_size`` set to 0 (in place, returned).

    A size floor that follows the data: specks of out-of-focus haze in a 3D stack are tiny
    next to its nuclei, whatever the magnification, while a fixed ``min_size`` right for one
    stack removes real nuclei in another.
    """
    if fraction > 0 and labels.any():
        sizes = np.bincount(labels.ravel())
        _remove_below(labels, sizes, fraction * typical_object_size(labels))
    return labels


def _remove_below(labels: np.ndarray, sizes: np.ndarray, floor: float) -> None:
    """Labels whose size (``sizes``, a bincount of ``labels``) is under ``floor`` set to 0."""
    small = sizes < floor
    small[0] = False
    labels[small[labels]] = 0
