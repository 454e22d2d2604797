"""ReviewedRegions: marking, protecting reviewed pixels from new predictions, saving."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.corrections import delete_object_edit
from unet_studio.app.reviewed import ReviewedRegions


def test_marks_slices_regions_masks_and_polygons():
    regions = ReviewedRegions((3, 20, 30))
    assert not regions.any() and regions.mask.shape == (3, 20, 30)
    regions.mark_slice(0)
    regions.mark_region((slice(1, 2), slice(0, 5), slice(0, 5)))
    mask = np.zeros((20, 30), bool)
    mask[10:12, 20:22] = True
    regions.mark_mask(mask, (1, slice(None), slice(None)))
    regions.mark_polygon([[2, 5, 5], [2, 5, 15], [2, 15, 15], [2, 15, 5]])
    m = regions.mask
    assert m[0].all() and m[1, :5, :5].all() and m[1, 10:12, 20:22].all()
    assert m[1].sum() == 25 + 4
    assert m[2, 10, 10] and not m[2, 2, 2] and 90 <= m[2].sum() <= 121
    regions.mark_slice(0, reviewed=False)
    assert not regions.mask[0].any()
    with pytest.raises(ValueError):
        regions.mark_slice(5)
    with pytest.raises(ValueError):
        regions.mask[0, 0, 0] = True  # read-only: changes go through the mark_* methods


def test_edits_mark_changed_pixels_and_their_surroundings():
    labels = np.zeros((2, 40, 40), np.uint16)
    labels[1, 10:20, 10:20] = 4
    regions = ReviewedRegions(labels.shape, edit_margin=3)
    version = regions.version
    regions.record_edit(delete_object_edit(labels, 4))
    assert regions.version > version
    assert regions.changed.sum() == 100 and regions.changed[1, 10:20, 10:20].all()
    assert regions.mask[1, 7:23, 7:23].all() and regions.mask[1].sum() == 16 * 16
    assert not regions.mask[0].any()  # another plane (or frame) was not looked at
    movie = np.zeros((3, 40, 40), np.uint16)  # (T, Y, X): an edit in frame 0 only
    movie[0, 5:9, 5:9] = 2
    in_time = ReviewedRegions(movie.shape)
    in_time.record_edit(delete_object_edit(movie, 2))
    assert in_time.mask[0, 3:11, 3:11].all() and not in_time.mask[1:].any()
    manual = ReviewedRegions(labels.shape, auto_from_edits=False)
    manual.record_edit(delete_object_edit(labels, 4))
    assert manual.changed.sum() == 100 and not manual.any()


def test_protect_keeps_reviewed_labels_and_renames_clashing_ids():
    current = np.zeros((20, 20), np.uint32)
    current[2:8, 2:8] = 1  # reviewed object
    regions = ReviewedRegions(current.shape)
    regions.mark_region((slice(0, 10), slice(0, 10)))
    prediction = np.zeros((20, 20), np.int32)
    prediction[3:6, 3:6] = 2  # would overwrite the reviewed object
    prediction[12:18, 12:18] = 1  # new object with the same id as the kept one
    prediction[14:16, 2:4] = 3
    out = regions.protect(prediction, current)
    assert out.dtype == np.uint32
    np.testing.assert_array_equal(out[:10, :10], current[:10, :10])
    assert (out[12:18, 12:18] == out[12, 12]).all() and out[12, 12] not in (0, 1)
    assert (out[14:16, 2:4] == 3).all()
    assert np.array_equal(ReviewedRegions((20, 20)).protect(prediction, current), prediction)


def test_save_and_load_roundtrip(tmp_path):
    regions = ReviewedRegions((5, 64, 64), auto_from_edits=False, edit_margin=4)
    regions.mark_region((slice(1, 3), slice(10, 50), slice(5, 9)))
    labels = np.zeros((5, 64, 64), np.uint8)
    labels[4, 0:3, 0:3] = 9
    regions.record_edit(delete_object_edit(labels, 9))
    path = regions.save(tmp_path / "reviewed.npz")
    loaded = ReviewedRegions.load(path)
    assert loaded.shape == regions.shape
    assert loaded.auto_from_edits is False and loaded.edit_margin == 4
    np.testing.assert_array_equal(loaded.mask, regions.mask)
    np.testing.assert_array_equal(loaded.changed, regions.changed)
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ValueError, match="cannot read reviewed regions"):
        ReviewedRegions.load(tmp_path / "bad.npz")
    big = ReviewedRegions((64, 512, 512))
    big.mark_slice(3)
    assert big.save(tmp_path / "big.npz").stat().st_size < 50_000


@pytest.mark.parametrize("slab_pixels", [7, 1 << 22])
def test_renumbering_clashes_in_place_is_protect(slab_pixels):
    """In place and a few planes at a time (a stack's labels written around reviewed
    pixels), the same labels as ``protect(labels, labels)``, fresh ids included."""
    rng = np.random.default_rng(1)
    for trial in range(20):
        labels = rng.integers(0, 9, size=(6, 5, 7)).astype(np.int32)
        regions = ReviewedRegions(labels.shape)
        regions.mark_region((slice(trial % 6, trial % 6 + 2), slice(0, 3), slice(None)))
        expected = regions.protect(labels, labels)
        regions.renumber_clashes(labels, slab_pixels=slab_pixels)
        np.testing.assert_array_equal(labels, expected)
    untouched = rng.integers(0, 9, size=(6, 5, 7)).astype(np.int32)
    before = untouched.copy()
    ReviewedRegions(untouched.shape).renumber_clashes(untouched)  # nothing reviewed
    np.testing.assert_array_equal(untouched, before)


def test_renumbering_clashes_in_a_region_leaves_the_rest_alone():
    """Only the region a prediction wrote is renumbered; fresh ids go above every id."""
    labels = np.zeros((3, 6, 6), np.int32)
    labels[:, :2, :2] = 4  # one object through every plane, reviewed in plane 1
    labels[2, 4:, 4:] = 4  # plane 2 predicted again: its new object clashes with 4
    labels[0, 4:, 4:] = 9
    regions = ReviewedRegions(labels.shape)
    regions.mark_region((slice(1, 3), slice(0, 2), slice(0, 2)))
    regions.renumber_clashes(labels, region=(slice(2, 3), slice(None), slice(None)), slab_pixels=7)
    assert (labels[:, :2, :2] == 4).all() and (labels[0, 4:, 4:] == 9).all()
    assert (labels[2, 4:, 4:] == 10).all()
    # An object made outside the region while it was predicted (kept) holds an id the
    # prediction gave too: the one in the region is renumbered.
    labels[0, 4:, :2] = 11
    regions.mark_region((slice(0, 1), slice(4, None), slice(0, 2)))
    labels[2, 4:, 4:] = 11
    regions.renumber_clashes(labels, region=(slice(2, 3), slice(None), slice(None)))
    assert (labels[0, 4:, :2] == 11).all() and (labels[2, 4:, 4:] == 12).all()


def test_an_edit_of_many_objects_marks_a_box_around_each_in_each_plane():
    """Filling two objects far apart over two time points (one edit: Fill between slices
    for every object) marks a box around each object in each time point it changed, not
    one box around everything; an undo takes all of them back."""
    from unet_studio.app.label_edit import diff_labels

    before = np.zeros((4, 40, 40), np.int32)
    after = before.copy()
    after[1, 2:6, 2:6] = after[2, 3:7, 2:6] = 3  # object 3, top left
    after[1, 30:34, 30:34] = 8  # object 8, bottom right, at time point 1 only
    regions = ReviewedRegions(before.shape, edit_margin=1)
    added = regions.record_edit(diff_labels(before, after, None, "interpolate all"))
    expected = np.zeros(before.shape, bool)
    expected[1, 1:7, 1:7] = expected[2, 2:8, 1:7] = expected[1, 29:35, 29:35] = True
    np.testing.assert_array_equal(regions.mask, expected)
    regions.take_back(added)
    assert not regions.mask.any()


def _broken_track() -> np.ndarray:
    """(T, Y, X) = (6, 40, 40): a cell 1 at time points 0-2, the linking lost it and it
    goes on as 7 at 3-5; a cell 3 sits next to it all along."""
    movie = np.zeros((6, 40, 40), np.int32)
    for t in range(6):
        movie[t, 10:16, 4 + 4 * t : 10 + 4 * t] = 1 if t < 3 else 7
    movie[:, 20:26, 10:16] = 3
    return movie


def test_joining_or_cutting_a_track_marks_only_the_picked_time_points():
    """A join renames 7 at every later time point, but the user looked at two of them: a
    new id is no new outline, so only what changed at a picked time point is reviewed."""
    from unet_studio.app.track_edit import cut_track_edit, join_tracks_edit

    movie = _broken_track()
    regions = ReviewedRegions(movie.shape, edit_margin=2)
    join = join_tracks_edit(movie, 0, [(1, 2), (7, 4)])  # picked at 2 and (further on) 4
    added = regions.record_edit(join)
    expected = np.zeros(movie.shape, bool)
    expected[4, 8:18, 18:28] = True  # 7's box at time point 4, grown by 2
    np.testing.assert_array_equal(regions.mask, expected)
    np.testing.assert_array_equal(regions.changed, movie == 7)  # (changed everywhere)
    regions.take_back(added)
    assert not regions.any() and not regions.changed.any()
    # Redone (napari's history replays the pixels, without what the join knew): the marks
    # the join made are put back, not found again from the pixels.
    again = regions.put_back(added)
    np.testing.assert_array_equal(regions.mask, expected)
    np.testing.assert_array_equal(regions.changed, movie == 7)
    regions.take_back(again)  # (and the redo's own undo takes them back again)
    assert not regions.any() and not regions.changed.any()

    cut = ReviewedRegions(movie.shape, edit_margin=2)
    cut.record_edit(cut_track_edit(movie, 0, 1, 1, 9))  # from time point 1 on: a new id
    expected = np.zeros(movie.shape, bool)
    expected[1, 8:18, 6:16] = True
    np.testing.assert_array_equal(cut.mask, expected)


def test_joining_tracks_of_3d_cells_marks_the_cell_at_the_picked_time_point_only():
    from unet_studio.app.track_edit import join_tracks_edit

    movie = np.stack([_broken_track()] * 3, axis=1)  # (T, Z, Y, X): a cell 3 planes deep
    movie[:, 0, 10:16, :] = 0  # (one plane less: not a box)
    regions = ReviewedRegions(movie.shape, edit_margin=1)
    regions.record_edit(join_tracks_edit(movie, 0, [(1, 1), (7, 3)]))
    at = np.zeros(movie.shape, bool)
    at[3] = movie[3] == 7
    grown = _ndi_grown(at, 1)
    np.testing.assert_array_equal(regions.mask, grown)
    assert regions.mask[3, 1:].any() and not regions.mask[3, 0].any()


def _ndi_grown(mask: np.ndarray, margin: int) -> np.ndarray:
    """``mask`` dilated by a square in each plane of its last two axes."""
    from scipy import ndimage as ndi

    structure = np.zeros((3,) * (mask.ndim - 2) + (2 * margin + 1,) * 2, bool)
    structure[(1,) * (mask.ndim - 2)] = True
    return ndi.binary_dilation(mask, structure)
