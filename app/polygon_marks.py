"""Where a polygon drawn in one plane of a stack lies in the mask of reviewed pixels: the
plane's mask, the region it is written into, and the area it covers when it is marked
through every plane along another axis. Geometry only; ``ReviewedRegions.mark_polygon``
writes the marks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def polygon_plane(shape: Sequence[int], vertices, plane_axes) -> tuple[list, np.ndarray, list[int]]:
    """``(region, plane, axes)`` of a polygon: ``vertices`` (N, ndim) data coordinates, as a
    napari Shapes polygon gives them, lying in ``plane_axes``; ``plane`` is its inside over
    ``axes`` (the plane axes in axis order, so the plane lies as ``mask[region]`` does) and
    ``region`` a slice or index per axis (the other axes at the first vertex)."""
    from skimage.draw import polygon2mask

    vertices = np.asarray(vertices, dtype=float)
    if vertices.ndim != 2 or vertices.shape[1] != len(shape) or len(vertices) < 3:
        raise ValueError(f"a polygon needs at least 3 vertices of {len(shape)} numbers")
    axes = sorted(a % len(shape) for a in plane_axes)
    plane = polygon2mask([shape[a] for a in axes], vertices[:, axes])
    region = [slice(None) if a in axes else clip_index(vertices[0, a], n)
              for a, n in enumerate(shape)]
    return region, plane, axes


def spread_through(plane: np.ndarray, axes: list[int], through: int, size: int) -> np.ndarray:
    """The area ``plane`` (over ``axes``) covers in every one of ``size`` planes along
    ``through``: a read-only broadcast, no copy per plane."""
    at = sum(a < through for a in axes)
    spread = list(plane.shape)
    spread.insert(at, size)
    return np.broadcast_to(np.expand_dims(plane, at), tuple(spread))


def clip_index(value: float, length: int) -> int:
    """The index nearest ``value`` within ``0..length-1``."""
    return int(min(max(np.floor(value + 0.5), 0), length - 1))
