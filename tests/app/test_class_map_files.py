"""Labels files of a class map (``app.class_map``) keep their class names: written by
``write_stack`` and by the streamed ``open_output`` (``unet-studio predict`` with a semantic
model) into our own records, read back as ``Stack.metadata["class_names"]``, and where other
programs look (ImageJ's Info, OME-Zarr ``image-label`` properties and colours)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_studio.app.io import open_output, open_stack, write_stack

CLASSES = ["background", "mitochondria", "membrane"]


@pytest.fixture
def class_map() -> np.ndarray:
    labels = np.zeros((2, 16, 16), np.int32)
    labels[:, 2:8, 2:8], labels[:, 10:, :] = 1, 2
    return labels


@pytest.mark.parametrize("name", ["em.tif", "em.ome.tif", "em.zarr"])
def test_written_class_names_are_read_back(tmp_path, class_map, name):
    written = write_stack(tmp_path / name, class_map, axes="TYX", class_names=CLASSES)
    with open_stack(written) as back:
        assert back.metadata["kind"] == "labels" and back.metadata["class_names"] == CLASSES
        np.testing.assert_array_equal(back.to_numpy(), class_map)
    plain = write_stack(tmp_path / f"objects_{name}", class_map, axes="TYX")
    with open_stack(plain) as back:
        assert "class_names" not in back.metadata


def test_others_read_the_names_too(tmp_path, class_map):
    import zarr

    tif = write_stack(tmp_path / "em.tif", class_map, axes="TYX", class_names=CLASSES)
    with tifffile.TiffFile(tif) as opened:  # (Fiji: Image > Show Info)
        assert opened.imagej_metadata["Info"].splitlines()[1:] == [
            "0: background", "1: mitochondria", "2: membrane"]
    store = write_stack(tmp_path / "em.zarr", class_map, axes="TYX", class_names=CLASSES)
    label = dict(zarr.open_group(str(store), mode="r").attrs)["image-label"]
    assert label["properties"] == [{"label-value": i, "name": n} for i, n in enumerate(CLASSES)]
    assert [c["label-value"] for c in label["colors"]] == [0, 1, 2]
    assert label["colors"][0]["rgba"][3] == 0 and label["colors"][1]["rgba"][3] == 255


@pytest.mark.parametrize("name", ["streamed.tif", "streamed.zarr"])
def test_streamed_labels_keep_their_class_names(tmp_path, class_map, name):
    """What ``unet-studio predict`` writes with a semantic model (``app.predict_files``)."""
    with open_output(tmp_path / name, class_map.shape, np.int32, axes="TYX",
                     class_names=CLASSES) as out:
        out[:] = class_map
    with open_stack(tmp_path / name) as back:
        assert back.metadata["class_names"] == CLASSES


def test_uint16_imagej_labels_keep_their_class_names(tmp_path, class_map):
    """The predict path's last step for labels to a .tif (``_write_imagej_labels``)."""
    from unet_studio.app.io.tiff_write import write_uint16_labels

    units = dict.fromkeys("TYX", "pixel")
    write_uint16_labels(tmp_path / "em.tif", class_map, axes="TYX", scale=dict.fromkeys("TYX", 1.0),
                        units=units, compress=True, class_names=CLASSES)
    with open_stack(tmp_path / "em.tif") as back:
        assert back.metadata["format"] == "imagej" and back.metadata["class_names"] == CLASSES


def test_class_names_are_for_labels_only(tmp_path, class_map):
    with pytest.raises(ValueError, match="class names are for labels or masks"):
        write_stack(tmp_path / "p.tif", class_map.astype(np.float32), axes="TYX",
                    kind="probabilities", class_names=CLASSES)
