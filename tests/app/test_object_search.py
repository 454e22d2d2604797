"""Finding a picked object around the click in big label arrays: the same box and the same
edits as a search of the whole array, for the objects the tools are meant for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from scipy import ndimage as ndi

from unet_studio.app import corrections, object_search
from unet_studio.app.label_edit import bounding_box
from unet_studio.app.object_search import holds_id, local_box, object_box
from unet_studio.app.slice_interpolation import interpolate_slices_edit

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def nuclei():
    """Real 3D reference labels (12 x 96 x 96), their connected objects, and a point in each."""
    labels = tifffile.imread(DATA / "gui_nuclei3d_labels.tif").astype(np.int32)
    points = {}
    for label in np.unique(labels)[1:]:
        mask = labels == label
        if ndi.label(mask)[1] == 1:  # (one piece: what an id stands for)
            points[int(label)] = tuple(np.argwhere(mask)[mask.sum() // 2])
    return labels, points


@pytest.fixture
def search_locally(monkeypatch):
    """Every array counts as big, and the first window is small: the growth is exercised."""
    monkeypatch.setattr(object_search, "LOCAL_SEARCH_PIXELS", 0)
    monkeypatch.setattr(object_search, "START_WINDOW", 8)


def test_the_box_grown_around_the_click_is_the_objects_box(nuclei, search_locally):
    labels, points = nuclei
    assert len(points) >= 4
    for label, point in points.items():
        assert local_box(labels, label, point) == bounding_box(labels == label)
        assert object_box(labels, label, point, margin=2) == bounding_box(labels == label, 2)
    long_thin = np.zeros((5, 20, 400), np.uint8)
    long_thin[2, 10, 3:397] = 9  # far longer than the first window, both ways
    assert local_box(long_thin, 9, (2, 10, 200)) == (slice(2, 3), slice(10, 11), slice(3, 397))
    assert local_box(long_thin, 9, (0, 0, 0)) is None  # (not under the click)


def test_tool_edits_are_the_same_with_the_local_search(nuclei, monkeypatch):
    labels, points = nuclei
    first, second = list(points)[:2]
    seeds = [points[first], tuple(np.argwhere(labels == first)[0])]
    edits = {}
    for local in (False, True):
        monkeypatch.setattr(object_search, "LOCAL_SEARCH_PIXELS", 0 if local else 1 << 40)
        edits[local] = [
            corrections.delete_object_edit(labels, first, near=points[first]),
            corrections.merge_labels_edit(labels, [first, second],
                                          near=[points[first], points[second]]),
            corrections.fill_holes_edit(labels, second, near=points[second]),
            corrections.split_object_edit(labels, first, seeds),
        ]
    for exact, local in zip(edits[False], edits[True]):
        assert local.size == exact.size > 0 or exact.description.startswith("fill")
        for a, b in zip(exact.indices + (exact.new_values,), local.indices + (local.new_values,)):
            np.testing.assert_array_equal(a, b)


def test_a_far_fragment_of_the_same_id_is_not_part_of_the_object_found(search_locally):
    labels = np.zeros((4, 60, 200), np.int32)
    labels[1:3, 10:20, 10:20] = 5
    labels[1, 50:55, 180:190] = 5  # the same label painted far off
    edit = corrections.delete_object_edit(labels, 5, near=(1, 15, 15))
    after = corrections.apply_edit(labels, edit)
    assert not after[1:3, 10:20, 10:20].any() and (after[1, 50:55, 180:190] == 5).all()
    whole = corrections.delete_object_edit(labels, 5)  # no click point: the whole array
    assert whole.size == edit.size + 50


def test_interpolation_finds_the_painted_slices_through_the_column(search_locally):
    labels = np.zeros((12, 80, 80), np.int32)
    labels[2, 30:40, 30:40] = 3  # painted on slices 2 and 10, leaning by 6 px
    labels[10, 30:40, 36:46] = 3
    labels[6, 0:5, 0:5] = 3  # (a stray piece far off: outside the column)
    local = interpolate_slices_edit(labels, 3, 0, near=(10, 35, 40))
    filled = corrections.apply_edit(labels, local)
    assert all((filled[z, 30:40] == 3).sum() == 100 for z in range(2, 11) if z != 6)
    assert (filled[6, 0:5, 0:5] == 3).all() and (filled[6, 30:40] == 3).sum() == 100


def test_holds_id_reads_a_slab_at_a_time():
    labels = np.zeros((50, 30, 30), np.uint16)
    labels[47, 3, 3] = 8
    assert holds_id(labels, 8, slab_pixels=900) and not holds_id(labels, 9, slab_pixels=900)
