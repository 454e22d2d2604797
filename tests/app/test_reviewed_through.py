"""A polygon marked through every plane of an axis (``ReviewedRegions.mark_polygon`` with
``through_axis``): its area in each plane, the other axes where it was drawn, kept by the
undo of an earlier edit (an explicit mark), and written plane by plane."""

from __future__ import annotations

import tracemalloc

import numpy as np

from unet_studio.app.corrections import delete_object_edit
from unet_studio.app.reviewed import ReviewedRegions

SQUARE_YX = np.array([[4, 4], [4, 12], [12, 12], [12, 4]], float)


def _drawn_at(*index) -> np.ndarray:
    """The square drawn in YX at ``index`` on the axes before Y and X."""
    return np.hstack([np.tile(np.array(index, float), (len(SQUARE_YX), 1)), SQUARE_YX])


def test_the_square_is_marked_in_every_z_plane_of_its_time_point_only():
    regions = ReviewedRegions((3, 5, 20, 20))  # (T, Z, Y, X)
    regions.mark_polygon(_drawn_at(1, 2), through_axis=1)
    one_plane = ReviewedRegions((20, 20))
    one_plane.mark_polygon(SQUARE_YX)
    for z in range(5):
        np.testing.assert_array_equal(regions.mask[1, z], one_plane.mask)
    assert not regions.mask[0].any() and not regions.mask[2].any()
    assert regions.count() == 5 * one_plane.count()


def test_marks_through_the_stack_outlive_the_undo_of_an_earlier_edit():
    labels = np.zeros((6, 20, 20), np.int32)
    labels[1:4, 6:10, 6:10] = 5  # (deleting it marks its grown voxels in planes 1-3)
    regions = ReviewedRegions(labels.shape, edit_margin=2)
    added = regions.record_edit(delete_object_edit(labels, 5))
    regions.mark_polygon(_drawn_at(2), through_axis=0)
    drawn_alone = ReviewedRegions(labels.shape)
    drawn_alone.mark_polygon(_drawn_at(2), through_axis=0)
    regions.take_back(added)  # (the delete undone: only its marks off the square go)
    np.testing.assert_array_equal(regions.mask, drawn_alone.mask)


def test_a_big_stack_is_marked_plane_by_plane():
    from skimage.draw import polygon2mask  # (imported before counting)

    regions = ReviewedRegions((500, 96, 96))  # (4.6 MB of mask; a plane costs ~40 B/px)
    labels = np.zeros(regions.shape, np.int32)
    labels[2:9, 20:30, 20:30] = 5
    added = regions.record_edit(delete_object_edit(labels, 5))  # (its marks: taken out too)
    square = np.array([[5, 10, 10], [5, 10, 80], [5, 80, 80], [5, 80, 10]], float)
    assert polygon2mask((4, 4), square[:3, 1:]).shape == (4, 4)
    tracemalloc.start()
    try:
        regions.mark_polygon(square, through_axis=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert regions.mask[:, 50, 50].all()
    regions.take_back(added)
    assert regions.mask[:, 25, 25].all()  # (inside the square: the user's own)
    assert peak < regions.mask.nbytes / 4  # (no whole-stack temporary)
