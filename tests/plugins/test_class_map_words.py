"""What the Segment and Correct panels say of class maps (a semantic model's labels: value =
class index) speaks of classes, not objects; the object-only actions refuse a class map
however they are called; and the Correct panel's status and project lines stay current
(a refused R, a closed project)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


@pytest.fixture
def class_map_panel(studio, em_model, qtbot):
    """(studio, Correct panel): a 2D time series (T, Y, X) = (2, 24, 24) whose labels are a
    class map of the current semantic model (em_model)."""
    from unet_studio.app.qt.correct_panel import CorrectPanel

    studio.session.set_model(str(em_model))
    labels = np.zeros((2, 24, 24), np.int32)
    labels[:, 2:8, 2:8], labels[:, 20:, :] = 1, 2
    studio.viewer.add_image(np.zeros(labels.shape, np.float32), name="em",
                            metadata={"axes": "TYX"})
    studio.session.show_labels(labels)
    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    return studio, panel


def _press(viewer, key: str, at) -> None:
    """Press ``key`` through napari's key handling with the mouse pointer at ``at``."""
    viewer.cursor.position = at
    viewer.window._qt_viewer.canvas._key_map_handler.press_key(key)


def test_an_untrained_semantic_model_is_said_to_paint_noise_classes(studio, tmp_path,
                                                                    segment_panel_of):
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.task import TaskSpec
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2, out_channels=3)
    folder = save_model(net, tmp_path / "fresh-em", metadata={"name": "fresh-em", "untrained": True},
                        task=TaskSpec(kind="semantic", class_names=("bg", "mito", "membrane")))
    panel = segment_panel_of(studio)
    studio.session.set_model(str(folder))
    text = panel.status.text()
    assert "untrained" in text and "one class everywhere" in text and "object" not in text
    studio.session.set_model(str(_untrained_instance(tmp_path)))
    assert "one object" in panel.status.text()


def _untrained_instance(tmp_path):
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2)
    return save_model(net, tmp_path / "fresh", metadata={"name": "fresh", "untrained": True})


def test_export_measurements_tip_follows_the_labels_kind(class_map_panel):
    studio, panel = class_map_panel
    tip = panel.measure_button.toolTip()
    assert "per class" in tip and "objects" not in tip
    studio.host.record_labels_classes(())  # (objects, as an instance model's run records)
    tip = panel.measure_button.toolTip()
    assert "of the objects" in tip and "class" not in tip


def test_k_off_the_labels_of_a_class_map_speaks_of_classes(class_map_panel, told):
    studio, panel = class_map_panel
    studio.viewer.dims.ndisplay = 3
    _press(studio.viewer, "K", (0, 500, 500))  # (far off the labels: no voxel on the ray)
    assert told[-1][0] == "warning" and "point at a class" in told[-1][1]
    assert "object" not in told[-1][1] and "point at a class" in panel.tool_status.text()


def test_a_refused_r_is_said_in_the_status_line(corrected, qtbot, told):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    viewer, layer = corrected.viewer, corrected.host.labels_layer()
    panel = CorrectPanel(corrected.session)
    qtbot.addWidget(panel)
    z, y, x = np.argwhere(layer.data > 0)[0]
    viewer.dims.set_point(0, z * layer.scale[0])
    _press(viewer, "D", tuple(np.array((z, y, x)) * layer.scale))
    panel.undo_button.click()
    qtbot.waitUntil(lambda: panel.tool_status.text().startswith("Undone:"))
    viewer.dims.ndisplay = 3
    _press(viewer, "R", tuple(np.array((z, y, x)) * layer.scale))
    assert "no single slice to mark" in told[-1][1]
    assert panel.tool_status.text().startswith("In the 3D view there is no single slice to mark")
    panel.redo_button.click()
    qtbot.waitUntil(lambda: panel.tool_status.text().startswith("Redone:"))
    panel.mark_slice_button.click()  # (the button as the key)
    assert "no single slice to mark" in panel.tool_status.text()


def test_show_tracks_refuses_a_class_map(class_map_panel, told):
    studio, panel = class_map_panel
    layers = len(studio.viewer.layers)
    assert panel.show_tracks() is None and panel.tracks_worker is None
    assert told[-1][0] == "error" and "class map" in told[-1][1] and "not objects" in told[-1][1]
    assert len(studio.viewer.layers) == layers


def test_the_project_line_follows_a_closed_project(studio, qtbot, tmp_path):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    studio.session.open_project(tmp_path / "proj", create=True)
    assert panel.project_label.text() == f"Project: {tmp_path / 'proj'}"
    studio.session.close_project()
    assert studio.session.project is None
    assert panel.project_label.text() == "No project open yet."
