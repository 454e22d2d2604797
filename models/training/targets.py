"""Training targets from label images: 3-class maps and the 2015 U-Net border weights.

Instance labels (0 background, every other integer one object) become the class map an
instance network is trained on: 0 background, 1 foreground (object interior), 2 boundary
(object pixels that touch another object or the background). Semantic labels are class
indices already and pass through.

Pixels outside the reviewed mask are *unknown*: they get the ignore class ``IGNORE`` and no
neighbour relation is drawn across them, so that the targets of reviewed pixels never depend
on the labels of unreviewed ones.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

IGNORE = -1
BACKGROUND, FOREGROUND, BOUNDARY = 0, 1, 2


def _axis_pairs(shape: tuple[int, ...], axis: int, shift: int):
    """Index pairs ``(a, b)`` of pixels ``shift`` apart along ``axis``."""
    lead = [slice(None)] * len(shape)
    lag = [slice(None)] * len(shape)
    lead[axis] = slice(shift, None)
    lag[axis] = slice(None, shape[axis] - shift)
    return tuple(lead), tuple(lag)


def boundary_mask(
    labels: np.ndarray,
    known: np.ndarray | None = None,
    *,
    width: int = 1,
    spatial_dims: int | None = None,
) -> np.ndarray:
    """Object pixels within ``width`` steps (along an axis) of a pixel with another label.

    labels: int ``(*lead, *spatial)``; only the last ``spatial_dims`` axes are neighbours
    (leading axes are independent slices, e.g. Z for a 2D network). ``known``: bool like
    ``labels``; pairs with an unknown pixel are skipped. Returns bool like ``labels``. The
    image edge is not a boundary: an object cut by the border stays foreground there.
    """
    spatial_dims = labels.ndim if spatial_dims is None else spatial_dims
    if width < 1:
        raise ValueError(f"boundary width must be >= 1, got {width}")
    out = np.zeros(labels.shape, dtype=bool)
    for axis in range(labels.ndim - spatial_dims, labels.ndim):
        for shift in range(1, min(width, labels.shape[axis] - 1) + 1):
            a, b = _axis_pairs(labels.shape, axis, shift)
            differ = labels[a] != labels[b]
            if known is not None:
                differ &= known[a] & known[b]
            out[a] |= differ
            out[b] |= differ
    return out & (labels > 0)


def instance_targets(
    labels: np.ndarray,
    reviewed: np.ndarray | None = None,
    *,
    boundary_width: int = 1,
    spatial_dims: int | None = None,
) -> np.ndarray:
    """Class map 0 background / 1 foreground / 2 boundary, ``IGNORE`` where not reviewed.

    labels: int ``(*lead, *spatial)`` instance labels; reviewed: bool of the same shape or
    None (all reviewed). Returns int64 of the same shape.
    """
    labels = np.asarray(labels)
    target = (labels > 0).astype(np.int64)
    target[boundary_mask(labels, reviewed, width=boundary_width, spatial_dims=spatial_dims)] = (
        BOUNDARY
    )
    if reviewed is not None:
        target[~reviewed] = IGNORE
    return target


def unknown_class_mask(labels: np.ndarray, reviewed: np.ndarray | None = None, *,
                       num_classes: int) -> np.ndarray:
    """Reviewed pixels whose label is no class index ``0..num_classes - 1`` (bool like
    ``labels``): a stray id painted into a class map (a "New label id" press, say)."""
    labels = np.asarray(labels)
    bad = (labels < 0) | (labels >= max(num_classes, 2))
    return bad if reviewed is None else bad & reviewed


def semantic_targets(labels: np.ndarray, reviewed: np.ndarray | None = None, *, num_classes: int,
                     unknown: str = "raise"):
    """Class indices pass through; ``IGNORE`` where not reviewed. Returns int64 like labels.

    A reviewed label outside ``0..num_classes - 1`` raises ValueError, or with
    ``unknown="ignore"`` is treated as not reviewed (the caller reports it: see
    ``harvest.unknown_class_notes``)."""
    target = np.asarray(labels).astype(np.int64)
    bad = unknown_class_mask(target, reviewed, num_classes=num_classes)
    if bad.any() and unknown != "ignore":
        found = np.unique(target[bad])[:5].tolist()
        raise ValueError(f"semantic labels must lie in 0..{max(num_classes, 2) - 1}, found {found}")
    if reviewed is not None:
        target[~reviewed] = IGNORE
    target[bad] = IGNORE
    return target


def _two_nearest_object_distances(labels: np.ndarray, reach: float, sampling=None):
    """Distances ``(d1, d2)`` from every pixel to its nearest and second-nearest object.

    One bounded distance transform per object (over its bounding box grown by ``reach``),
    so the cost follows object area, not image area times object count. Distances beyond
    ``reach`` are reported as ``inf``. labels: int ``(*spatial)``.
    """
    d1 = np.full(labels.shape, np.inf, dtype=np.float32)
    d2 = np.full(labels.shape, np.inf, dtype=np.float32)
    grow = int(np.ceil(reach))
    for index, box in enumerate(ndi.find_objects(labels)):
        if box is None:
            continue
        window = tuple(
            slice(max(s.start - grow, 0), min(s.stop + grow, n))
            for s, n in zip(box, labels.shape)
        )
        outside = labels[window] != index + 1
        dist = ndi.distance_transform_edt(outside, sampling=sampling).astype(np.float32)
        dist[dist > reach] = np.inf
        first, second = d1[window], d2[window]
        np.minimum(second, np.maximum(first, dist), out=second)
        np.minimum(first, dist, out=first)
    return d1, d2


def _sequential(labels: np.ndarray) -> np.ndarray:
    """Objects renumbered 1..n (0 stays background), so ``find_objects`` stays small."""
    ids, inverse = np.unique(labels, return_inverse=True)
    inverse = inverse.reshape(labels.shape)
    if ids.size and ids[0] > 0:
        inverse += 1
    else:
        inverse[labels <= 0] = 0
    return inverse.astype(np.int32)


def border_weights(
    labels: np.ndarray,
    *,
    w0: float = 10.0,
    sigma: float = 5.0,
    class_weight: float = 1.0,
    spatial_dims: int | None = None,
) -> np.ndarray:
    """The 2015 U-Net weight map ``w = w_c + w0 * exp(-(d1 + d2)^2 / (2 sigma^2))``.

    ``d1``/``d2``: distances (pixels) to the nearest and second-nearest object, so the
    weight peaks in the narrow gaps and seams between touching objects, where a network
    most easily merges them. labels: int ``(*lead, *spatial)``; leading axes beyond
    ``spatial_dims`` are independent slices. ``w0 == 0`` gives a constant map. Returns
    float32 like labels.
    """
    labels = np.asarray(labels)
    spatial_dims = labels.ndim if spatial_dims is None else spatial_dims
    weights = np.full(labels.shape, class_weight, dtype=np.float32)
    if w0 <= 0:
        return weights
    if sigma <= 0:
        raise ValueError(f"border sigma must be > 0 pixels, got {sigma}")
    # Beyond d1 + d2 = 3 sigma the term is < 1.2 % of w0: no need to measure further.
    reach = 3.0 * sigma
    lead_shape = labels.shape[: labels.ndim - spatial_dims]
    for lead in np.ndindex(*lead_shape):
        plane = _sequential(labels[lead])
        if plane.max(initial=0) <= 0:
            continue
        d1, d2 = _two_nearest_object_distances(plane, reach)
        weights[lead] += w0 * np.exp(-((d1 + d2) ** 2) / (2.0 * sigma**2))
    return weights
