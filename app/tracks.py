"""Tracks of the objects of a time series: where each object (one id over time, see
``models.time_links``) is at each time point, for napari's Tracks layer. Qt-free; read a
slab at a time like the measurements it comes from (``app.measure``)."""

from __future__ import annotations

from collections.abc import Generator

import numpy as np

from unet_studio.app.errors import UserError
from unet_studio.app.measure import iter_measure


def iter_tracks(labels, *, axes: str) -> Generator[float, None, np.ndarray]:
    """Yields the fraction done; returns the tracks as napari's Tracks layer takes them:
    ``(N, 2 + spatial)`` float rows ``(id, t, *centroid)``, the centroid in the labels'
    axis order (pixel indices), sorted by id then time. Only ids found at two time points
    or more make a track. ``labels``: array-like with ``axes`` (over "TZYX", with T)."""
    if "T" not in axes:
        raise UserError("tracks need a time series: these labels have no T axis")
    rows = yield from iter_measure(labels, axes=axes)
    spatial = [a for a in axes if a != "T"]
    table = np.asarray([[row["label"], row["frame"], *(row[f"centroid_{a.lower()}"] for a in spatial)]
                        for row in rows], float).reshape(-1, 2 + len(spatial))
    ids, counts = np.unique(table[:, 0], return_counts=True)
    table = table[np.isin(table[:, 0], ids[counts >= 2])]
    return table[np.lexsort((table[:, 1], table[:, 0]))]
