"""The Correct panel on a class map (a semantic model's labels: value = class index): the
object tools refuse it and leave its pixels alone, a class picker chooses napari's brush
value, each class has its own fixed colour and its name in the status bar, and a Segment
run records on the layer whether its labels are classes or objects (``app.class_map``)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt

CLASSES = ("background", "mitochondria", "membrane")


@pytest.fixture
def class_map(studio, em_model, qtbot):
    """(studio, Correct panel, labels layer): a 2D time series (2, 24, 24) whose labels are
    a class map of the current semantic model: two mitochondria (1) and a membrane band (2)."""
    from unet_studio.app.qt.correct_panel import CorrectPanel

    studio.session.set_model(str(em_model))
    labels = np.zeros((2, 24, 24), np.int32)
    labels[:, 2:8, 2:8], labels[:, 12:18, 12:18], labels[:, 20:, :] = 1, 1, 2
    studio.viewer.add_image(np.random.default_rng(0).random(labels.shape, np.float32),
                            name="em", metadata={"axes": "TYX"})
    studio.session.show_labels(labels)
    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    return studio, panel, studio.host.labels_layer()


def _press(viewer, key: str, at) -> None:
    """Press ``key`` through napari's key handling with the mouse pointer at ``at``."""
    viewer.cursor.position = at
    viewer.window._qt_viewer.canvas._key_map_handler.press_key(key)


def test_object_keys_and_buttons_leave_a_class_map_alone(class_map, told):
    studio, panel, layer = class_map
    before = layer.data.copy()
    assert not panel.fresh_button.isVisibleTo(panel) and panel.class_combo.isVisibleTo(panel)
    assert "Object tools are off" in panel.tool_status.text()
    presses = [("D", (0, 4, 4)), ("G", (0, 4, 4)), ("G", (0, 14, 14)), ("S", (0, 3, 3)),
               ("S", (0, 6, 6)), ("Shift-S", (0, 6, 6)), ("A", (0, 10, 10)), ("H", (0, 4, 4)),
               ("I", (0, 4, 4)), ("U", (1, 4, 4)), ("N", (0, 4, 4))]  # fmt: skip
    for key, at in presses:
        told.clear()
        _press(studio.viewer, key, at)
        assert told and told[-1][0] == "warning" and "is a class map" in told[-1][1], key
        assert "paint with a class instead" in panel.tool_status.text(), key
        if key == "I":  # (named as its button on a time-lapse)
            assert "Fill between time points" in told[-1][1]
    for button in (panel.fill_button, panel.relabel_button, panel.interpolate_button,
                   panel.find_button, panel.tracks_button, *panel.tool_buttons.values()):
        if button is panel.tool_buttons["pick"]:
            continue  # (K: a class to paint with)
        assert not button.isEnabled() and "is a class map" in button.toolTip()
        button.click()
    np.testing.assert_array_equal(layer.data, before)


def test_class_picker_colours_and_names_of_a_class_map(class_map, told):
    from unet_studio.app.class_map import class_colour

    studio, panel, layer = class_map
    combo = panel.class_combo
    assert [combo.itemText(i) for i in range(combo.count())] == \
        ["background (0)", "mitochondria (1)", "membrane (2)"]
    combo.activated.emit(2)  # (a choice of the user's)
    assert layer.selected_label == 2 and layer.mode == "paint"
    assert panel.tool_status.text().startswith("Painting with membrane (2)")
    layer.selected_label = 5  # (napari's M or the label spin box: no class)
    assert layer.selected_label == 2 and "label 5 is no class" in told[-1][1]
    np.testing.assert_allclose(layer.get_color(1), class_colour(1), atol=0.01)
    np.testing.assert_allclose(layer.get_color(2), class_colour(2), atol=0.01)
    assert layer.get_color(0) is None or layer.get_color(0)[3] == 0  # (class 0: see through)
    assert "class: membrane" in layer.get_status((0, 21, 3))["coordinates"]
    _press(studio.viewer, "K", (0, 4, 4))  # K picks the class under the pointer
    assert layer.selected_label == 1 and combo.currentIndex() == 1


def test_segment_runs_record_classes_then_objects(studio, em_model, tiny_model_dir, qtbot,
                                                  segment_panel_of, run_segment):  # fmt: skip
    from unet_studio.app.qt.correct_panel import CorrectPanel

    studio.viewer.add_image(np.random.default_rng(1).random((32, 32), np.float32), name="em",
                            metadata={"axes": "YX"})
    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    segment = segment_panel_of(studio)
    studio.session.set_model(str(em_model))
    run_segment(segment)
    layer = studio.host.labels_layer()
    assert studio.host.labels_classes() == CLASSES and panel.class_combo.isVisibleTo(panel)
    studio.session.set_model(str(tiny_model_dir))  # (an instance model chosen: still classes)
    assert not panel.tool_buttons["delete"].isEnabled()
    run_segment(segment)  # its objects replace the class map
    assert studio.host.labels_layer() is layer and studio.host.labels_classes() == ()
    assert panel.tool_buttons["delete"].isEnabled() and panel.fresh_button.isVisibleTo(panel)
    assert "is a class map" not in panel.tool_buttons["delete"].toolTip()
    assert type(layer.colormap).__name__ == "CyclicLabelColormap"  # (napari's own colours)


def test_instance_labels_stay_objects_when_a_semantic_model_is_chosen(corrected, em_model,
                                                                      qtbot):  # fmt: skip
    from unet_studio.app.qt.correct_panel import CorrectPanel

    panel = CorrectPanel(corrected.session)
    qtbot.addWidget(panel)
    corrected.session.set_model(str(em_model))  # (the labels hold ids up to 40: objects)
    assert corrected.host.labels_classes() == ()
    assert panel.tool_buttons["delete"].isEnabled() and panel.fill_button.isEnabled()


def test_a_reopened_project_of_a_semantic_model_shows_its_class_map(
        studio, em_model, make_napari_viewer, qtbot, tmp_path):  # fmt: skip
    import tifffile

    from unet_studio.app.qt.correct_panel import CorrectPanel
    from unet_studio.plugins.widgets import session_for

    tifffile.imwrite(tmp_path / "em.tif", np.zeros((24, 24), np.float32))
    studio.session.open_project(tmp_path / "project", create=True)
    studio.session.set_model(str(em_model))  # (the project records it)
    studio.viewer.open(tmp_path / "em.tif", plugin="unet-studio")
    labels = np.zeros((24, 24), np.int32)
    labels[2:8, 2:8], labels[20:] = 1, 2
    studio.session.show_labels(labels)
    assert studio.session.project.flush(10)
    studio.session.close_project()

    viewer = make_napari_viewer()
    session = session_for(viewer)
    viewer.open(tmp_path / "em.tif", plugin="unet-studio")
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    session.open_project(tmp_path / "project")  # its labels come back: the model's classes
    assert session.host.labels_classes() == CLASSES
    assert panel.class_combo.isVisibleTo(panel) and not panel.tool_buttons["delete"].isEnabled()
    session.close_project()
