"""A prediction streamed into labels whose ids lie near the top of their dtype (brought from
another tool): the engine's int32 ids moved above them are written exactly where they fit
and refused, before a wrong id is written, where they do not (``live_ids``)."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.qt.live_ids import NoRoomForNewIds
from unet_studio.app.qt.live_labels import LiveLabelsDestination
from unet_studio.models.generators import drain

ONE_TIME_POINT = (slice(1, 2), slice(None), slice(None))  # "Run on current slice" at t = 1


def _series(dtype, largest: int) -> np.ndarray:
    """Labels (T, Y, X) = (3, 8, 8): time points 0 and 2 hold two objects each, the largest
    id ``largest``; time point 1 is empty."""
    labels = np.zeros((3, 8, 8), dtype)
    labels[0, :3, :3] = labels[2, :3, :3] = largest - 1
    labels[0, 5:, 5:] = labels[2, 5:, 5:] = largest
    return labels


def _engine_labels(count: int) -> np.ndarray:
    """One time point as the engine writes it: int32 ids 1..``count``, one row each."""
    out = np.zeros((1, 8, 8), np.int32)
    for k in range(count):
        out[0, k, :] = k + 1
    return out


def _destination(labels: np.ndarray) -> LiveLabelsDestination:
    return LiveLabelsDestination(labels, ONE_TIME_POINT, id_offset=None, time_axis=0, name="cells")


@pytest.mark.parametrize(("dtype", "largest"), [(np.uint32, 2**32 - 300), (np.uint64, 2**64 - 300)])
def test_new_ids_above_ids_near_the_top_are_written_exactly(dtype, largest):
    labels = _series(dtype, largest)
    out = _destination(labels)
    out[(slice(None),) * 3] = _engine_labels(3)
    assert labels.dtype == dtype
    assert [int(labels[1, k, 0]) for k in range(4)] == [largest + 1, largest + 2, largest + 3, 0]
    assert out.largest_written == largest + 3


@pytest.mark.parametrize("dtype", [np.int32, np.uint16, np.uint32])
def test_labels_full_to_their_dtype_are_refused_before_anything_is_written(dtype):
    top = int(np.iinfo(dtype).max)
    labels = _series(dtype, top)
    before = labels.copy()
    out = _destination(labels)
    with pytest.raises(NoRoomForNewIds) as refused:
        drain(out.iter_prepare())
    message = str(refused.value)
    assert "cells" in message and f"{top:,}" in message and np.dtype(dtype).name in message
    assert "Relabel 1..N" in message
    assert not out.written and np.array_equal(labels, before)


def test_new_ids_that_would_pass_the_top_are_refused_not_wrapped():
    """Five ids free above the largest, six new objects: none written, none wrapped to the
    small ids other objects could hold."""
    labels = _series(np.uint16, 2**16 - 6)
    before = labels.copy()
    out = _destination(labels)
    with pytest.raises(NoRoomForNewIds, match="65,536"):
        out[(slice(None),) * 3] = _engine_labels(6)
    assert not out.written and np.array_equal(labels, before)
