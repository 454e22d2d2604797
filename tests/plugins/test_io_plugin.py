"""napari reader and labels writer, exercised without napari (plain layer-data tuples)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_studio.app.errors import InputFileError
from unet_studio.app.io import LazyArray, open_stack, write_stack
from unet_studio.plugins.io import napari_get_reader, write_labels

SCALE = {"Z": 2.0, "Y": 0.5, "X": 0.4}


def test_reader_declines_unsupported_paths(tmp_path):
    assert napari_get_reader(str(tmp_path / "image.png")) is None
    assert napari_get_reader([str(tmp_path / "a.tif"), str(tmp_path / "b.jpg")]) is None
    assert callable(napari_get_reader(str(tmp_path / "a.ome.tiff")))
    assert callable(napari_get_reader([str(tmp_path / "a.tif"), str(tmp_path / "b.zarr")]))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputFileError, match="holds no .tif or .tiff file"):  # said, not refused
        napari_get_reader(str(empty))(str(empty))
    tifffile.imwrite(tmp_path / "plane.tif", np.zeros((4, 5), np.uint8))
    [(data, meta, _)] = napari_get_reader(str(tmp_path))(str(tmp_path))
    assert data.shape == (1, 4, 5) and meta["axis_labels"] == ["Z", "Y", "X"]


def test_reader_splits_channels_lazily_with_scale(tmp_path):
    data = np.arange(3 * 2 * 8 * 10, dtype=np.uint16).reshape(3, 2, 8, 10)  # CZYX
    path = str(write_stack(tmp_path / "cells.ome.tif", data, axes="CZYX", scale=SCALE, kind="image"))
    layers = napari_get_reader(path)(path)
    assert [meta["name"] for _, meta, _ in layers] == ["cells [C0]", "cells [C1]", "cells [C2]"]
    for channel, (layer_data, meta, layer_type) in enumerate(layers):
        assert layer_type == "image" and isinstance(layer_data, LazyArray)
        assert meta["scale"] == [2.0, 0.5, 0.4] and meta["axis_labels"] == ["Z", "Y", "X"]
        assert meta["units"] == ["micrometer"] * 3 and meta["metadata"]["source_path"] == path
        np.testing.assert_array_equal(layer_data[1], data[channel, 1])
    assert layers[1][1]["blending"] == "additive"


def test_reader_gives_pyramid_and_labels(tmp_path):
    labels = np.zeros((2, 64, 48), np.uint16)
    labels[:, 10:30, 5:25] = 7
    path = str(write_stack(tmp_path / "nuclei.zarr", labels, axes="ZYX", scale=SCALE, pyramid_levels=3))
    [(data, meta, layer_type)] = napari_get_reader(path)(path)
    # (labels are there to be painted, which napari cannot do to a pyramid: its full
    # resolution, when it fits in memory; see test_labels_reader_editable)
    assert layer_type == "labels" and not meta.get("multiscale")
    np.testing.assert_array_equal(data, labels)
    image = tmp_path / "image.zarr"
    write_stack(image, labels.astype(np.float32), axes="ZYX", scale=SCALE, kind="probabilities",
                pyramid_levels=3)
    [(levels, meta, layer_type)] = napari_get_reader(str(image))(str(image))
    assert layer_type == "image" and meta["multiscale"] is True
    assert [level.shape for level in levels] == [(2, 64, 48), (2, 32, 24), (2, 16, 12)]
    np.testing.assert_array_equal(np.asarray(levels[2]), labels[:, ::4, ::4])


def test_reader_rgb_is_one_rgb_layer(tmp_path):
    path = str(tmp_path / "photo.tif")
    tifffile.imwrite(path, np.zeros((6, 7, 3), np.uint8), photometric="rgb")
    [(data, meta, layer_type)] = napari_get_reader(path)(path)
    assert meta["rgb"] is True and data.shape == (6, 7, 3) and meta["scale"] == [1.0, 1.0]


def test_reader_error_names_the_file(tmp_path):
    path = tmp_path / "broken.tif"
    path.write_bytes(b"II*\x00" + bytes(4))
    with pytest.raises(InputFileError, match="broken.tif"):
        napari_get_reader(str(path))(str(path))


def test_reader_names_a_mistyped_size_variable(tmp_path, monkeypatch):
    """A bad UNET_STUDIO_CHUNK_CACHE_MB: the message napari shows names the variable (was a
    bare ValueError from deep inside the Zarr reader)."""
    from unet_studio.app.errors import UserError

    path = write_stack(tmp_path / "n.zarr", np.zeros((2, 8, 8), np.uint16), axes="ZYX",
                       kind="image")
    monkeypatch.setenv("UNET_STUDIO_CHUNK_CACHE_MB", "lots")
    with pytest.raises(UserError, match="UNET_STUDIO_CHUNK_CACHE_MB must be a number of MiB"):
        napari_get_reader(str(path))(str(path))


def test_write_labels_roundtrip_with_layer_metadata(tmp_path):
    image = write_stack(tmp_path / "image.tif", np.ones((3, 8, 9), np.uint16), axes="ZYX",
                        scale=SCALE, kind="image")
    [(_, image_meta, _)] = napari_get_reader(str(image))(str(image))
    labels = np.zeros((3, 8, 9), np.int32)
    labels[1, 2:5, 3:6] = 4
    layer_meta = {"scale": image_meta["scale"], "units": image_meta["units"],
                  "metadata": image_meta["metadata"], "name": "labels"}
    [written] = write_labels(str(tmp_path / "image_labels"), labels, layer_meta)
    assert written.endswith("image_labels.tif")
    back = open_stack(written)
    assert back.axes == "ZYX" and back.metadata["kind"] == "labels"
    assert back.scale == pytest.approx(SCALE)
    np.testing.assert_array_equal(back.to_numpy(), labels)
    with pytest.raises(InputFileError, match="input image"):
        write_labels(str(image), labels, layer_meta)
    plain = write_labels(str(tmp_path / "plain.tif"), labels[0], {"scale": [1.0, 1.0]})
    assert open_stack(plain[0]).units == {"Y": "pixel", "X": "pixel"}


@pytest.mark.parametrize("name", ["saved.tif", "saved.zarr"])
def test_napari_save_layers_writes_labels_through_our_writer(tmp_path, name):
    """File > Save Selected Layers with a .zarr name wrote nothing ("No data written!") while
    the writer was declared for TIFF only, although it writes OME-Zarr too."""
    from napari.layers import Labels
    from napari.plugins import _initialize_plugins
    from napari.plugins.io import save_layers

    _initialize_plugins()
    labels = np.zeros((3, 8, 9), np.int32)
    labels[1, 2:5, 3:6] = 4
    layer = Labels(labels, name="nuclei labels", scale=(2.0, 0.5, 0.4),
                   metadata={"axes": "ZYX"}, units=("um", "um", "um"))
    [written] = save_layers(str(tmp_path / name), [layer])
    back = open_stack(written)
    assert written.endswith(name) and back.axes == "ZYX"
    assert back.scale == pytest.approx(SCALE)
    np.testing.assert_array_equal(back.to_numpy(), labels)
