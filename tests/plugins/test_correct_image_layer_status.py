"""The Correct panel with two images, the image layer active (as QA works: the keys act on
its labels): Ctrl+Z and Ctrl+Shift+Z undo and redo those labels, New label id makes them the
active layer (napari's brush paints on the active layer), and the status line speaks of
the labels shown now, not of another image's, older labels' or a class map's."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt

HELP_START = "Paint, erase, fill and polygon"


def _labels(offset: int) -> np.ndarray:
    labels = np.zeros((32, 32), np.int32)
    labels[4:12, 4:12], labels[18:28, 18:28] = 1 + offset, 2 + offset
    return labels


@pytest.fixture
def two_images(studio, qtbot):
    """(studio, Correct panel): images "a" and "b" (32 x 32), each with two objects ("a":
    ids 1 and 2, "b": 11 and 12); "a"'s image layer is the active one."""
    from unet_studio.app.qt.correct_panel import CorrectPanel

    layers = studio.viewer.layers
    rng = np.random.default_rng(0)
    for name, offset in (("a", 0), ("b", 10)):
        studio.viewer.add_image(rng.random((32, 32), np.float32), name=name, metadata={"axes": "YX"})
        layers.selection.active = layers[name]
        studio.session.show_labels(_labels(offset))
    layers.selection.active = layers["a"]
    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    assert studio.host.labels_layer().name == "a labels"
    return studio, panel


def _press(viewer, key: str, at=(6.0, 6.0)) -> None:
    """Press ``key`` through napari's key handling with the mouse pointer at ``at``."""
    viewer.cursor.position = at
    viewer.window._qt_viewer.canvas._key_map_handler.press_key(key)


@pytest.mark.slow
def test_ctrl_z_over_the_image_layer_undoes_its_labels(two_images, qtbot):
    from qtpy.QtWidgets import QWidget

    studio, panel = two_images
    viewer, layer = studio.viewer, studio.host.labels_layer()
    before = layer.data.copy()
    _press(viewer, "D")  # (our key, with the image layer active)
    assert not (layer.data == 1).any() and viewer.layers.selection.active is viewer.layers["a"]
    _press(viewer, "Control-Z")
    np.testing.assert_array_equal(layer.data, before)
    qtbot.waitUntil(lambda: panel.tool_status.text() == "Undone: delete 1.")
    _press(viewer, "Control-Shift-Z")
    assert not (layer.data == 1).any()
    qtbot.waitUntil(lambda: panel.tool_status.text() == "Redone: delete 1.")
    # (the labels layer active: napari's own undo, once, not ours as well)
    viewer.layers.selection.active = layer
    _press(viewer, "Control-Z")
    np.testing.assert_array_equal(layer.data, before)
    window = QWidget()
    panel.setParent(window)
    panel.setParent(None)  # (the panel out of its window: its keys go with it)
    viewer.layers.selection.active = viewer.layers["a"]
    _press(viewer, "Control-Shift-Z")
    np.testing.assert_array_equal(layer.data, before)


def test_new_label_id_makes_the_labels_the_active_layer(two_images):
    studio, panel = two_images
    layers = studio.viewer.layers
    panel.fresh_button.click()
    layer = studio.host.labels_layer()
    assert layers.selection.active is layer and layer.name == "a labels"
    assert layer.mode == "paint" and layer.selected_label == 3


def test_picking_a_label_makes_the_labels_the_active_layer(two_images):
    """K (and the Pick tool) choose napari's brush: it paints on the active layer only, so
    with the image layer left active the next stroke panned instead."""
    studio, panel = two_images
    layers = studio.viewer.layers
    _press(studio.viewer, "K", (22.0, 22.0))  # (over object 2 of "a")
    layer = studio.host.labels_layer()
    assert layers.selection.active is layer and layer.name == "a labels"
    assert layer.mode == "paint" and layer.selected_label == 2


def test_status_line_follows_the_image_and_its_labels(two_images, qtbot, segment_panel_of,
                                                     run_segment):  # fmt: skip
    studio, panel = two_images
    viewer, layers = studio.viewer, studio.viewer.layers
    _press(viewer, "D")
    _press(viewer, "Control-Z")
    qtbot.waitUntil(lambda: panel.tool_status.text() == "Undone: delete 1.")
    layers.selection.active = layers["b"]  # another image: its labels' status
    assert panel.tool_status.text().startswith(HELP_START)
    _press(viewer, "D", (20.0, 20.0))
    assert panel.tool_status.text() == "Deleted object 12."
    layers.selection.active = layers["a"]
    assert panel.tool_status.text().startswith(HELP_START)

    _press(viewer, "R")
    assert panel.tool_status.text() == "The image marked as reviewed."
    run_segment(segment_panel_of(studio))  # new labels for "a", in the same layer
    assert panel.tool_status.text().startswith(HELP_START)


@pytest.fixture
def em_model(tmp_path):
    """A tiny 2D semantic model of three classes, saved as a model folder."""
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.task import TaskSpec
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2, out_channels=3)
    task = TaskSpec(kind="semantic", class_names=("background", "mito", "membrane"))
    return save_model(net, tmp_path / "em", task=task, metadata={"name": "em"})


@pytest.mark.slow
def test_class_map_wording_and_refusal_gone_with_it(studio, em_model, tiny_model_dir, qtbot,
                                                    told, segment_panel_of, run_segment):  # fmt: skip
    from unet_studio.app.qt.correct_panel import CorrectPanel

    studio.viewer.add_image(np.random.default_rng(1).random((32, 32), np.float32), name="em",
                            metadata={"axes": "YX"})
    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    segment = segment_panel_of(studio)
    studio.session.set_model(str(em_model))
    run_segment(segment)  # a class map
    pick = panel.tool_buttons["pick"]
    assert pick.text() == "Pick class (click)"
    assert not panel.find_order.isEnabled() and not panel.find_button.isEnabled()
    assert "is a class map" in panel.find_order.toolTip()
    _press(studio.viewer, "D")
    assert "is a class map" in panel.tool_status.text()

    studio.session.set_model(str(tiny_model_dir))
    run_segment(segment)  # its objects replace the class map
    assert studio.host.labels_classes() == ()
    assert "class map" not in panel.tool_status.text()
    assert panel.tool_status.text().startswith(HELP_START)
    assert pick.text() == "Pick label (click)" and panel.find_order.isEnabled()
    assert panel.find_order.toolTip().startswith("Check the objects")
