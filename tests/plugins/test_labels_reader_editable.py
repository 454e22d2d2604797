"""Labels files opened through our reader can be painted: in memory when they fit, else a
copy-on-write map of the file or a working file, else read-only with a warning that says
so. The file itself never changes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from unet_studio.app.io.tiff import UNET_STUDIO_TAG
from unet_studio.plugins.io import read_stacks, write_labels


@pytest.fixture
def saved_labels(tmp_path):
    """(path, labels): (Y, X) labels saved by the plugin's writer (a compressed TIFF)."""
    labels = np.zeros((40, 50), np.int32)
    labels[5:15, 10:30] = 3
    [path] = write_labels(str(tmp_path / "saved_labels.tif"), labels, {"metadata": {"axes": "YX"}})
    return path, labels


@pytest.fixture
def little_memory(monkeypatch):
    """As if almost no memory were free: no labels fit in it."""
    monkeypatch.setattr("unet_studio.app.io.editable.available_memory", lambda: 4096)


def _only_layer(path):
    [(data, meta, layer_type)] = read_stacks(path)
    return data, meta, layer_type


def test_saved_labels_reopen_writable_in_memory(saved_labels):
    path, labels = saved_labels
    data, _, layer_type = _only_layer(path)
    assert layer_type == "labels" and isinstance(data, np.ndarray) and data.flags.writeable
    data[0:2, 0:2] = 7  # (a LazyArray refused this: "does not support item assignment")
    np.testing.assert_array_equal(tifffile.imread(path), labels)


def test_uncompressed_labels_too_big_for_memory_are_mapped_copy_on_write(tmp_path, little_memory):
    labels = np.arange(40 * 50, dtype=np.int32).reshape(40, 50)
    path = tmp_path / "big_labels.tif"
    tifffile.imwrite(path, labels, extratags=[
        (UNET_STUDIO_TAG, "s", 0, json.dumps({"kind": "labels", "axes": "YX"}), True)])
    data, _, layer_type = _only_layer(str(path))
    assert layer_type == "labels" and isinstance(data, np.memmap) and data.mode == "c"
    data[:] = 0  # painted in memory only
    np.testing.assert_array_equal(tifffile.imread(path), labels)


def test_compressed_labels_too_big_for_memory_go_to_a_working_file(
        saved_labels, little_memory, tmp_path, monkeypatch):
    monkeypatch.setenv("UNET_STUDIO_SCRATCH_DIR", str(tmp_path))
    path, labels = saved_labels
    data, _, _ = _only_layer(path)
    assert isinstance(data, np.memmap) and data.flags.writeable
    np.testing.assert_array_equal(data, labels)
    data[:] = 1
    np.testing.assert_array_equal(tifffile.imread(path), labels)


def test_labels_that_cannot_be_made_writable_open_read_only_and_say_why(
        saved_labels, little_memory, monkeypatch):
    import errno

    import napari.utils.notifications

    from unet_studio.models import scratch

    def full_disk(*args, **kwargs):
        raise scratch.DiskSpaceError(errno.ENOSPC, "not enough disk space for a working array")

    monkeypatch.setattr(scratch, "reserve_space", full_disk)
    told = []
    monkeypatch.setattr(napari.utils.notifications, "show_warning", told.append)
    path, labels = saved_labels
    data, _, layer_type = _only_layer(path)
    assert layer_type == "labels"
    np.testing.assert_array_equal(np.asarray(data), labels)
    [message] = told
    assert message.startswith(f"{path} is open read-only, so its labels cannot be painted")
    assert "not enough disk space" in message and "Free memory or disk space" in message


def test_a_plain_integer_tiff_is_mapped_writable_and_a_float_one_is_not(tmp_path):
    """napari makes labels of an image when asked (``layer_type="labels"``); it fails on a
    read-only map. A float image cannot be labels and keeps its shared, read-only map."""
    ids = np.zeros((30, 40), np.int32)
    tifffile.imwrite(tmp_path / "ids.tif", ids)
    tifffile.imwrite(tmp_path / "float.tif", ids.astype(np.float32))
    data, _, layer_type = _only_layer(str(tmp_path / "ids.tif"))
    assert layer_type == "image" and isinstance(data, np.memmap) and data.mode == "c"
    floats, _, _ = _only_layer(str(tmp_path / "float.tif"))
    assert isinstance(floats, np.memmap) and not floats.flags.writeable


@pytest.mark.qt
def test_labels_opened_in_napari_can_be_painted(make_napari_viewer, saved_labels, tmp_path):
    """A labels file saved by the plugin, and a plain integer TIFF opened with
    ``layer_type="labels"``, are Labels layers that napari's brush paints."""
    path, labels = saved_labels
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, labels)
    viewer = make_napari_viewer()
    [saved] = viewer.open(path, plugin="unet-studio")
    [asked] = viewer.open(str(plain), plugin="unet-studio", layer_type="labels")
    for layer in (saved, asked):
        assert type(layer).__name__ == "Labels"
        layer.brush_size = 3
        layer.paint((30, 40), 9)  # (what a brush stroke does)
        assert layer.data[30, 40] == 9
    np.testing.assert_array_equal(tifffile.imread(plain), labels)


def test_pyramid_labels_of_predict_reopen_at_full_resolution_writable(tmp_path, little_memory,
                                                                      monkeypatch):
    """predict writes a big image's labels as a pyramid OME-Zarr: they open as one writable
    array at full resolution when it fits (napari cannot paint a pyramid), else as the
    pyramid they are (a warning then says how to correct them)."""
    from unet_studio.app.io import open_output

    labels = np.zeros((64, 96), np.int32)
    labels[8:20, 30:60] = 5
    path = tmp_path / "big_labels.zarr"
    with open_output(path, labels.shape, np.int32, axes="YX", kind="labels",
                     pyramid_levels=2) as out:
        out[...] = labels
    data, meta, layer_type = _only_layer(path)  # (little memory: left a pyramid)
    assert layer_type == "labels" and meta.get("multiscale") and len(data) == 2
    monkeypatch.undo()
    data, meta, layer_type = _only_layer(path)
    assert layer_type == "labels" and not meta.get("multiscale")
    assert isinstance(data, np.ndarray) and data.flags.writeable
    np.testing.assert_array_equal(data, labels)
