"""Stacks stored in another axis order (ZTYX, CZTYX, OME-Zarr's TCZYX) are presented in the
canonical TZCYX order, lazily, so that labels written for them lie over them and fine-tuning
takes the pair."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_studio.app.cli import main
from unet_studio.app.io import LazyArray, open_stack


@pytest.fixture(scope="module")
def tzyx(test_data_dir) -> np.ndarray:
    """(T, Z, Y, X) = (2, 3, 64, 72) uint16 of real nuclei (three shifted crops per frame)."""
    frames = tifffile.imread(test_data_dir / "train_img.tif")
    return np.stack([np.stack([f[8 * z: 8 * z + 64, 4 * z: 4 * z + 72] for z in range(3)])
                     for f in frames])


def _write_ome(path, data, axes, **options):
    tifffile.imwrite(path, data, ome=True, metadata={
        "axes": axes, "PhysicalSizeX": 0.25, "PhysicalSizeY": 0.25, "PhysicalSizeZ": 1.5,
        "TimeIncrement": 30.0}, **options)
    return path


@pytest.mark.parametrize("compression", [None, "zlib"])
def test_a_ztyx_ome_tiff_opens_as_tzyx_without_reading_it(tmp_path, tzyx, compression):
    path = _write_ome(tmp_path / "ztyx.ome.tif", tzyx.transpose(1, 0, 2, 3), "ZTYX",
                      compression=compression)
    with open_stack(path) as stack:
        assert (stack.axes, stack.shape) == ("TZYX", tzyx.shape)
        assert stack.metadata["stored_axes"] == "ZTYX" and stack.metadata["file_axes"] == "ZTYX"
        # (still a view on the file: a memory map stays one, a compressed file stays lazy)
        assert isinstance(stack.data, np.memmap if compression is None else LazyArray)
        assert stack.scale == pytest.approx({"T": 30.0, "Z": 1.5, "Y": 0.25, "X": 0.25})
        np.testing.assert_array_equal(stack.data[1, 2, 10:20, 5:9], tzyx[1, 2, 10:20, 5:9])
        np.testing.assert_array_equal(stack.data[:, 1, ::-3], tzyx[:, 1, ::-3])
        np.testing.assert_array_equal(stack.to_numpy(), tzyx)


def test_a_cztyx_ome_tiff_opens_as_tzcyx(tmp_path, tzyx):
    two = np.stack([tzyx, tzyx[..., ::-1] // 2])  # CTZYX
    path = _write_ome(tmp_path / "cztyx.ome.tif", two.transpose(0, 2, 1, 3, 4), "CZTYX")
    with open_stack(path) as stack:
        assert stack.axes == "TZCYX" and stack.metadata["stored_axes"] == "CZTYX"
        np.testing.assert_array_equal(stack.to_numpy(), two.transpose(1, 2, 0, 3, 4))
        np.testing.assert_array_equal(stack.data[0, 2, 1, 3], two[1, 0, 2, 3])


def test_an_ome_zarr_in_another_order_keeps_its_chunks_for_the_tile_order(tmp_path, tzyx):
    from unet_studio.app.io.zarr_write import create_ome_zarr

    stored = tzyx.transpose(1, 0, 2, 3)  # ZTYX
    group, array = create_ome_zarr(tmp_path / "ztyx.zarr", stored.shape, stored.dtype,
                                   axes="ZTYX", scale={}, units={}, kind="image")
    array[...] = stored
    with open_stack(tmp_path / "ztyx.zarr") as stack:
        assert (stack.axes, stack.metadata["stored_axes"]) == ("TZYX", "ZTYX")
        grid = stack.data.chunk_grid()
        assert grid is not None and grid.shape == (1, 3, 64, 72)  # (T, Z, Y, X): 1 T per chunk
        np.testing.assert_array_equal(np.asarray(stack.data), tzyx)
        np.testing.assert_array_equal(stack.data[1, :, 3], tzyx[1, :, 3])


def test_user_axes_name_the_file_order(tmp_path, tzyx):
    """``--axes`` corrects the file's own dimensions (as stored), then the order is canonical."""
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, tzyx.transpose(1, 0, 2, 3))  # no axes stated: read as TZYX
    with open_stack(path, axes="ZTYX") as stack:
        assert stack.axes == "TZYX" and stack.metadata["axes_source"] == "user"
        np.testing.assert_array_equal(stack.to_numpy(), tzyx)


@pytest.mark.slow
def test_labels_of_a_ztyx_image_lie_over_it_and_finetune_takes_the_pair(
        tmp_path, tzyx, model_dir, monkeypatch):
    from unet_studio.plugins.io import read_stacks, write_labels

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    image = _write_ome(tmp_path / "ztyx.ome.tif", tzyx.transpose(1, 0, 2, 3), "ZTYX")
    labels = tmp_path / "labels.tif"
    assert main(["predict", str(image), "-o", str(labels), "--model", str(model_dir),
                 "--device", "cpu"]) == 0
    [(image_data, image_meta, _)] = read_stacks(str(image))
    [(labels_data, labels_meta, kind)] = read_stacks(str(labels))
    assert kind == "labels" and labels_meta["metadata"]["axes"] == image_meta["metadata"]["axes"]
    assert labels_data.shape == image_data.shape == tzyx.shape
    np.testing.assert_allclose(labels_meta["scale"], image_meta["scale"])
    # The napari writer saves labels made over that layer aligned with it too.
    corrected = np.asarray(labels_data).copy()
    corrected[1, 2, :10, :10] = 999
    [saved] = write_labels(str(tmp_path / "corrected.tif"), corrected, image_meta)
    with open_stack(saved) as back:
        assert back.axes == "TZYX" and back.data[1, 2, 5, 5] == 999
    out = tmp_path / "tuned"
    assert main(["finetune", "--image", str(image), "--labels", saved, "--model", str(model_dir),
                 "-o", str(out), "--max-steps", "2", "--patch-size", "32", "--batch-size", "2",
                 "--device", "cpu"]) == 0
    assert (out / "config.json").exists()
