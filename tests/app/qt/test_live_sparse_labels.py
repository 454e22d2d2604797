"""A streamed run over labels in a file of holes (a big stack's scratch labels) reads,
reserves and writes back only what holds data: the largest id outside the region from the
planes written, no backup of a region of holes, and a cancel that puts back the planes the
run wrote and no others (the file stays sparse)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from unet_studio.app.qt.live_extent import WrittenPlanes, planes_of
from unet_studio.app.qt.live_labels import LiveLabelsDestination
from unet_studio.app.qt.live_prepare import iter_largest_outside
from unet_studio.models.generators import drain

PLANE = 256 * 256  # pixels of a plane: slabs of one plane each


class ReadLog(np.ndarray):
    """A view of the labels that logs the planes (along its first axis) of each block whose
    pixels are read (``max``/``any``: how the preparation reads a slab)."""

    reads: list[int]

    def max(self, *args, **kwargs):
        ReadLog.reads.append(self.shape[0])
        return np.asarray(self).max(*args, **kwargs)

    def any(self, *args, **kwargs):
        ReadLog.reads.append(self.shape[0])
        return np.asarray(self).any(*args, **kwargs)


@pytest.fixture
def sparse_labels(tmp_path):
    """``make(shape)``: int32 labels mapped from a file of holes, as a scratch file's."""
    def make(shape):
        path = tmp_path / f"labels-{len(list(tmp_path.iterdir()))}.bin"
        with open(path, "wb") as handle:
            handle.truncate(int(np.prod(shape)) * 4)
        return np.memmap(path, np.int32, "r+", shape=shape)

    return make


def stored_planes(labels: np.memmap) -> float:
    """How many planes' worth of disk the labels' file holds (written, not holes)."""
    labels.flush()
    return os.stat(labels.filename).st_blocks * 512 / (labels[0].nbytes)


def test_largest_id_outside_reads_only_the_planes_written(sparse_labels):
    labels = sparse_labels((32, 256, 256))
    labels[3, 10:20, 10:20] = 9
    labels[20, 0, 0] = 42
    labels[10] = 77  # (inside the target: not counted)
    ReadLog.reads = []
    target = (slice(10, 11), slice(None), slice(None))
    largest = drain(iter_largest_outside(labels.view(ReadLog), target, pixels=PLANE))
    assert largest == 42
    assert ReadLog.reads == [1, 1]  # planes 3 and 20, not the 29 planes of zeros


def test_a_region_of_holes_is_neither_reserved_nor_read(sparse_labels, monkeypatch):
    import unet_studio.app.qt.live_labels as live_labels

    reserved = []
    monkeypatch.setattr(live_labels, "scratch_zeros", lambda *a, **k: reserved.append(a))
    labels = sparse_labels((16, 256, 256))
    labels[0, 5, 5] = 4  # (outside the region)
    target = (slice(4, 16), slice(None), slice(None))
    out = LiveLabelsDestination(labels.view(ReadLog), target, id_offset=None, reserve_backup=True)
    assert reserved == []
    ReadLog.reads = []
    drain(out.iter_prepare(pixels=PLANE))
    assert out.id_offset == 4 and out.backup is None
    assert ReadLog.reads == [1]  # (plane 0 only)


def test_a_cancel_puts_back_only_the_planes_the_run_wrote(sparse_labels):
    labels = sparse_labels((40, 256, 256))
    labels[30, 100:110, 100:110] = 5  # an object the user had
    before = np.array(labels)
    target = (slice(None),) * 3
    out = LiveLabelsDestination(labels, target, id_offset=0, reserve_backup=True)
    drain(out.iter_prepare(pixels=PLANE))
    out[2:4] = np.full((2, 256, 256), 3, np.int32)  # the run's first two planes
    out[(30, slice(0, 8))] = np.full((8, 256), 6, np.int32)  # and rows of the object's plane
    assert stored_planes(labels) <= 3.5
    np.testing.assert_array_equal(out.saved_values(target), before)  # (what a kill leaves)
    out.restore()
    np.testing.assert_array_equal(np.asarray(labels), before)
    assert stored_planes(labels) <= 3.5  # (not 40 planes of zeros written)


def test_written_planes_are_those_of_each_key():
    shape = (10, 4, 4)
    assert planes_of(np.s_[2:5], shape) == (2, 5)
    assert planes_of(np.s_[7, 1:2], shape) == (7, 8)
    assert planes_of(np.s_[-1], shape) == (9, 10)
    assert planes_of(np.s_[8:2:-2], shape) == (4, 9)
    assert planes_of(np.s_[5:5], shape) == (0, 0)
    for wide in (Ellipsis, np.s_[..., 1], np.s_[[1, 3]], (), np.s_[None]):
        assert planes_of(wide, shape) == (0, 10)
    written = WrittenPlanes(shape)
    assert written.within(slice(None)) == []
    written.note(np.s_[6:8])
    written.note(np.s_[2])
    assert written.ranges == ((2, 3), (6, 8))
    assert written.within(slice(5, 10)) == [slice(1, 3)]
    assert written.within(slice(0, 10)) == [slice(2, 3), slice(6, 8)]
    assert written.within(slice(3, 6)) == []
    written.note(np.s_[3:6])  # (joins them)
    assert written.ranges == ((2, 8),)
