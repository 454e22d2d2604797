"""Edits in a plane drawn by hand (labels started empty) mark their grown pixels, not the
box around them: the nuclei beside a painted one that are not painted yet are no reviewed
background. A plane holding a prediction keeps the box the user looked at."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from unet_studio.app.label_edit import LabelEdit, diff_labels
from unet_studio.app.reviewed import ReviewedRegions

MARGIN = 2
SHAPE = (2, 48, 64)  # (Z, Y, X): plane 0 predicted, plane 1 drawn by hand


def _l_shape(z: int, top: int, left: int) -> tuple[slice, ...]:
    """Index of an L-shaped object's two bars, ``(vertical, horizontal)`` (its box, grown
    by the margin, covers the crook at rows top+5..top+12, columns left+5..left+12)."""
    return ((z, slice(top, top + 16), slice(left, left + 3)),
            (z, slice(top, top + 3), slice(left, left + 16)))  # fmt: skip


def _paint(labels: np.ndarray, regions: ReviewedRegions, value: int, *parts) -> LabelEdit:
    """Paint ``parts`` of ``labels`` with ``value`` as one edit, applied, then recorded
    (as the session does: napari applied it before reporting it)."""
    after = labels.copy()
    for part in parts:
        after[part] = value
    edit = diff_labels(labels, after)
    edit.apply_to(labels)
    regions.record_edit(edit, labels=labels)
    return edit


def _grown(mask: np.ndarray) -> np.ndarray:
    """Each plane's pixels of ``mask`` grown by a square of the margin, in that plane."""
    structure = np.zeros((1, 2 * MARGIN + 1, 2 * MARGIN + 1), bool)
    structure[0] = True
    return ndi.binary_dilation(mask, structure)


def _crook(z: int, top: int, left: int) -> tuple[slice, ...]:
    """A nucleus not painted (0 in the labels) in the crook of the L at ``top, left``."""
    return z, slice(top + 5, top + 12), slice(left + 5, left + 12)


def test_objects_painted_in_an_empty_plane_mark_their_grown_pixels_only():
    labels = np.zeros(SHAPE, np.int32)
    regions = ReviewedRegions(SHAPE, edit_margin=MARGIN)
    _paint(labels, regions, 1, *_l_shape(1, 4, 4))  # the first object of the plane
    _paint(labels, regions, 2, *_l_shape(1, 24, 30))  # the second: the first one stays
    _paint(labels, regions, 3, (1, slice(4, 10), slice(40, 46)))  # a third, with the brush
    unpainted = np.zeros(SHAPE, bool)  # (two nuclei not painted yet, each in an L's crook)
    unpainted[_crook(1, 4, 4)] = unpainted[_crook(1, 24, 30)] = True
    assert not regions.mask[unpainted].any()
    np.testing.assert_array_equal(regions.mask, _grown(labels != 0))  # (a ring around each)
    assert not regions.mask[0].any()


def test_a_plane_holding_a_prediction_keeps_the_box_and_a_drawn_plane_its_pixels():
    labels = np.zeros(SHAPE, np.int32)
    labels[0, 30:40, 40:50] = 7  # predicted (the user never painted it)
    regions = ReviewedRegions(SHAPE, edit_margin=MARGIN)
    _paint(labels, regions, 1, *_l_shape(0, 4, 4))
    _paint(labels, regions, 1, *_l_shape(1, 4, 4))
    expected = np.zeros(SHAPE, bool)
    expected[0, 2:22, 2:22] = True  # the box the user looked at (the crook left as it is)
    expected[1] = _grown(labels == 1)[1]
    np.testing.assert_array_equal(regions.mask, expected)
    assert regions.mask[_crook(0, 4, 4)].all() and not regions.mask[_crook(1, 4, 4)].any()


def test_a_prediction_in_a_drawn_plane_makes_it_a_predicted_one():
    """Segment after the first objects were painted: its objects beside them are what the
    user looks at, and an edit there marks the box again."""
    labels = np.zeros(SHAPE, np.int32)
    regions = ReviewedRegions(SHAPE, edit_margin=MARGIN)
    _paint(labels, regions, 1, *_l_shape(1, 4, 4))
    labels[1, 30:40, 50:60] = 8  # (written by a prediction around the reviewed pixels)
    _paint(labels, regions, 2, *_l_shape(1, 24, 30))
    assert regions.mask[_crook(1, 24, 30)].all() and not regions.mask[_crook(1, 4, 4)].any()


def test_found_before_the_edit_is_applied_the_marks_are_the_same():
    """A worker finds the marks of an edit before napari applies it; correcting the only
    predicted object of a plane (its old values) says the plane holds a prediction."""
    labels = np.zeros(SHAPE, np.int32)
    labels[1, 10:30, 10:30] = 5  # predicted
    regions = ReviewedRegions(SHAPE, edit_margin=MARGIN)
    erased = labels.copy()
    erased[1, 10:30, 10:30] = 0
    edit = diff_labels(labels, erased)
    ahead = regions.marks_for(edit, labels)
    edit.apply_to(labels)
    assert len(ahead) == 1 and ahead[0][1] is None  # (a box: all of its region)
    assert [(region, None) for region, _ in regions.marks_for(edit, labels)] == ahead
    painted = np.zeros(SHAPE, np.int32)
    painted[1, 10:20, 10:12] = painted[1, 10:12, 10:20] = 3
    drawn = diff_labels(np.zeros(SHAPE, np.int32), painted)
    before = regions.marks_for(drawn, np.zeros(SHAPE, np.int32))
    after = regions.marks_for(drawn, painted)
    assert before[0][1] is not None  # (a footprint, not a box)
    assert [r for r, _ in before] == [r for r, _ in after]
    np.testing.assert_array_equal(before[0][1], after[0][1])


def test_undo_and_redo_take_back_and_make_again_a_drawn_edit_s_marks():
    labels = np.zeros(SHAPE, np.int32)
    regions = ReviewedRegions(SHAPE, edit_margin=MARGIN)
    _paint(labels, regions, 1, *_l_shape(1, 4, 4))
    after = labels.copy()
    after[_l_shape(1, 24, 30)[0]] = 2
    edit = diff_labels(labels, after)
    edit.apply_to(labels)
    added = regions.record_edit(edit, labels=labels)
    marked = regions.mask.copy()
    regions.take_back(added)
    np.testing.assert_array_equal(regions.mask, _grown(labels == 1))
    regions.put_back(added)
    np.testing.assert_array_equal(regions.mask, marked)


def test_a_stroke_reported_dab_by_dab_after_it_is_painted_is_drawn_by_hand():
    """napari reports a stroke's dabs once all of them are in the labels: the first one's
    plane then holds the later ones, not yet recorded, under the value it paints."""
    labels = np.zeros(SHAPE, np.int32)
    regions = ReviewedRegions(SHAPE, edit_margin=MARGIN)
    edits = []
    for dab in (_l_shape(1, 4, 4), [(1, slice(30, 36), slice(40, 46))]):
        after = labels.copy()
        for part in dab:
            after[part] = 1
        edits.append(diff_labels(labels, after))
        edits[-1].apply_to(labels)
    for edit in edits:
        regions.record_edit(edit, labels=labels)
    np.testing.assert_array_equal(regions.mask, _grown(labels != 0))
    assert not regions.mask[_crook(1, 4, 4)].any()

