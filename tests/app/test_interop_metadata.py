"""Metadata other readers use: NGFF ``image-label`` on labels and masks written as OME-Zarr
(ome-zarr-py and napari-ome-zarr take a group as labels by that key alone), and the names of
probability channels (OME-TIFF ``Channel Name``, OME-Zarr ``omero.channels[i].label``,
ImageJ plane labels). Files are written, then read back with zarr and tifffile."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
import tifffile
import zarr

from unet_studio.app.cli import main
from unet_studio.app.io import open_output, open_stack, write_stack

CLASSES = ["background", "foreground", "boundary"]  # the model_dir fixture's TaskSpec()


def zarr_attributes(path) -> dict:
    return dict(zarr.open_group(str(path), mode="r").attrs)


def ome_channel_names(path) -> list[str]:
    with tifffile.TiffFile(path) as tif:
        root = ElementTree.fromstring(tif.ome_metadata)
    return [channel.get("Name") for channel in root.iter() if channel.tag.endswith("}Channel")]


@pytest.mark.parametrize("kind", ["labels", "mask"])
def test_streamed_labels_zarr_carries_image_label_and_reads_as_labels(tmp_path, kind):
    path = tmp_path / f"{kind}.zarr"
    with open_output(path, (2, 24, 20), np.uint8, axes="ZYX", kind=kind) as out:
        out[:, 4:9, 5:12] = 1
    attributes = zarr_attributes(path)
    assert attributes["image-label"]["version"] == "0.4"
    assert attributes["unet_studio"] == {"kind": kind}  # (kept: our reader's own key)
    assert attributes["multiscales"][0]["version"] == "0.4"
    with open_stack(path) as stack:
        assert stack.metadata["kind"] == kind


def test_written_labels_zarr_carries_image_label_and_an_image_none(tmp_path):
    labels = np.zeros((30, 26), np.int32)
    labels[3:9, 4:10] = 7
    written = write_stack(tmp_path / "cells.zarr", labels, axes="YX", kind="labels")
    image = write_stack(tmp_path / "image.zarr", labels.astype(np.uint16), axes="YX", kind="image")
    assert zarr_attributes(written)["image-label"] == {"version": "0.4"}
    assert "image-label" not in zarr_attributes(image)


def test_foreign_ngff_label_image_reads_as_a_labels_layer(tmp_path):
    """An OME-Zarr label image another tool wrote (``image-label``, none of our metadata)."""
    from unet_studio.plugins.io import read_stacks

    path = tmp_path / "nuclei.zarr"
    group = zarr.open_group(str(path), mode="w", zarr_format=2)
    group.create_array("0", data=np.arange(12 * 10, dtype=np.uint16).reshape(12, 10) % 3)
    group.attrs.put({
        "multiscales": [{"version": "0.4", "axes": [{"name": "y", "type": "space"},
                                                    {"name": "x", "type": "space"}],
                         "datasets": [{"path": "0", "coordinateTransformations": [
                             {"type": "scale", "scale": [1.0, 1.0]}]}]}],
        "image-label": {"version": "0.4", "source": {"image": "../../"}}})
    (layer,) = read_stacks(str(path))
    assert layer[2] == "labels" and layer[1]["metadata"]["kind"] == "labels"


@pytest.mark.parametrize("compress_below", [None, 0])  # compressed again, or kept as streamed
def test_streamed_ome_tiff_names_its_channels(tmp_path, compress_below):
    path = tmp_path / "p.ome.tif"
    with open_output(path, (3, 16, 12), np.float32, axes="CYX", channel_names=CLASSES,
                     compress_below=compress_below) as out:
        out[:] = 0.25
    assert ome_channel_names(path) == CLASSES


def test_channel_names_of_another_count_are_refused_before_writing(tmp_path):
    path = tmp_path / "p.zarr"
    with pytest.raises(ValueError, match="2 channel names for 3"):
        with open_output(path, (3, 16, 12), np.float32, axes="CYX", channel_names=CLASSES[:2]):
            pass
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["p.ome.tif", "p.zarr", "p.tif"])
def test_written_probabilities_name_their_channels_as_predicted_ones_do(tmp_path, name):
    """``write_stack`` names the channels as the predict path's outputs do."""
    probabilities = np.random.default_rng(1).random((2, 3, 16, 12)).astype(np.float32)
    target = write_stack(tmp_path / name, probabilities, axes="ZCYX", kind="probabilities",
                         channel_names=CLASSES)
    if name.endswith(".ome.tif"):
        assert ome_channel_names(target) == CLASSES
    elif name.endswith(".zarr"):
        omero = zarr_attributes(target)["omero"]
        assert [channel["label"] for channel in omero["channels"]] == CLASSES
    else:  # an ImageJ hyperstack (Z, C, Y, X): each plane labelled by its class
        with tifffile.TiffFile(target) as tif:
            assert tif.is_imagej and tif.imagej_metadata["Labels"] == CLASSES * 2
    with open_stack(target) as stack:
        np.testing.assert_allclose(np.asarray(stack.data), probabilities)
    with pytest.raises(ValueError, match="2 channel names for 3"):
        write_stack(tmp_path / f"other-{name}", probabilities, axes="ZCYX",
                    kind="probabilities", channel_names=CLASSES[:2])
    assert not (tmp_path / f"other-{name}").exists()


@pytest.mark.parametrize("name", ["p.ome.tif", "p.zarr", "p.tif"])
def test_predicted_probabilities_name_their_channels_by_class(tmp_path, model_dir, name):
    image = (np.random.default_rng(0).random((2, 33, 29)) * 4000).astype(np.uint16)
    source = write_stack(tmp_path / "nuclei.tif", image, axes="ZYX", kind="image")
    target = tmp_path / name
    assert main(["predict", str(source), "-o", str(target), "--model", str(model_dir),
                 "--output-type", "probabilities", "--device", "cpu"]) == 0
    if name.endswith(".ome.tif"):
        assert ome_channel_names(target) == CLASSES
    elif name.endswith(".zarr"):
        omero = zarr_attributes(target)["omero"]
        assert [channel["label"] for channel in omero["channels"]] == CLASSES
        assert all(channel["window"]["end"] == 1.0 for channel in omero["channels"])
        assert "image-label" not in zarr_attributes(target)
    else:  # an ImageJ hyperstack (Z, C, Y, X): each plane labelled by its class
        with tifffile.TiffFile(target) as tif:
            assert tif.is_imagej
            assert tif.imagej_metadata["Labels"] == CLASSES * 2
    with open_stack(target) as stack:  # (our reader is not put off by the names)
        assert stack.sizes["C"] == 3 and stack.metadata["kind"] == "probabilities"
