"""Filling the slices between painted slices of an object: outlines morph from one painted
slice to the next, lean with the object, and never paint over another object."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from unet_studio.app.errors import UserError
from unet_studio.app.label_edit import apply_edit
from unet_studio.app.slice_interpolation import interpolate_slices_edit


def _disc(shape, centre, radius) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius**2


def test_a_disc_growing_from_radius_4_to_8_passes_through_radius_6_midway():
    labels = np.zeros((11, 40, 40), np.uint16)
    labels[0][_disc((40, 40), (20, 20), 4)] = 3
    labels[10][_disc((40, 40), (20, 20), 8)] = 3
    edit = interpolate_slices_edit(labels, 3, 0)
    out = apply_edit(labels, edit)
    radii = [np.sqrt((out[z] == 3).sum() / np.pi) for z in range(11)]
    assert all(b >= a for a, b in zip(radii, radii[1:]))  # grows slice by slice
    assert abs(radii[5] - 6) < 0.5
    for z in range(1, 10):
        assert ndi.center_of_mass(out[z] == 3) == pytest.approx((20, 20), abs=0.5)
    np.testing.assert_array_equal(out[[0, 10]], labels[[0, 10]])  # painted slices kept
    assert (edit.old_values == 0).all() and (edit.new_values == 3).all()


def test_a_leaning_object_moves_with_its_centre_and_leaves_other_objects_alone():
    labels = np.zeros((9, 40, 60), np.int32)
    labels[0][_disc((40, 60), (20, 10), 5)] = 1
    labels[8][_disc((40, 60), (20, 50), 5)] = 1
    labels[4, 18:23, 28:33] = 2  # another object where the leaning one passes
    out = apply_edit(labels, interpolate_slices_edit(labels, 1, 0))
    for z in range(1, 8):
        if z == 4:
            continue
        # (blending where the discs lie, with no overlap, would leave the middle empty)
        assert (out[z] == 1).sum() == (labels[0] == 1).sum()
        assert ndi.center_of_mass(out[z] == 1) == pytest.approx((20, 10 + 5 * z), abs=0.3)
    np.testing.assert_array_equal(out[4, 18:23, 28:33], 2)  # never painted over
    assert (out[4] == 1).sum() == (labels[0] == 1).sum() - 25


def test_every_gap_is_filled_along_the_axis_asked_for():
    along_z = np.zeros((9, 30, 30), np.uint8)
    for z in (0, 4, 8):  # painted every fourth slice: two gaps
        along_z[z, 10:20, 8 + z : 14 + z] = 7
    out = apply_edit(along_z, interpolate_slices_edit(along_z, 7, 0))
    assert all((out[z] == 7).sum() == 60 for z in range(9))  # a 10x6 box all the way
    # The same object lying along x instead: the same filling, along axis 2.
    along_x = np.ascontiguousarray(np.moveaxis(along_z, 0, 2))
    out_x = apply_edit(along_x, interpolate_slices_edit(along_x, 7, 2))
    np.testing.assert_array_equal(out_x, np.moveaxis(out, 0, 2))


def test_an_object_at_the_edge_of_its_box_does_not_smear_across_it():
    labels = np.zeros((5, 20, 40), np.int32)
    labels[0, 5:15, 0:10] = 4  # a big square at the left edge...
    labels[4, 8:12, 30:34] = 4  # ...shrinking towards a small one far right
    out = apply_edit(labels, interpolate_slices_edit(labels, 4, 0, sampling=(1.0, 1.0)))
    areas = [(out[z] == 4).sum() for z in range(5)]
    assert areas[0] > areas[1] > areas[2] > areas[3] >= areas[4]
    assert not (out[3, :, :10] == 4).any()  # nothing left behind at the old edge


def test_objects_without_slices_to_fill_between_say_so():
    labels = np.zeros((6, 10, 10), np.int32)
    labels[2, 3:6, 3:6] = 1
    with pytest.raises(UserError, match=r"object 1 is on one slice only \(2\)"):
        interpolate_slices_edit(labels, 1, 0)
    with pytest.raises(UserError, match="no object 5"):
        interpolate_slices_edit(labels, 5, 0)
    labels[3, 3:6, 3:6] = 1  # on slices 2 and 3: nothing between
    assert interpolate_slices_edit(labels, 1, 0).is_empty
