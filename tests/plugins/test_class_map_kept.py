"""A semantic model's class map in a real viewer (``app.class_map``): shown as one from the
first tile of its first Segment run (and given back as objects when that run is cancelled),
remembered per project image so that a reopening shows it so whatever model is current,
and measured per class by Correct's Export measurements."""

from __future__ import annotations

import csv

import numpy as np
import pytest

pytestmark = pytest.mark.qt

CLASSES = ("background", "mitochondria", "membrane")


def _is_class_map(layer) -> bool:
    return type(layer.colormap).__name__ == "DirectLabelColormap"


@pytest.mark.slow
def test_first_semantic_run_shows_classes_from_its_start_and_a_cancel_gives_objects_back(
        studio, em_model, qtbot, segment_panel_of, run_segment):  # fmt: skip
    studio.viewer.add_image(np.random.default_rng(0).random((256, 256), np.float32), name="em",
                            metadata={"axes": "YX"})
    segment = segment_panel_of(studio)
    studio.session.set_model(str(em_model))
    segment.output_combo.setCurrentText("labels")
    with qtbot.waitSignal(segment.finished, timeout=60_000):
        segment.run()
        # Running: its new labels layer is a class map already (colours, names), not at the end.
        layer = studio.host.labels_layer()
        assert segment.worker is not None and layer is not None
        assert studio.host.labels_classes() == CLASSES and _is_class_map(layer)
    # Labels of objects (ids beyond the classes), then a run cancelled before its first tile.
    objects = np.zeros((256, 256), np.int32)
    objects[10:20, 10:20], objects[40:50, 40:50] = 7, 12
    studio.session.show_labels(objects)
    studio.host.record_labels_classes(())  # (as an instance model's run records them)
    assert not _is_class_map(layer)
    segment.intensity_block_pixels = 16  # (thousands of steps before the first tile)
    segment.run()
    assert studio.host.labels_classes() == CLASSES and _is_class_map(layer)
    with qtbot.waitSignal(segment.cancelled, timeout=30_000):
        segment.cancel_button.click()
    np.testing.assert_array_equal(layer.data, objects)
    assert studio.host.labels_classes() == () and not _is_class_map(layer)


@pytest.mark.slow
def test_a_reopened_project_shows_its_class_map_whatever_model_is_current(
        studio, em_model, tiny_model_dir, tmp_path):  # fmt: skip
    from unet_studio.app.class_map import labels_classes

    studio.viewer.add_image(np.random.default_rng(1).random((24, 24), np.float32), name="em",
                            metadata={"axes": "YX"})
    studio.viewer.add_image(np.random.default_rng(2).random((24, 24), np.float32),
                            name="nuclei", metadata={"axes": "YX"})
    session = studio.session
    session.open_project(tmp_path / "project", create=True)
    classes = np.zeros((24, 24), np.int32)
    classes[2:8, 2:8], classes[20:] = 1, 2
    objects = np.zeros((24, 24), np.int32)
    objects[3:6, 3:6], objects[10:14, 10:14] = 1, 2  # (values that are classes too)
    for name, labels, names in (("em", classes, CLASSES), ("nuclei", objects, ())):
        session.select_image(name)
        session.show_labels(labels)
        studio.host.record_labels_classes(names)  # (as a Segment run records them)
    session.set_model(str(tiny_model_dir))  # an instance model current when it is closed
    session.close_project()
    for name in ("em labels", "nuclei labels"):
        studio.viewer.layers.remove(name)
    session.select_image("em")
    session.open_project(tmp_path / "project")
    assert studio.host.labels_classes() == CLASSES and labels_classes(session) == CLASSES
    assert _is_class_map(studio.host.labels_layer())
    session.set_model(str(em_model))  # a semantic model current: objects stay objects
    session.close_project()
    studio.viewer.layers.remove("em labels")
    session.select_image("nuclei")
    session.open_project(tmp_path / "project")
    assert studio.host.labels_layer().name == "nuclei labels"
    np.testing.assert_array_equal(studio.host.current_labels(), objects)
    assert studio.host.labels_classes() == () and labels_classes(session) == ()


@pytest.mark.slow
def test_export_measurements_of_a_class_map_gives_one_row_per_class_and_frame(
        studio, em_model, qtbot, tmp_path, told):  # fmt: skip
    from unet_studio.app.qt.correct_panel import CorrectPanel

    image = np.full((2, 16, 16), 10.0, np.float32)
    image[:, 8:] = 30.0
    studio.viewer.add_image(image, name="em", metadata={"axes": "TYX"})
    labels = np.zeros((2, 16, 16), np.int32)
    labels[0, 0:4, 0:4], labels[0, 12:, :] = 1, 2  # mitochondria 16 px, membrane 64 px
    labels[1, 12:, :] = 2  # no mitochondrion in frame 1: a row of 0 pixels all the same
    studio.session.show_labels(labels)
    studio.host.record_labels_classes(CLASSES)
    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    assert panel._default_measurements_path().name == "em_classes.csv"
    target = tmp_path / "classes.csv"
    assert panel.export_measurements(target) is not None
    qtbot.waitUntil(lambda: panel.measure_worker is None, timeout=30_000)
    with open(target, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["frame"], row["class"], row["class_name"], row["pixels"]) for row in rows] == [
        ("0", "1", "mitochondria", "16"), ("0", "2", "membrane", "64"),
        ("1", "1", "mitochondria", "0"), ("1", "2", "membrane", "64")]
    assert float(rows[1]["mean_intensity"]) == pytest.approx(30.0)
    assert float(rows[1]["integrated_intensity"]) == pytest.approx(64 * 30.0)
    assert "label" not in rows[0] and "centroid_y_px" not in rows[0]
    assert told[-1] == ("info", f"Measured 2 classes (mitochondria, membrane) of em in 2 "
                                f"frames: {target}")
