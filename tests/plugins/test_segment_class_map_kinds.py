"""Segment on class maps in a real viewer: a model of the other kind than the labels hold
(objects over a reviewed class map, or the reverse) is refused before anything changes; a
semantic run's Done line gives class shares, not objects; the object options are greyed
for a semantic model."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt

CLASSES = ("background", "mitochondria", "membrane")


@pytest.fixture
def class_map_shown(studio):
    """An EM image (48, 48) whose labels are a class map of CLASSES, recorded so."""
    studio.viewer.add_image(np.random.default_rng(0).random((48, 48), np.float32), name="em",
                            metadata={"axes": "YX"})
    classes = np.zeros((48, 48), np.int32)
    classes[4:20, 4:20], classes[30:] = 1, 2
    studio.session.show_labels(classes.copy())
    studio.host.record_labels_classes(CLASSES)
    return classes


def test_an_objects_model_is_refused_on_a_reviewed_class_map(
        studio, class_map_shown, tiny_model_dir, segment_panel_of, told):  # fmt: skip
    studio.session.ensure_reviewed().mark_region((slice(0, 24), slice(None)))
    studio.session.set_model(str(tiny_model_dir))  # (an instance model)
    segment = segment_panel_of(studio)
    segment.output_combo.setCurrentText("labels")
    segment.run()
    assert segment.worker is None
    status = segment.status.text()
    assert status.startswith("Not started:"), status
    assert "holds a class map (background, mitochondria, membrane) with reviewed corrections" \
           in status and "outputs objects" in status, status
    assert "a semantic model of background, mitochondria, membrane" in status
    assert "remove or rename the labels layer" in status
    assert any(level == "error" and "Prediction not started" in text for level, text in told)
    np.testing.assert_array_equal(studio.host.current_labels(), class_map_shown)
    assert studio.host.labels_classes() == CLASSES


def test_a_semantic_model_is_refused_on_reviewed_objects(studio, em_model, segment_panel_of):
    studio.viewer.add_image(np.random.default_rng(0).random((48, 48), np.float32), name="nuclei",
                            metadata={"axes": "YX"})
    objects = np.zeros((48, 48), np.int32)
    objects[4:10, 4:10], objects[20:30, 20:30] = 5, 9
    studio.session.show_labels(objects.copy())
    studio.host.record_labels_classes(())
    studio.session.ensure_reviewed().mark_region((slice(0, 12), slice(0, 12)))
    studio.session.set_model(str(em_model))
    segment = segment_panel_of(studio)
    segment.run()
    assert segment.worker is None
    assert "holds objects with reviewed corrections, and em outputs a class map" \
           in segment.status.text()
    assert "an objects (instance) model" in segment.status.text()
    np.testing.assert_array_equal(studio.host.current_labels(), objects)
    assert studio.host.labels_classes() == ()


def test_unreviewed_class_map_replaced_by_objects_says_so(
        studio, class_map_shown, tiny_model_dir, segment_panel_of, run_segment):  # fmt: skip
    studio.session.set_model(str(tiny_model_dir))
    segment = segment_panel_of(studio)
    run_segment(segment)
    assert "(replacing the class map the labels held)" in segment.status.text()
    assert studio.host.labels_classes() == ()


def test_a_semantic_run_says_class_shares_and_greys_object_options(
        studio, class_map_shown, em_model, tiny_model_dir, segment_panel_of, run_segment):  # fmt: skip
    segment = segment_panel_of(studio)
    assert segment.min_size_spin.isEnabled() and segment.split_spin.isEnabled()
    studio.session.set_model(str(em_model))
    for spin in (segment.min_size_spin, segment.split_spin):
        assert not spin.isEnabled()
        assert "em is a semantic model" in spin.toolTip()
    run_segment(segment)
    done = segment.status.text()
    labels = studio.host.current_labels()
    share = f"{100 * np.count_nonzero(labels == 2) / labels.size:.0f}%"
    assert f"membrane {share}" in done and "background " in done, done
    assert "object" not in done and "reviewed regions" not in done, done
    studio.session.set_model(str(tiny_model_dir))
    assert segment.min_size_spin.isEnabled() and segment.split_spin.isEnabled()
