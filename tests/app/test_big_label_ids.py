"""Labels holding large ids (imported from another tool, an id painted high) are renamed and
measured like small ones, without a table as long as the largest id (gigabytes for one id of
1.5e9): ``app.time_ids``, ``app.click_object.typical_size``, ``app.id_renames``,
``app.stack_edits`` (Interpolate all)."""

from __future__ import annotations

import resource
import tracemalloc

import numpy as np
import pytest

from unet_studio.app.click_object import add_object_edit, typical_size
from unet_studio.app.id_renames import IdRenames
from unet_studio.app.stack_edits import iter_interpolate_all_edit
from unet_studio.app.time_ids import adopt_kept_ids, continue_neighbour_ids
from unet_studio.models.generators import drain

PEAK_BYTES = 50 << 20  # tiny arrays: anything near this is a table sized by an id
# (dtype, offset added to every id: the largest id ends up near the dtype's top)
BIG_IDS = [(np.int32, 1_500_000_000), (np.uint32, 2**32 - 100), (np.uint64, 2**40),
           (np.uint64, 2**64 - 100)]


def _measured(call):
    """(call's result, peak bytes traced during it). The address space is capped meanwhile
    (1 GiB above what the process maps): a table sized by the largest id fails at once
    instead of filling the test machine's memory."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * resource.getpagesize()
    cap = mapped + (1 << 30)
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _shifted(labels: np.ndarray, dtype, offset: int) -> np.ndarray:
    """``labels`` with every nonzero id moved up by ``offset``, as ``dtype``."""
    big = labels.astype(dtype)
    big[labels > 0] += dtype(offset)
    return big


def _two_time_points() -> np.ndarray:
    """Time point 0: objects 1 and 2; time point 1 (segmented again): the same objects,
    moved a pixel, under the engine's ids 3 and 4 (the other way round)."""
    labels = np.zeros((2, 8, 8), np.int64)
    labels[0, 1:4, 1:4], labels[0, 5:8, 4:7] = 1, 2
    labels[1, 1:4, 2:5], labels[1, 5:8, 3:6] = 4, 3
    return labels


@pytest.mark.parametrize("over_time", [False, True])
@pytest.mark.parametrize(("dtype", "offset"), BIG_IDS)
def test_a_time_point_segmented_again_takes_its_neighbours_large_ids(dtype, offset, over_time):
    target = (slice(1, 2), slice(None), slice(None))
    small = _two_time_points()
    continue_neighbour_ids(small, target, None, 0, over_time=over_time)
    big = _shifted(_two_time_points(), dtype, offset)
    _, peak = _measured(lambda: continue_neighbour_ids(big, target, None, 0, over_time=over_time))
    assert sorted(np.unique(small[1]).tolist()) == [0, 1, 2]
    assert np.array_equal(big, _shifted(small, dtype, offset))
    assert peak < PEAK_BYTES


@pytest.mark.parametrize(("dtype", "offset"), BIG_IDS)
def test_new_objects_take_the_large_ids_they_lay_in_before_beside_a_reviewed_one(dtype, offset):
    """One time point segmented again around a reviewed object (7): the engine's objects
    (8, 9: fresh ids above it) take the ids of the objects they lie in before the run."""
    labels = np.zeros((1, 8, 8), np.int64)
    kept = np.zeros(labels.shape, bool)
    labels[0, 0:2, 6:8], kept[0, 0:2, 6:8] = 7, True
    labels[0, 1:4, 1:4], labels[0, 5:8, 2:5] = 8, 9
    before = np.zeros(labels.shape, np.int64)
    before[0, 0:4, 0:4], before[0, 5:8, 1:6] = 1, 2
    big, big_before = _shifted(labels, dtype, offset), _shifted(before, dtype, offset)
    target = (slice(None),) * 3
    _, peak = _measured(lambda: continue_neighbour_ids(big, target, kept, 0, big_before))
    assert [int(big[0, 2, 2]), int(big[0, 6, 3]), int(big[0, 0, 7])] == [offset + 1, offset + 2, offset + 7]
    assert peak < PEAK_BYTES


@pytest.mark.parametrize(("dtype", "offset"), BIG_IDS)
def test_a_reviewed_large_id_goes_on_through_the_series_segmented_again(dtype, offset):
    """Time point 1 reviewed (object 50); the engine's tracks 1 before it and 2 after it."""
    labels = np.zeros((3, 8, 8), np.int64)
    kept = np.zeros(labels.shape, bool)
    labels[1, 2:6, 2:6], kept[1] = 50, True
    labels[0, 2:6, 2:6], labels[2, 2:6, 3:7] = 1, 2
    big = _shifted(labels, dtype, offset)
    whole = (slice(None),) * 3
    _, peak = _measured(lambda: adopt_kept_ids(big, whole, kept, 0))
    assert [int(big[t, 3, 4]) for t in range(3)] == [offset + 50] * 3
    assert peak < PEAK_BYTES


