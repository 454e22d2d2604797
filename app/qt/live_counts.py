"""Counting the objects a finished Segment run's region shows, and of them those the user's
reviewed pixels kept (the Segment panel's done line), a slab at a time.

Apart from ``live_labels`` because it needs nothing of a run: the streamed destination
counts its region with it on the worker thread, and ``segment_results`` counts a finished
result merged on the GUI thread the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ObjectsShown:
    """The objects of a finished run's region as shown: ``per_group`` counts those of each
    time point (one entry without a T axis); ``kept`` those with reviewed pixels (the
    user's corrections, kept instead of the prediction there), over all time points."""

    per_group: list[int]
    kept: int


def objects_shown(labels: np.ndarray, kept: np.ndarray, time_axis: int | None) -> ObjectsShown:
    """Count the objects of ``labels`` (a region of the live labels) and of them those
    touching ``kept`` (its reviewed pixels, same shape), per time point along ``time_axis``."""
    groups = [(slice(None),) * time_axis + (t,) for t in range(labels.shape[time_axis])] \
        if time_axis is not None else [()]
    per_group, kept_count = [], 0
    for group in groups:
        ids, kept_ids = _ids_in_slabs(labels[group], kept[group])
        per_group.append(len(ids))
        kept_count += len(kept_ids)
    return ObjectsShown(per_group, kept_count)


def _ids_in_slabs(labels: np.ndarray, kept: np.ndarray) -> tuple[set[int], set[int]]:
    """The nonzero ids of ``labels`` and those of its ``kept`` pixels, a slab of planes at a
    time (a whole stack's labels may not fit in memory twice)."""
    from unet_studio.models.slab_label import slabs

    if labels.ndim == 0 or labels.size == 0:
        return set(), set()
    ids: set[int] = set()
    kept_ids: set[int] = set()
    for core, _ in slabs(labels.shape, 1 << 22):
        block = np.asarray(labels[core])
        ids.update(_nonzero_ids(block))
        kept_ids.update(_nonzero_ids(block[kept[core]]))
    return ids, kept_ids


def _nonzero_ids(values: np.ndarray) -> list[int]:
    """Distinct nonzero values; a histogram where the ids are small (faster than sorting)."""
    if values.size == 0:
        return []
    top = int(values.max())
    if 0 <= int(values.min()) and top < 1 << 24:
        present = np.flatnonzero(np.bincount(values.ravel(), minlength=top + 1))
    else:
        present = np.unique(values)
    return [int(i) for i in present if i != 0]
