"""Which planes of a memory-mapped array can hold data, from its file's holes
(``sparse_extent``): the planes written, told without reading a pixel, for the array and
for views of it; "unknown" (None) where the file cannot tell."""

from __future__ import annotations

import numpy as np

from unet_studio.models.scratch import scratch_zeros
from unet_studio.models.sparse_extent import HOLE_CHECK_ENV, data_planes, known_empty


def sparse_labels(path, shape) -> np.memmap:
    """int32 labels in a file of holes only (as big as they are, nothing written)."""
    with open(path, "wb") as handle:
        handle.truncate(int(np.prod(shape)) * 4)
    return np.memmap(path, np.int32, "r+", shape=shape)


def written(planes) -> list[int]:
    return np.flatnonzero(planes).tolist()


def test_the_planes_written_are_the_planes_with_data_in_the_array_and_its_views(tmp_path):
    labels = sparse_labels(tmp_path / "labels.bin", (64, 256, 256))
    assert written(data_planes(labels)) == [] and known_empty(labels)
    labels[5] = 3  # a whole plane
    labels[40, 100, 7] = 9  # one pixel
    assert written(data_planes(labels)) == [5, 40]
    assert not known_empty(labels)
    assert written(data_planes(labels[30:50])) == [10]  # (a view's planes, from its start)
    assert written(data_planes(labels[::-1])) == [23, 58]
    assert written(data_planes(labels[:, 100:101])) == [5, 40]  # the pixel's row
    assert written(data_planes(labels[:, 200:])) == [5]  # (its page lies before these rows)
    assert written(data_planes(labels[10:20, 50:60, 3:9])) == []


def test_scratch_labels_made_as_the_app_makes_them_tell_the_planes_written(monkeypatch, tmp_path):
    """A scratch file's space is reserved (unwritten extents): pages the kernel reads ahead
    around a write count as data too, a few planes around it, never a plane far off."""
    monkeypatch.setenv("UNET_STUDIO_SCRATCH_RAM_MB", "1")
    labels = scratch_zeros((48, 1024, 1024), np.int32)  # (192 MiB reserved, none written)
    assert isinstance(labels, np.memmap)
    assert written(data_planes(labels)) == []
    labels[4] = 1
    labels[40, 512, 512] = 2
    found = written(data_planes(labels))
    assert {4, 40} <= set(found)
    assert all(abs(plane - 4) <= 8 or abs(plane - 40) <= 8 for plane in found), found
    assert not any(13 <= plane <= 31 for plane in found)  # (the middle: holes)


def test_unknown_where_no_shared_file_tells(tmp_path, monkeypatch):
    assert data_planes(np.zeros((4, 8, 8), np.int32)) is None
    assert not known_empty(np.zeros((4, 8, 8), np.int32))  # (unknown: not "empty")
    sparse_labels(tmp_path / "labels.bin", (4, 256, 256))
    copy_on_write = np.memmap(tmp_path / "labels.bin", np.int32, "c", shape=(4, 256, 256))
    copy_on_write[1] = 7  # (in memory only: the file's holes say nothing of it)
    assert data_planes(copy_on_write) is None
    labels = np.memmap(tmp_path / "labels.bin", np.int32, "r+", shape=(4, 256, 256))
    monkeypatch.setenv(HOLE_CHECK_ENV, "0")
    assert data_planes(labels) is None


def test_labels_left_empty_after_a_cancel_are_found_empty_reading_their_data_only(tmp_path, monkeypatch):
    """``holds_nothing`` (after a cancelled run on labels made for it) read every plane of
    a big stack's file, 20 GB of holes; it reads the planes holding data only."""
    from unet_studio.app.qt.segment_interrupted import holds_nothing

    labels = sparse_labels(tmp_path / "labels.bin", (64, 512, 512))  # (16 planes a slab)
    labels[9] = 0  # (written back as zeros by the cancel: data, all zeros)
    labels[30, 5, 5] = 0
    read = []
    real = np.asarray
    monkeypatch.setattr(np, "asarray",
                        lambda a, *k, **kw: read.append(np.shape(a)) or real(a, *k, **kw))
    assert holds_nothing(labels)
    planes = sum(shape[0] for shape in read if len(shape) == 3)
    assert planes == 32, read  # (the slabs of planes 9 and 30, not all 64 planes)
    labels[30, 5, 5] = 4
    assert not holds_nothing(labels)
