"""What a streamed run reads of the labels before its first write (``live_prepare``): the
largest id outside the region segmented, found without copying the labels, and the backup of
the region (none for labels holding nothing)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from unet_studio.app.qt.live_labels import LiveLabelsDestination, id_offset_outside
from unet_studio.app.qt.live_prepare import iter_copy_unless_empty, outside_boxes
from unet_studio.models.generators import drain

TARGETS = [
    (slice(3, 4), slice(None), slice(None)),  # one plane of a stack
    (slice(0, 1), slice(None), slice(None)),  # the first plane
    (slice(7, 8), slice(None), slice(None)),  # the last plane
    (slice(2, 5), slice(10, 20), slice(0, 32)),  # a box inside
    (slice(None),) * 3,  # everything
]


@pytest.mark.parametrize("target", TARGETS)
def test_outside_boxes_hold_every_pixel_outside_the_target_once(target):
    shape = (8, 24, 32)
    seen = np.zeros(shape, np.int32)
    for box in outside_boxes(target, shape):
        seen[box] += 1
    expected = np.ones(shape, np.int32)
    expected[target] = 0
    np.testing.assert_array_equal(seen, expected)


@pytest.mark.parametrize("target", TARGETS)
def test_largest_id_outside_is_that_of_a_mask_but_copies_nothing(target):
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 1000, size=(8, 256, 256), dtype=np.int32)
    labels[target] = 5000  # (larger than any id outside: must not count)
    outside = np.ones(labels.shape, bool)
    outside[target] = False
    expected = int(labels[outside].max()) if outside.any() else 0
    tracemalloc.start()
    try:
        found = id_offset_outside(labels, target)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert found == expected
    assert peak < labels.nbytes // 8  # (a mask and labels[mask]: more than the labels)


def test_copy_of_empty_labels_is_none_and_of_others_exact():
    region = np.zeros((6, 16, 16), np.int32)
    assert drain(iter_copy_unless_empty(region, pixels=256)) is None
    region[4, 3, 3] = 7  # an object in the last slab but one
    copy = drain(iter_copy_unless_empty(region, pixels=256))
    np.testing.assert_array_equal(copy, region)
    assert copy is not region


def test_destination_reads_the_labels_as_they_are_at_its_first_write():
    """Built at Run, written later: edits made in between are what a cancel puts back, and
    the new ids start above the largest one outside the plane then."""
    live = np.zeros((3, 6, 6), np.int32)
    live[0] = 9
    target = (slice(1, 2), slice(None), slice(None))
    out = LiveLabelsDestination(live, target, None, None)
    assert out.backup is None and out.id_offset is None  # (nothing read at Run)
    live[1, :2] = 4  # the user's edit after Run
    live[2, 0, 0] = 12  # and a new object on another plane
    steps = list(out.iter_prepare(pixels=6))
    assert [s.stage for s in steps] == ["backup"] * len(steps)
    assert [s.done for s in steps] == list(range(1, steps[0].total + 1))
    assert out.id_offset == 12
    out[(0, Ellipsis)] = np.ones((6, 6), np.int32)
    assert (live[1] == 13).all()
    out.restore()
    assert (live[1, :2] == 4).all() and not live[1, 2:].any()
    out.release()
    assert out.backup is None
