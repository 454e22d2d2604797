"""A mark or unmark the user makes on purpose after an edit outlives the undo and redo of
that edit: an undo clears only the marks the edit added that no explicit mark touched since,
a redo marks only those again (QA: delete, mark the slice, undo: a hole of 24 unmarked
pixels in the slice, saved so)."""

from __future__ import annotations

import numpy as np

from unet_studio.app.corrections import delete_object_edit
from unet_studio.app.label_edit import LabelEdit
from unet_studio.app.reviewed import ReviewedRegions


def _nucleus_stack() -> np.ndarray:
    """(Z, Y, X) = (4, 30, 30): object 5 through planes 1-2 (deleting it marks its grown
    voxels, a mask per plane)."""
    labels = np.zeros((4, 30, 30), np.int32)
    labels[1:3, 10:16, 10:16] = 5
    return labels


def test_a_plane_marked_after_an_edit_stays_marked_when_the_edit_is_undone():
    regions = ReviewedRegions((4, 30, 30), edit_margin=2)
    added = regions.record_edit(delete_object_edit(_nucleus_stack(), 5))
    edit_marks = regions.mask.copy()
    assert edit_marks[1].any() and edit_marks[2].any()
    regions.mark_slice(1)  # (R over plane 1)
    regions.take_back(added)
    assert regions.mask[1].all()  # the user's plane, whole
    assert not regions.mask[2].any()  # the edit's own marks elsewhere: gone


def test_a_plane_unmarked_after_an_edit_stays_unmarked_when_it_is_redone():
    regions = ReviewedRegions((4, 30, 30), edit_margin=2)
    added = regions.record_edit(delete_object_edit(_nucleus_stack(), 5))
    edit_marks = regions.mask.copy()
    regions.mark_slice(2, reviewed=False)  # (Shift+R over plane 2)
    regions.take_back(added)
    assert not regions.any()
    again = regions.put_back(added)  # (the redo)
    np.testing.assert_array_equal(regions.mask[1], edit_marks[1])
    assert not regions.mask[2].any()
    regions.take_back(again)
    assert not regions.any()


def test_a_drawn_region_keeps_its_part_of_a_one_plane_edit_marks():
    labels = np.zeros((40, 40), np.int32)
    labels[10:20, 10:20] = 3
    regions = ReviewedRegions(labels.shape, edit_margin=2)
    added = regions.record_edit(delete_object_edit(labels, 3))  # (marks 8:22, 8:22)
    square = np.array([[0, 0], [0, 15], [15, 15], [15, 0]], float)
    regions.mark_polygon(square)  # (over a corner of the edit's marks)
    regions.take_back(added)
    drawn_alone = ReviewedRegions(labels.shape)
    drawn_alone.mark_polygon(square)
    np.testing.assert_array_equal(regions.mask, drawn_alone.mask)
    assert regions.mask[8:15, 8:15].all() and not regions.mask[16:22, 8:22].any()


def test_scattered_marks_of_an_edit_through_planes_keep_what_was_marked_since():
    """A few pixels far apart in big planes are marked as squares by flat indices."""
    shape = (2, 200, 200)
    at = (np.array([0, 0, 1, 1]), np.array([5, 150, 5, 150]), np.array([5, 150, 5, 150]))
    edit = LabelEdit(at, np.full(4, 7, np.int32), np.zeros(4, np.int32))
    regions = ReviewedRegions(shape, edit_margin=2)
    added = regions.record_edit(edit)
    assert regions.count() == 4 * 25
    corner = np.ones((1, 20, 20), bool)
    regions.mark_mask(corner, (slice(0, 1), slice(0, 20), slice(0, 20)))
    regions.take_back(added)
    expected = np.zeros(shape, bool)
    expected[0, :20, :20] = True
    np.testing.assert_array_equal(regions.mask, expected)
