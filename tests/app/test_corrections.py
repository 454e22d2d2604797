"""Object corrections on real label arrays, 2D and 3D, several dtypes, with undo via edits."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.draw import disk, ellipsoid

from unet_studio.app.corrections import (
    LabelEdit,
    apply_edit,
    delete_object,
    delete_object_edit,
    diff_labels,
    fill_holes,
    fill_holes_edit,
    label_at,
    merge_labels,
    merge_labels_edit,
    next_label_id,
    relabel_sequential,
    split_object,
    split_object_edit,
)
from unet_studio.app.errors import UserError

DTYPES = [np.uint8, np.uint16, np.int32, np.uint32, np.int64]


def two_touching_disks(dtype=np.uint16, label=7) -> np.ndarray:
    """(60, 80): two radius-14 disks whose centres are 24 px apart, one label; plus label 3."""
    labels = np.zeros((60, 80), dtype=dtype)
    for centre in [(30, 25), (30, 49)]:
        rr, cc = disk(centre, 14, shape=labels.shape)
        labels[rr, cc] = label
    labels[2:8, 70:78] = 3
    return labels


def two_touching_balls(dtype=np.uint32) -> np.ndarray:
    """(24, 40, 60): two touching balls of radius 8 as label 5, and a box of label 2."""
    labels = np.zeros((24, 40, 60), dtype=dtype)
    ball = ellipsoid(8, 8, 8)[1:-1, 1:-1, 1:-1]
    for x0 in (14, 28):
        labels[4:21, 12:29, x0 : x0 + 17][ball] = 5
    labels[0:3, 0:4, 0:4] = 2
    return labels


@pytest.mark.parametrize("dtype", DTYPES)
def test_delete_object_removes_only_that_object(dtype):
    labels = two_touching_disks(dtype)
    before = labels.copy()
    out = delete_object(labels, 7)
    assert out.dtype == labels.dtype
    assert not (out == 7).any()
    assert (out == 3).sum() == (before == 3).sum()
    np.testing.assert_array_equal(labels, before)  # the input is never modified


@pytest.mark.parametrize("dtype", DTYPES)
def test_edit_applies_and_reverts_exactly(dtype):
    labels = two_touching_disks(dtype)
    original = labels.copy()
    edit = merge_labels_edit(labels, [3, 7])
    assert edit.size == (original == 7).sum()  # only the pixels of 7 change
    edit.apply_to(labels)
    assert set(np.unique(labels)) == {0, 3}
    edit.revert(labels)
    np.testing.assert_array_equal(labels, original)
    assert edit.new_values.dtype == labels.dtype and edit.old_values.dtype == labels.dtype


def test_merge_defaults_to_first_clicked_and_accepts_new_id():
    labels = two_touching_disks()
    assert set(np.unique(merge_labels(labels, [3, 7]))) == {0, 3}
    assert set(np.unique(merge_labels(labels, [7, 3]))) == {0, 7}
    assert set(np.unique(merge_labels(labels, [0, 7, 3], into=11))) == {0, 11}
    assert merge_labels_edit(labels, [42, 43]).is_empty


def test_merge_and_delete_in_3d():
    labels = two_touching_balls()
    merged = merge_labels(labels, [5, 2])
    assert set(np.unique(merged)) == {0, 5}
    assert (merged != 0).sum() == (labels != 0).sum()
    assert not (delete_object(labels, 5) == 5).any()


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.uint32])
def test_split_at_seeds_cuts_between_touching_disks(dtype):
    labels = two_touching_disks(dtype)
    out = split_object(labels, 7, [(30, 25), (30.4, 49.2)])
    left, right = out[30, 25], out[30, 49]
    assert left == 7 and right == next_label_id(labels) == 8
    # The cut lies at the neck, halfway between the centres (x = 37).
    row = out[30, 15:60]
    cut = 15 + np.flatnonzero(row == right)[0]
    assert 35 <= cut <= 39
    assert (out == 7).sum() + (out == 8).sum() == (labels == 7).sum()
    np.testing.assert_array_equal(out == 3, labels == 3)


def test_split_in_3d_with_anisotropic_sampling():
    labels = two_touching_balls()
    out = split_object(labels, 5, [(12, 20, 22), (12, 20, 36)], sampling=(2.0, 1.0, 1.0))
    assert len(set(np.unique(out[labels == 5]))) == 2
    assert out[12, 20, 22] != out[12, 20, 36]


def test_split_with_image_follows_the_dark_valley():
    labels = np.zeros((40, 60), np.uint16)
    labels[10:30, 10:50] = 4  # one rectangle over two bright cells touching at x = 36
    image = np.ones((40, 60), np.float32)
    image[:, 35:38] = 0.2  # the dark valley between them
    seeds = [(20, 20), (20, 45)]

    def first_column_of_second(out):
        return 10 + np.flatnonzero(out[20, 10:50] != 4)[0]

    assert 35 <= first_column_of_second(split_object(labels, 4, seeds, image=image)) <= 38
    # The distance transform alone has no neck here: it cuts between the seeds instead.
    assert 30 <= first_column_of_second(split_object(labels, 4, seeds)) <= 34


def test_split_does_not_depend_on_where_in_the_object_the_user_clicks():
    labels = two_touching_disks()
    out = split_object(labels, 7, [(25, 20), (36, 55)])  # off-centre clicks
    sizes = [(out == i).sum() for i in (7, 8)]
    assert min(sizes) > 0.4 * sum(sizes)
    assert out[30, 25] != out[30, 49]


def test_split_needs_two_seeds_inside():
    labels = two_touching_disks()
    with pytest.raises(UserError, match="two different points"):
        split_object_edit(labels, 7, [(30, 25), (30, 25.2)])
    with pytest.raises(UserError, match="two different points"):
        split_object_edit(labels, 7, [(30, 25), (2, 2)])  # second seed on background
    with pytest.raises(UserError, match="no object"):
        split_object_edit(labels, 9, [(30, 25), (30, 49)])
    with pytest.raises(UserError, match="background"):
        delete_object_edit(labels, 0)


def test_fill_holes_of_one_object_keeps_nested_objects():
    labels = np.zeros((30, 30), np.int32)
    labels[5:25, 5:25] = 1
    labels[10:20, 10:20] = 0  # hole
    labels[13:15, 13:15] = 2  # object inside the hole
    out = fill_holes(labels, 1)
    assert (out[10:20, 10:20] == 1).sum() == 100 - 4
    assert (out == 2).sum() == 4
    assert fill_holes_edit(out, 1).is_empty  # nothing left to fill


def test_fill_all_holes_vectorised_skips_shared_gaps():
    labels = np.zeros((30, 40), np.uint16)
    labels[2:12, 2:12] = 1
    labels[5:8, 5:8] = 0  # hole of 1
    labels[15:28, 2:20] = 2
    labels[15:28, 20:38] = 3
    labels[20:23, 18:22] = 0  # gap enclosed by 2 and 3 jointly: left alone
    labels[18:20, 30:33] = 0  # hole of 3
    out = fill_holes(labels)
    assert (out[5:8, 5:8] == 1).all()
    assert (out[18:20, 30:33] == 3).all()
    assert (out[20:23, 18:22] == 0).all()


def test_fill_holes_3d_and_per_slice():
    labels = np.zeros((5, 20, 20), np.uint8)
    labels[1:4, 4:16, 4:16] = 6
    labels[1:4, 8:12, 8:12] = 0  # a tunnel open at the top and bottom planes: no 3D cavity
    assert fill_holes_edit(labels, 6).is_empty
    out = fill_holes(labels, 6, per_slice=True)
    assert (out[1:4, 8:12, 8:12] == 6).all()
    closed = labels.copy()
    closed[2, 8:12, 8:12] = 0
    closed[1, 8:12, 8:12] = closed[3, 8:12, 8:12] = 6  # now a closed cavity
    assert (fill_holes(closed)[2, 8:12, 8:12] == 6).all()


@pytest.mark.parametrize("shape, per_slice", [((40, 50), False), ((4, 30, 40), False),
                                              ((4, 30, 40), True), ((3, 3, 20, 24), True)])
def test_fill_all_holes_finds_what_binary_fill_holes_finds(shape, per_slice):
    """Every hole a fill of each object's mask (``ndi.binary_fill_holes``, plane by plane
    where ``per_slice``) fills, and which only that object borders, on random blobs with
    holes, holes shared by two objects and holes in the first and last planes."""
    from scipy import ndimage as ndi

    from unet_studio.app.corrections import _hole_structure

    rng = np.random.default_rng(sum(shape))
    blobs = ndi.gaussian_filter(rng.random(shape), 1.5) > 0.5
    labels, count = ndi.label(blobs)
    labels[rng.random(shape) < 0.08] = 0  # pinholes, some on the edges
    structure = _hole_structure(len(shape), per_slice)
    expected = labels.copy()
    for k in range(1, count + 1):
        enclosed = ndi.binary_fill_holes(labels == k, structure=structure) & (labels == 0)
        others = ndi.binary_dilation(enclosed, structure) & (labels != k) & (labels != 0)
        holes, n = ndi.label(enclosed, structure=structure)
        shared = np.unique(holes[ndi.binary_dilation(others, structure) & (holes > 0)])
        expected[np.isin(holes, shared, invert=True) & (holes > 0)] = k
    out = fill_holes(labels, per_slice=per_slice)
    assert (out != labels).sum() > 10  # (holes were there)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("dtype, high", [(np.uint32, 400000), (np.uint8, 200), (np.int16, 300),
                                         (np.uint64, 2**40), (np.int64, 2**33)])
def test_relabel_sequential_keeps_dtype_and_objects(dtype, high):
    """Ids counted (small ids) or sorted (ids far beyond the pixel count): the same 1..N."""
    labels = np.zeros((10, 10), dtype)
    labels[0:2, 0:2], labels[4:6, 4:6], labels[8:, 8:] = 10, high, 7
    out = relabel_sequential(labels)
    assert out.dtype == dtype
    assert set(np.unique(out)) == {0, 1, 2, 3}
    assert out[0, 0] == 2 and out[4, 4] == 3 and out[9, 9] == 1  # order of the old ids


def test_next_label_id_and_label_at():
    labels = two_touching_disks(np.uint8)
    assert next_label_id(labels) == 8
    assert next_label_id(np.zeros((3, 3), np.uint8)) == 1
    assert label_at(labels, (30.3, 24.6)) == 7
    assert label_at(labels, (-1, 5)) == 0 and label_at(labels, (59.6, 5)) == 0
    full = np.full((2, 2), 255, np.uint8)
    with pytest.raises(UserError, match="no free label id"):
        next_label_id(full)


def test_diff_labels_roundtrip_and_bbox():
    old = two_touching_balls()
    new = old.copy()
    new[10:12, 5:7, 40:45] = 9
    edit = diff_labels(old, new)
    assert isinstance(edit, LabelEdit)
    assert edit.bbox == (slice(10, 12), slice(5, 7), slice(40, 45))
    np.testing.assert_array_equal(apply_edit(old, edit), new)
    np.testing.assert_array_equal(apply_edit(new, edit.inverted()), old)


def test_edits_touch_only_the_object_bbox_on_a_big_stack():
    labels = np.zeros((32, 512, 512), np.uint32)
    labels[10:14, 100:140, 200:230] = 5
    labels[10:14, 100:140, 230:260] = 6
    edit = merge_labels_edit(labels, [5, 6])
    assert edit.bbox == (slice(10, 14), slice(100, 140), slice(230, 260))


def test_fill_holes_per_time_point_of_a_3d_time_series():
    """TZYX: per_slice fills each time point's 3D cavities, never through time: a tunnel
    open along time (the same hole at every time point, in 3D closed) is filled at each."""
    labels = np.zeros((3, 5, 12, 12), np.uint8)
    labels[:, 1:4, 2:10, 2:10] = 4
    labels[:, 2, 5:7, 5:7] = 0  # a closed 3D cavity at each time point
    assert fill_holes_edit(labels, 4).is_empty  # in 4D it opens along time: no hole
    out = fill_holes(labels, 4, per_slice=True)
    assert (out[:, 2, 5:7, 5:7] == 4).all()
    with pytest.raises(ValueError, match="3 or more axes"):
        fill_holes_edit(labels[0, 0], 4, per_slice=True)
