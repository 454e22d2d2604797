"""A layer opened by napari's own reader keeps no axis names: those of its TIFF file are read
from the file's metadata (no pixels), and guessed only when the file says nothing."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_studio.plugins.napari_layer_axes import layer_axes

pytestmark = pytest.mark.qt


def _open_with_napari(viewer, path):
    [layer] = viewer.open(str(path), plugin="napari")
    assert not layer.metadata.get("axes")  # (napari's reader: no axes of ours)
    return layer


@pytest.mark.parametrize("axes", ["TYX", "CYX", "ZTYX"])
def test_the_file_names_the_axes_of_a_layer_napari_opened(make_napari_viewer, tmp_path, axes):
    shape = {"T": 3, "C": 3, "Z": 2, "Y": 20, "X": 24}
    data = np.arange(np.prod([shape[a] for a in axes]), dtype=np.uint16).reshape(
        [shape[a] for a in axes])
    path = tmp_path / f"{axes.lower()}.ome.tif"
    tifffile.imwrite(path, data, ome=True, metadata={"axes": axes})
    viewer = make_napari_viewer()
    layer = _open_with_napari(viewer, path)
    assert layer.data.shape == data.shape
    assert layer_axes(layer) == axes  # (guessed from 3 or 4 dimensions: ZYX, TZYX)


def test_an_imagej_time_series_opened_by_napari_is_a_time_series(make_napari_viewer, tmp_path,
                                                                  test_data_dir):
    from unet_studio.plugins.widgets import session_for

    path = tmp_path / "frames.tif"
    frames = tifffile.imread(test_data_dir / "io_hela_tyx.tif")
    tifffile.imwrite(path, frames, imagej=True, metadata={"axes": "TYX"})
    viewer = make_napari_viewer()
    _open_with_napari(viewer, path)
    image = session_for(viewer).host.current_image()
    assert image.axes == "TYX" and image.shape == frames.shape


def test_axes_are_guessed_only_when_the_file_says_nothing(make_napari_viewer, tmp_path):
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, np.zeros((3, 20, 24), np.uint8), photometric="minisblack", metadata=None)
    viewer = make_napari_viewer()
    layer = _open_with_napari(viewer, path)
    assert layer_axes(layer) == "ZYX"
    # Changed on disk since: the axes it names now are read again (not a stale cache).
    tifffile.imwrite(path, np.zeros((3, 20, 24), np.uint8), imagej=True, metadata={"axes": "TYX"})
    assert layer_axes(layer) == "TYX"
