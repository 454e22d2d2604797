"""Edits of every object as generators: a slab at a time gives the whole array's edit, and
they yield often enough to be stopped."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from unet_studio.app import stack_edits
from unet_studio.app.stack_edits import (
    iter_fill_holes_edit,
    iter_interpolate_all_edit,
    iter_relabel_sequential_edit,
)
from unet_studio.models.generators import drain


def _blobs(shape, seed=0, dtype=np.int32, spacing=3):
    """Random blobs with pinholes, their ids spaced (not 1..N)."""
    rng = np.random.default_rng(seed)
    labels, _ = ndi.label(ndi.gaussian_filter(rng.random(shape), 1.5) > 0.5)
    labels[rng.random(shape) < 0.08] = 0
    return (labels * spacing).astype(dtype)


def _steps(generator) -> tuple[int, object]:
    """(how many times ``generator`` yielded, what it returned)."""
    count = 0
    while True:
        try:
            next(generator)
        except StopIteration as stop:
            return count, stop.value
        count += 1


def _assert_same_edit(a, b):
    for i, j in zip(a.indices, b.indices, strict=True):
        np.testing.assert_array_equal(i, j)
    np.testing.assert_array_equal(a.old_values, b.old_values)
    np.testing.assert_array_equal(a.new_values, b.new_values)
    assert a.new_values.dtype == b.new_values.dtype and a.description == b.description


@pytest.mark.parametrize("shape, dtype", [((6, 30, 40), np.int32), ((3, 4, 20, 24), np.uint16),
                                          ((50, 60), np.uint64)])
def test_a_slab_at_a_time_gives_the_whole_arrays_edit(monkeypatch, shape, dtype):
    """Renumbering and filling holes (per plane, per time point, or of 2D labels) read in
    slabs of one plane (a few rows in 2D) list the pixels and values of one whole-array
    pass, in the same order; one step per slab."""
    labels = _blobs(shape, dtype=dtype)
    per_slice = len(shape) >= 3
    monkeypatch.setattr(stack_edits, "SLAB_PIXELS", 1 << 30)
    whole = [_steps(iter_relabel_sequential_edit(labels)),
             _steps(iter_fill_holes_edit(labels, per_slice=per_slice))]
    monkeypatch.setattr(stack_edits, "SLAB_PIXELS", labels[0].size if per_slice else 7 * shape[1])
    slabs = [_steps(iter_relabel_sequential_edit(labels)),
             _steps(iter_fill_holes_edit(labels, per_slice=per_slice))]
    for (_, a), (_, b) in zip(whole, slabs):
        assert a.size > 10  # (there was something to do)
        _assert_same_edit(a, b)
    runs = -(-shape[0] // (1 if per_slice else 7))
    assert slabs[0][0] == 3 * runs  # (the id range, the ids in use, the new ids)
    assert slabs[1][0] == (shape[0] if per_slice else 1)


def test_ids_far_beyond_the_pixel_count_are_renumbered_too():
    """(sorted instead of marked in an array of one flag per id)"""
    labels = np.zeros((4, 10, 10), np.int64)
    labels[0, :2, :2], labels[1, 4:6, 4:6], labels[3, 8:, 8:] = 2**40, 5, 7
    out = labels.copy()
    drain(iter_relabel_sequential_edit(labels)).apply_to(out)
    assert out[0, 0, 0] == 3 and out[1, 4, 4] == 1 and out[3, 9, 9] == 2


def test_filling_between_slices_of_every_object_takes_one_step_per_object():
    labels = np.zeros((7, 20, 20), np.int32)
    labels[0, 2:6, 2:6] = labels[6, 2:6, 2:6] = 1
    labels[1, 10:14, 10:14] = labels[5, 10:14, 10:14] = 4
    labels[:, 15:18, 15:18] = 6  # on every slice: nothing to fill
    count, (edit, filled) = _steps(iter_interpolate_all_edit(labels, 0))
    assert filled == 2 and count == 1 + 3  # (the boxes, then one per object)
    out = labels.copy()
    edit.apply_to(out)
    assert (out[1:6, 2:6, 2:6] == 1).all() and (out[2:5, 10:14, 10:14] == 4).all()
    edit, filled = drain(iter_interpolate_all_edit(out, 0))
    assert filled == 0 and edit.is_empty and edit.ndim == 3
