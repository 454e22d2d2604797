"""A class map saved from napari (File > Save Selected Layers, our writer) and opened again
(our reader) is a class map still: its class names on the layer, class colours, the names
in the status bar, the brush kept on a class; recorded as objects, it gets napari's colours."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt

CLASSES = ("background", "mitochondria", "membrane")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["em_classes.tif", "em_classes.zarr"])
def test_a_saved_class_map_opens_as_one(make_napari_viewer, tmp_path, name):
    from napari.plugins.io import save_layers

    from unet_studio.app.class_map import CLASS_NAMES_KEY, class_colour
    from unet_studio.plugins.napari_classes import show_classes, show_classes_when_added

    viewer = make_napari_viewer()
    told = []
    show_classes_when_added(viewer, told.append)
    labels = np.zeros((2, 16, 16), np.int32)
    labels[:, 2:8, 2:8], labels[:, 10:, :] = 1, 2
    layer = viewer.add_labels(labels, name="em labels", metadata={"axes": "TYX"})
    show_classes(layer, CLASSES, told.append)  # (as a semantic Segment run records them)
    [written] = save_layers(str(tmp_path / name), [layer], plugin="unet-studio")

    [opened] = viewer.open(written, plugin="unet-studio")
    assert opened.metadata[CLASS_NAMES_KEY] == list(CLASSES)
    assert type(opened.colormap).__name__ == "DirectLabelColormap"
    assert np.allclose(opened.colormap.map(np.array([2]))[0], class_colour(2))
    assert list(opened.features["class"]) == list(CLASSES)  # (napari's status bar)
    opened.selected_label = 7  # (napari's M or +: no class)
    assert opened.selected_label == 2 and "label 7 is no class" in told[-1]
    show_classes(opened, (), told.append)  # (objects after all: napari's colours)
    assert type(opened.colormap).__name__ == "CyclicLabelColormap"