def _nuclei_near_a_click() -> tuple[np.ndarray, np.ndarray]:
    """(labels with three objects of different sizes, an image with a bright spot at
    (40, 40) where no object is labelled)."""
    labels = np.zeros((64, 64), np.int64)
    labels[5:15, 5:15], labels[20:26, 5:12], labels[50:58, 50:62] = 1, 2, 3
    yy, xx = np.mgrid[:64, :64]
    image = (np.exp(-((yy - 40) ** 2 + (xx - 40) ** 2) / 30.0) * 1000).astype(np.float32)
    return labels, image


@pytest.mark.parametrize(("dtype", "offset"), BIG_IDS)
def test_add_object_measures_neighbours_with_large_ids_as_small_ones(dtype, offset):
    labels, image = _nuclei_near_a_click()
    big = _shifted(labels, dtype, offset)
    (extent, area), peak = _measured(lambda: typical_size(big, (40, 40)))
    small_extent, small_area = typical_size(labels, (40, 40))
    assert np.array_equal(extent, small_extent) and area == small_area == 96.0
    assert peak < PEAK_BYTES
    added = add_object_edit(big, image, (40, 40), offset + 4)
    assert added.size == add_object_edit(labels, image, (40, 40), 4).size > 0


@pytest.mark.parametrize("offset", [0, 1_500_000_000, 2**32 - 100])
def test_renames_by_table_and_by_search_agree(offset):
    """Small ids go through a table, large ones through a sorted search: same renaming;
    ids not renamed (above every renamed one too) stay."""
    ids = np.array([[0, 1, 2], [3, 7, 9]], np.int64)
    ids[ids > 0] += offset
    renames = {offset + 1: offset + 9, offset + 3: 5}
    renaming = IdRenames(renames, np.uint32, ids.size)
    assert (renaming.table is None) == (offset > 0)
    renamed = renaming.applied(ids.astype(np.uint32))
    expected = [[0, offset + 9, offset + 2], [5, offset + 7, offset + 9]]
    assert renamed.dtype == np.uint32 and renamed.tolist() == expected


@pytest.mark.parametrize(("dtype", "offset"), BIG_IDS)
def test_interpolate_all_fills_objects_with_large_ids_as_small_ones(dtype, offset):
    """Two objects painted on slices 0 and 6, 1 and 5 (one painted into the other's gaps
    too: the first in id order takes a pixel both would fill); one on every slice."""
    labels = np.zeros((7, 12, 12), np.int64)
    labels[0, 1:6, 1:6] = labels[6, 1:6, 1:6] = 2
    labels[1, 4:9, 4:9] = labels[5, 4:9, 4:9] = 1
    labels[:, 10:, 10:] = 3
    small, filled = drain(iter_interpolate_all_edit(labels, 0))
    big = _shifted(labels, dtype, offset)
    (edit, big_filled), peak = _measured(lambda: drain(iter_interpolate_all_edit(big, 0)))
    assert big_filled == filled == 2 and peak < PEAK_BYTES
    for expected, found in zip(small.indices, edit.indices, strict=True):
        assert np.array_equal(expected, found)
    assert np.array_equal(_shifted(small.new_values, dtype, offset), edit.new_values)
    assert edit.new_values.dtype == dtype


def _six_objects_moved() -> np.ndarray:
    """Time point 0: six objects (ids 1..6) in a row; time point 1 (segmented again): the
    same objects a pixel to the right, under the engine's ids in reverse order (enough
    pairs by overlap for the step gate, ``link_pairs.step_gate``, to measure them)."""
    labels = np.zeros((2, 8, 40), np.int64)
    for k in range(6):
        labels[0, 2:6, 6 * k + 1:6 * k + 5] = k + 1
        labels[1, 2:6, 6 * k + 2:6 * k + 6] = 6 - k
    return labels


@pytest.mark.parametrize("over_time", [False, True])
@pytest.mark.parametrize(("dtype", "offset"), BIG_IDS)
def test_many_objects_take_their_neighbours_large_ids(dtype, offset, over_time):
    target = (slice(1, 2), slice(None), slice(None))
    small = _six_objects_moved()
    continue_neighbour_ids(small, target, None, 0, over_time=over_time)
    big = _shifted(_six_objects_moved(), dtype, offset)
    continue_neighbour_ids(big, target, None, 0, over_time=over_time)
    assert [int(small[1, 3, 6 * k + 3]) for k in range(6)] == [1, 2, 3, 4, 5, 6]
    assert np.array_equal(big, _shifted(small, dtype, offset))
