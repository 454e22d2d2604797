"""The reader contribution inside a real napari viewer: metadata arrives, bad files are named."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

pytestmark = pytest.mark.qt


def test_viewer_opens_an_imagej_stack_with_its_scale(make_napari_viewer, tmp_path):
    path = tmp_path / "stack.tif"
    data = np.arange(4 * 32 * 40, dtype=np.uint16).reshape(4, 32, 40)
    tifffile.imwrite(path, data, imagej=True, resolution=(1 / 0.5, 1 / 0.5),
                     metadata={"axes": "ZYX", "spacing": 2.0, "unit": "um"})
    viewer = make_napari_viewer()
    [layer] = viewer.open(str(path), plugin="unet-studio")
    np.testing.assert_array_equal(np.asarray(layer.data), data)
    np.testing.assert_allclose(layer.scale, (2.0, 0.5, 0.5))


def test_viewer_reports_a_corrupt_file_by_name(make_napari_viewer, tmp_path):
    path = tmp_path / "broken.tif"
    path.write_bytes(b"II*\x00" + b"\x00" * 60)  # a TIFF header pointing nowhere useful
    viewer = make_napari_viewer()
    with pytest.raises(Exception, match="broken.tif") as caught:
        viewer.open(str(path), plugin="unet-studio")
    assert len(viewer.layers) == 0
    assert "Traceback" not in str(caught.value)


def test_a_folder_without_tiff_files_is_named_with_what_was_expected(make_napari_viewer, tmp_path):
    """Chosen for a folder with no TIFF file (napari asks which reader opens a folder), the
    reader says which folder and what it should hold, instead of napari's "refused the file"."""
    folder = tmp_path / "experiment 3"
    folder.mkdir()
    (folder / "notes.txt").write_text("stage positions")
    viewer = make_napari_viewer()
    with pytest.raises(Exception) as caught:
        viewer.open(str(folder), plugin="unet-studio")
    assert str(caught.value) == (f"{folder}: holds no .tif or .tiff file; unet-studio opens a "
                                 "folder of TIFF files (one per plane or time point, in name "
                                 "order) as one stack, or an OME-Zarr folder (.zarr)")
    assert len(viewer.layers) == 0


def test_a_folder_another_reader_opens_is_left_to_it(make_napari_viewer, tmp_path):
    """A folder of PNG files is not ours: the reader declines it (None), so that napari's
    own reader, which opens such a folder as a stack, gets it."""
    from npe2 import read

    from unet_studio.plugins.io import napari_get_reader

    folder = tmp_path / "pngs"
    folder.mkdir()
    for index in range(2):
        iio_write(folder / f"plane{index}.png", np.full((6, 8), index * 100, np.uint8))
    make_napari_viewer()  # (napari's plugins registered)
    assert napari_get_reader(str(folder)) is None
    [(data, *_)] = read([str(folder)], stack=False)
    assert np.asarray(data).shape == (2, 6, 8)


def iio_write(path, image) -> None:
    import imageio.v3 as iio

    iio.imwrite(path, image)
