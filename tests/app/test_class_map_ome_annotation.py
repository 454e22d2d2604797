"""A class map written as OME-TIFF names its classes where OME readers (Fiji's Bio-Formats,
QuPath, OMERO) look: a MapAnnotation in the OME-XML linked to the image. Our reader takes
the names from it when our private tag is gone (a file re-saved by another program keeps
the OME-XML, not private tags)."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
import tifffile

from unet_studio.app.io import open_output, open_stack, write_stack

CLASSES = ["background", "mitochondria", "membrane"]
OME = "{http://www.openmicroscopy.org/Schemas/OME/2016-06}"


@pytest.fixture
def class_map() -> np.ndarray:
    labels = np.zeros((2, 16, 16), np.int32)
    labels[:, 2:8, 2:8], labels[:, 10:, :] = 1, 2
    return labels


def _write_streamed(path, class_map):
    with open_output(path, class_map.shape, np.int32, axes="TYX", class_names=CLASSES) as out:
        out[:] = class_map
    return path


def _image_key_values(path) -> list[dict[str, str]]:
    """The key-value pairs of every MapAnnotation linked to the file's first image."""
    with tifffile.TiffFile(path) as opened:
        root = ElementTree.fromstring(opened.ome_metadata)
    image = root.find(f"{OME}Image")
    linked = {ref.get("ID") for ref in image.findall(f"{OME}AnnotationRef")}
    maps = root.findall(f"{OME}StructuredAnnotations/{OME}MapAnnotation")
    return [{m.get("K"): m.text for m in a.iter(f"{OME}M")} for a in maps if a.get("ID") in linked]


@pytest.mark.parametrize("write", ["write_stack", "streamed"])
def test_ome_readers_find_the_class_names_in_the_ome_xml(tmp_path, class_map, write):
    path = tmp_path / "em.ome.tif"
    if write == "write_stack":
        write_stack(path, class_map, axes="TYX", class_names=CLASSES)
    else:
        _write_streamed(path, class_map)
    assert {"class 0": "background", "class 1": "mitochondria",
            "class 2": "membrane"} in _image_key_values(path)


def test_the_names_are_read_back_from_the_ome_xml_without_our_tag(tmp_path, class_map):
    written = write_stack(tmp_path / "em.ome.tif", class_map, axes="TYX", class_names=CLASSES)
    with tifffile.TiffFile(written) as opened:
        description, pixels = opened.ome_metadata, opened.asarray()
    resaved = tmp_path / "resaved.ome.tif"  # (as another program re-saves it: OME-XML only)
    tifffile.imwrite(resaved, pixels, description=description, metadata=None,
                     photometric="minisblack")
    with tifffile.TiffFile(resaved) as opened:
        assert opened.is_ome and 65100 not in opened.pages.first.tags  # (our tag is gone)
    with open_stack(resaved) as back:
        assert back.metadata["kind"] == "labels" and back.metadata["class_names"] == CLASSES
        np.testing.assert_array_equal(back.to_numpy(), class_map)
    objects = write_stack(tmp_path / "objects.ome.tif", class_map, axes="TYX")
    assert _image_key_values(objects) == []
    with open_stack(objects) as back:
        assert "class_names" not in back.metadata
