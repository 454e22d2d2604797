"""A split or a merge marks the whole objects it leaves as reviewed (the part of a split
object that keeps its id too, the object merged to), only at its time point, and a new
prediction keeps them whole. Real label crops: HeLa nuclei as a time series, 3D nuclei."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from scipy import ndimage as ndi

from unet_studio.app.corrections import merge_labels_edit, split_object_edit
from unet_studio.app.kept_ids import keep_reviewed
from unet_studio.app.label_edit import LabelEdit
from unet_studio.app.reviewed import ReviewedRegions

MARGIN = 2


@pytest.fixture(scope="module")
def hela_movie(test_data_dir) -> np.ndarray:
    """(T, Y, X) = (3, 128, 128): the HeLa labels crop at every time point (one track per
    nucleus); 49 is a big nucleus, 44 and 47 touch."""
    labels = tifffile.imread(test_data_dir / "default_hela_f3_labels.tif")
    return np.stack([labels] * 3)


@pytest.fixture(scope="module")
def nuclei_3d(test_data_dir) -> np.ndarray:
    """(Z, Y, X) = (12, 96, 96) nuclei through every plane; 8 and 11 touch."""
    return tifffile.imread(test_data_dir / "gui_nuclei3d_labels.tif")


def _seeds(plane_or_stack: np.ndarray, label: int) -> list[tuple[float, ...]]:
    """Two points inside ``label``, towards its two ends along the last axis."""
    points = np.argwhere(plane_or_stack == label)
    centre = points.mean(0)
    seeds = []
    for end in (points[np.argmin(points[:, -1])], points[np.argmax(points[:, -1])]):
        near = 0.6 * end + 0.4 * centre
        seeds.append(tuple(float(c) for c in points[np.argmin(((points - near) ** 2).sum(1))]))
    return seeds


def _at_time(edit: LabelEdit, t: int) -> LabelEdit:
    """An edit of one time point as an edit of the movie (what the Correct tools do)."""
    return edit.lifted(0, t)


def _whole_objects(labels: np.ndarray, edit: LabelEdit) -> np.ndarray:
    """Every pixel of the objects ``edit`` leaves (those holding its pixels before or after)."""
    after = labels.copy()
    edit.apply_to(after)
    ids = set(edit.old_values.tolist()) | set(edit.new_values.tolist())
    return np.isin(after, sorted(ids - {0}))


def _grown(mask: np.ndarray) -> np.ndarray:
    """``mask`` dilated by the margin's square in each plane, never across planes."""
    structure = np.zeros((3,) * (mask.ndim - 2) + (2 * MARGIN + 1,) * 2, bool)
    structure[(1,) * (mask.ndim - 2)] = True
    return ndi.binary_dilation(mask, structure)


def _edits_of_hela(movie: np.ndarray) -> dict[str, LabelEdit]:
    """Split 49 and merge 47 into 44, each at time point 1."""
    plane = movie[1]
    split = split_object_edit(plane, 49, _seeds(plane, 49), first_new=int(movie.max()) + 1)
    merge = merge_labels_edit(plane, [44, 47])
    return {"split": _at_time(split, 1), "merge": _at_time(merge, 1)}


@pytest.mark.parametrize("kind", ["split", "merge"])
def test_a_split_or_merge_of_a_time_point_marks_its_objects_whole(hela_movie, kind):
    """Every pixel of both parts of the split (of the merged object) is reviewed at the
    edited time point and nothing at the others; undo takes every mark back, redo makes
    the same again."""
    edit = _edits_of_hela(hela_movie)[kind]
    whole = _whole_objects(hela_movie, edit)
    whole[[0, 2]] = False  # (the same nuclei at the other time points: not edited)
    assert whole[1].sum() > edit.size + 100  # (the objects are more than the changed pixels)
    regions = ReviewedRegions(hela_movie.shape, edit_margin=MARGIN)
    added = regions.record_edit(edit)
    marked = regions.mask.copy()
    assert marked[whole].all()
    assert not marked[0].any() and not marked[2].any()
    regions.take_back(added)
    assert not regions.any() and not regions.changed.any()
    regions.put_back(added)
    np.testing.assert_array_equal(regions.mask, marked)


def test_a_split_of_an_object_already_reviewed_in_part_takes_back_only_its_own(hela_movie):
    """Marks made before the split (over part of the object) stay when it is undone: its
    marks are what was new."""
    edit = _edits_of_hela(hela_movie)["split"]
    whole = _whole_objects(hela_movie, edit)
    whole[[0, 2]] = False
    regions = ReviewedRegions(hela_movie.shape, edit_margin=MARGIN)
    earlier = np.zeros(hela_movie.shape, bool)
    rows = np.nonzero(whole[1].any(1))[0]
    earlier[1, : rows[len(rows) // 2]] = True  # (the top half of the time point)
    regions.mark_mask(earlier)
    added = regions.record_edit(edit)
    assert regions.mask[whole].all()
    regions.take_back(added)
    np.testing.assert_array_equal(regions.mask, earlier)


@pytest.mark.parametrize("kind", ["split", "merge"])
def test_a_split_or_merge_through_planes_marks_its_3d_objects_whole_and_no_more(nuclei_3d,
                                                                             kind):  # fmt: skip
    """In a 3D stack the objects it leaves are marked voxel for voxel, grown by the margin
    in each plane: the other nuclei in planes never looked at stay unreviewed."""
    if kind == "split":
        edit = split_object_edit(nuclei_3d, 14, _seeds(nuclei_3d, 14))
    else:
        edit = merge_labels_edit(nuclei_3d, [8, 11])
    whole = _whole_objects(nuclei_3d, edit)
    regions = ReviewedRegions(nuclei_3d.shape, edit_margin=MARGIN)
    added = regions.record_edit(edit)
    np.testing.assert_array_equal(regions.mask, _grown(whole))
    regions.take_back(added)
    assert not regions.any()


def test_a_new_prediction_keeps_the_split_and_merged_objects_whole(hela_movie):
    """Accept with re-predict keeps only reviewed pixels: a prediction that knows nothing of
    the user's split and merge (the labels before them) no longer cuts their objects."""
    edits = _edits_of_hela(hela_movie)
    current = hela_movie.copy()
    regions = ReviewedRegions(hela_movie.shape, edit_margin=MARGIN)
    for edit in edits.values():
        edit.apply_to(current)
        regions.record_edit(edit)
    everything = tuple(slice(None) for _ in hela_movie.shape)
    kept = keep_reviewed(hela_movie.copy(), current, regions, everything)
    objects = np.unique(np.concatenate([e.new_values for e in edits.values()]))
    for label in [49, *objects.tolist()]:
        np.testing.assert_array_equal(kept[1] == label, current[1] == label)
    np.testing.assert_array_equal(regions.protect(hela_movie, current)[1] == 44, current[1] == 44)
