"""A multi-series file in napari: the reader says which image it opened and how to open
another, and ``unet-studio gui FILE --series N`` (``open_studio(series=...)``) opens that one."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import zarr


@pytest.fixture
def two_series_tiff(tmp_path):
    """An OME-TIFF holding a YX image (series 1) and a ZYX stack (series 2)."""
    path = tmp_path / "plate well.ome.tif"
    first = np.arange(20 * 24, dtype=np.uint16).reshape(20, 24)
    second = np.full((3, 16, 16), 700, np.uint16)
    with tifffile.TiffWriter(path, ome=True) as tif:
        tif.write(first, metadata={"axes": "YX", "PhysicalSizeX": 0.645, "PhysicalSizeY": 0.645})
        tif.write(second, metadata={"axes": "ZYX"})
    return path, first, second


def _said_since(start: int) -> list[str]:
    from napari.utils.notifications import notification_manager

    return [str(note.message) for note in notification_manager.records[start:]]


def _records() -> int:
    from napari.utils.notifications import notification_manager

    return len(notification_manager.records)


@pytest.mark.qt
def test_the_viewer_says_which_series_opened_and_how_to_open_another(make_napari_viewer,
                                                                      two_series_tiff):
    path, first, _ = two_series_tiff
    viewer = make_napari_viewer()
    start = _records()
    [layer] = viewer.open(str(path), plugin="unet-studio")
    np.testing.assert_array_equal(np.asarray(layer.data), first)
    assert layer.name == "plate well"  # (the first series keeps its plain name)
    [said] = [text for text in _said_since(start) if "series" in text]
    assert said.startswith("plate well.ome.tif holds 2 image series; opened series 1 of 2.")
    assert f"`unet-studio gui '{path}' --series N` (N from 1 to 2)" in said


@pytest.mark.qt
def test_open_studio_opens_the_series_asked_for(studio_home, make_napari_viewer, two_series_tiff):
    from unet_studio.app.launcher import open_studio

    path, _, second = two_series_tiff
    viewer = open_studio([path], show=False, load_sample=False, series=1)
    try:
        [layer] = viewer.layers
        np.testing.assert_array_equal(np.asarray(layer.data), second)
        assert layer.name == "plate well [series 2]"  # (told apart from series 1's layer)
        assert layer.metadata["source_path"] == str(path)  # (the file, for saved work)
        assert (layer.metadata["series"], layer.metadata["series_count"]) == (1, 2)
    finally:
        viewer.close()


def test_a_bioformats2raw_zarr_names_the_folder_of_each_image(tmp_path):
    """Read without a viewer (napari's notifications need none): the folder opened, and
    that each image is a folder of its own."""
    from unet_studio.plugins.io import read_stacks

    path = tmp_path / "b2r.zarr"
    root = zarr.open_group(str(path), mode="w", zarr_format=2)
    root.attrs["bioformats2raw.layout"] = 3
    for index in range(2):
        image = root.create_group(str(index))
        image.create_array("0", shape=(8, 8), dtype=np.uint8)[:] = index
        image.attrs["multiscales"] = [{"version": "0.4", "axes": [{"name": "y"}, {"name": "x"}],
                                       "datasets": [{"path": "0"}]}]
    start = _records()
    [(data, meta, _)] = read_stacks(str(path), series=1)
    assert np.asarray(data).max() == 1 and meta["metadata"]["series"] == 1
    [said] = _said_since(start)
    assert said.startswith("b2r.zarr holds 2 images (bioformats2raw layout); opened series 2 "
                           "of 2 (the folder b2r.zarr/1).")
    assert "--series N` (N from 1 to 2)" in said
