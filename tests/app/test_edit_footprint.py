"""What an edit marks as reviewed: boxes for an edit in one plane, the edit's own pixels
grown in each plane for one through several (a 3D object, time points)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from unet_studio.app import edit_footprint
from unet_studio.app.corrections import delete_object_edit
from unet_studio.app.edit_footprint import edit_marks, mark_footprint
from unet_studio.app.label_edit import LabelEdit, diff_labels
from unet_studio.app.reviewed import ReviewedRegions


def _grown(mask: np.ndarray, margin: int) -> np.ndarray:
    """The expected marks, by another route: each plane's pixels dilated by a square."""
    structure = np.zeros((3,) * (mask.ndim - 2) + (2 * margin + 1,) * 2, bool)
    structure[(1,) * (mask.ndim - 2)] = True  # (the plane only: no other slice or frame)
    return ndi.binary_dilation(mask, structure)


def _marked(edit: LabelEdit, shape, margin: int) -> np.ndarray:
    reviewed = np.zeros(shape, bool)
    for region, footprint in edit_marks(edit, shape, margin):
        mark_footprint(reviewed[region], footprint)
    return reviewed


def _leaning_nucleus() -> np.ndarray:
    """(Z, Y, X) labels: an L-shaped nucleus 5 leaning across 8 planes, with a nucleus 9
    in the crook of the L (inside 5's box in each plane, apart from 5)."""
    labels = np.zeros((10, 48, 48), np.int32)
    for z in range(1, 9):
        corner = 2 + 3 * z
        labels[z, corner : corner + 11, corner : corner + 3] = 5
        labels[z, corner : corner + 3, corner : corner + 13] = 5
        labels[z, corner + 6 : corner + 10, corner + 6 : corner + 10] = 9
    return labels


def test_deleting_a_3d_object_marks_its_voxels_grown_in_each_plane_not_its_box():
    labels = _leaning_nucleus()
    regions = ReviewedRegions(labels.shape, edit_margin=2)
    regions.record_edit(delete_object_edit(labels, 5))
    np.testing.assert_array_equal(regions.mask, _grown(labels == 5, 2))
    assert not regions.mask[labels == 9].any()  # the neighbour was never looked at
    assert not regions.mask[0].any() and not regions.mask[9].any()  # nor other planes
    assert regions.changed.sum() == (labels == 5).sum()


@pytest.mark.parametrize("scattered", [0, 1 << 30])  # every plane grown in its box / as squares
def test_both_ways_of_growing_give_the_same_marks_in_any_pixel_order(scattered, monkeypatch):
    monkeypatch.setattr(edit_footprint, "SCATTERED", scattered)
    rng = np.random.default_rng(3)
    before = np.zeros((2, 4, 30, 31), np.int32)  # (T, Z, Y, X)
    after = before.copy()
    after[rng.random(before.shape) < 0.02] = 7
    after[1, 2, 0:6, 25:31] = 8  # (at the edges: nothing grown past them)
    edit = diff_labels(before, after)
    expected = _grown(after != 0, 3)
    np.testing.assert_array_equal(_marked(edit, before.shape, 3), expected)
    shuffled = rng.permutation(edit.size)  # (a host's own order)
    edit = LabelEdit(tuple(i[shuffled] for i in edit.indices), edit.old_values[shuffled],
                     edit.new_values[shuffled])  # fmt: skip
    np.testing.assert_array_equal(_marked(edit, before.shape, 3), expected)


def test_an_edit_in_one_plane_still_marks_the_box_the_user_looked_at():
    """A stroke in the slice on screen (as napari's 2D brush paints a 3D stack): the box
    around it in that plane, grown by the margin; a 2D image likewise."""
    before = np.zeros((5, 30, 30), np.int32)
    after = before.copy()
    after[3, 5, 5:20] = after[3, 5:20, 5] = 4  # an L: its box is much more than its pixels
    marked = _marked(diff_labels(before, after), before.shape, 2)
    expected = np.zeros(before.shape, bool)
    expected[3, 3:22, 3:22] = True
    np.testing.assert_array_equal(marked, expected)
    np.testing.assert_array_equal(_marked(diff_labels(before[3], after[3]), (30, 30), 2),
                                  expected[3])  # fmt: skip


def test_marking_returns_only_what_was_new_and_undo_keeps_what_was_marked_before():
    labels = _leaning_nucleus()
    regions = ReviewedRegions(labels.shape)
    regions.mark_slice(4)
    before = regions.mask.copy()
    added = regions.record_edit(delete_object_edit(labels, 5))
    assert regions.mask[3].any() and regions.mask[4].all()
    regions.take_back(added)
    np.testing.assert_array_equal(regions.mask, before)


def test_marks_found_beforehand_in_another_thread_mark_the_same():
    """A worker may find the marks of a whole-stack edit off the GUI thread."""
    from concurrent.futures import ThreadPoolExecutor

    labels = _leaning_nucleus()
    edit = delete_object_edit(labels, 5)
    direct, ahead = ReviewedRegions(labels.shape), ReviewedRegions(labels.shape)
    direct.record_edit(edit)
    with ThreadPoolExecutor(1) as pool:
        marks = pool.submit(ahead.marks_for, edit).result()
    added = ahead.record_edit(edit, marks)
    np.testing.assert_array_equal(ahead.mask, direct.mask)
    ahead.take_back(added)
    assert not ahead.any()
