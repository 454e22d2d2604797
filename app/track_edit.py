"""Joining two tracks of a time series, or cutting one in two: a cell whose id changes from one time point to the
next (the linking lost it: it moved too far, or was missed for longer than a time point)
takes one id again.

The user picks the object before the break and the object after it (merge's picks, at two
time points, anywhere along either track); the later id is replaced by the earlier one at
every time point after the earlier pick, so "Show tracks" and the measurements follow one
cell. Refused where both ids are at one time point (two cells would share an id there).
Cutting is the converse: from the time point picked on, the object gets a fresh id (the
linking carried a track on to another cell). Either edit marks as reviewed only what it
changed at the picked time points (``LabelEdit.review_at``).
"""

from __future__ import annotations

import numpy as np

from unet_studio.app.errors import UserError
from unet_studio.app.label_edit import LabelEdit, empty_edit


def join_tracks_edit(labels, axis: int, picks: list[tuple[int, int]]) -> LabelEdit:
    """The edit giving the later of two picked objects the earlier one's id wherever it is
    after the earlier pick's time point. ``labels``: the whole time series (time along
    ``axis``); ``picks``: two (id, time point) pairs at different time points."""
    (early_id, early_t), (late_id, late_t) = sorted(picks, key=lambda pick: pick[1])
    if early_t == late_t:
        raise ValueError("the picks of a join are at two time points")
    description = f"join track {late_id} to {early_id}"
    if early_id == late_id:
        raise UserError(f"object {early_id} is one track already")
    indices, olds = [], []
    for t in range(early_t + 1, labels.shape[axis]):
        plane = np.asarray(labels[(slice(None),) * axis + (t,)])
        found = np.nonzero(plane == late_id)
        if found[0].size and (plane == early_id).any():
            raise UserError(f"object {early_id} goes on at time point {t}, where {late_id} is: "
                            "the tracks overlap in time; delete or split one of them first")  # fmt: skip
        if found[0].size:
            times = np.full(found[0].size, t, np.int64)
            indices.append((*found[:axis], times, *found[axis:]))
            olds.append(plane[found])
    if not indices:
        return empty_edit(labels.ndim, labels.dtype, description)
    # Marked reviewed at the picked time points only: a new id is no new outline, so the
    # time points after them, never looked at, are no evidence that their shapes are right.
    return _edit(indices, olds, early_id, labels, description, (axis, (early_t, late_t)))


def cut_track_edit(labels, axis: int, label: int, t: int, new_id: int) -> LabelEdit:
    """The edit giving ``label`` the id ``new_id`` at time point ``t`` and every later one:
    a track that the linking carried on to another cell (crowded cells moving far) is cut
    there, each part its own track."""
    description = f"cut track {label} at time point {t}"
    indices, olds = [], []
    for time in range(t, labels.shape[axis]):
        plane = np.asarray(labels[(slice(None),) * axis + (time,)])
        found = np.nonzero(plane == label)
        if found[0].size:
            indices.append((*found[:axis], np.full(found[0].size, time, np.int64), *found[axis:]))
            olds.append(plane[found])
    if not indices:
        return empty_edit(labels.ndim, labels.dtype, description)
    return _edit(indices, olds, new_id, labels, description, (axis, (t,)))  # (as a join)


def _edit(indices, olds, new_id: int, labels, description: str, review_at) -> LabelEdit:
    """One edit from the (indices, old values) found time point by time point."""
    joined = tuple(np.concatenate([index[a] for index in indices]).astype(np.int64)
                   for a in range(labels.ndim))  # fmt: skip
    old_values = np.concatenate(olds)
    new_values = np.full(old_values.shape, new_id, dtype=labels.dtype)
    return LabelEdit(joined, old_values, new_values, description, review_at)
