"""Segment panel in a real viewer: the sample opens, prediction runs off the GUI thread,
results keep reviewed regions, and Cancel leaves the labels as they were."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def _segment_panel(studio, qtbot):
    from unet_studio.app.qt.segment_panel import SegmentPanel

    panel = SegmentPanel(studio.session)
    qtbot.addWidget(panel)
    return panel


def test_sample_opens_and_segments_through_the_panel(studio, qtbot):
    viewer = studio.viewer
    viewer.open_sample("unet-studio", "hela_timelapse")
    panel = _segment_panel(studio, qtbot)
    assert panel.image_combo.currentText() == viewer.layers[0].name
    assert panel.axes_edit.text() == "TYX"
    assert panel.device_combo.findText("cpu") >= 0
    panel.scope_slice.setChecked(True)  # the frame on screen: quick
    with qtbot.waitSignal(panel.finished, timeout=60_000) as blocker:
        panel.run_button.click()
        assert panel.cancel_button.isEnabled() and not panel.run_button.isEnabled()
    labels = studio.host.current_labels()
    assert labels.shape == (2, 512, 512) and labels.dtype == np.int32
    assert not labels[1].any()  # only the frame on screen was segmented
    assert blocker.args[0].job.target[0] == slice(0, 1)
    assert panel.progress.value() == 100 and panel.run_button.isEnabled()
    assert [layer.name for layer in viewer.layers] == ["hela_timelapse", "hela_timelapse labels"]


def test_new_prediction_keeps_reviewed_regions(corrected, qtbot):
    session, host = corrected.session, corrected.host
    labels = host.current_labels()
    reference = labels.copy()
    session.ensure_reviewed().mark_region((slice(4, 5), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    panel = _segment_panel(corrected, qtbot)
    panel.tile_combo.setCurrentText("64")
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        panel.run()
    new = host.current_labels()
    np.testing.assert_array_equal(new[4], reference[4])  # reviewed plane untouched
    assert new.shape == reference.shape
    assert session.reviewed.mask[4].all()  # and still marked reviewed


def test_cancel_leaves_labels_untouched(studio, qtbot):
    studio.viewer.open_sample("unet-studio", "hela_timelapse")
    host = studio.host
    before = np.arange(2 * 512 * 512, dtype=np.int32).reshape(2, 512, 512) % 7
    studio.session.show_labels(before.copy())
    panel = _segment_panel(studio, qtbot)
    panel.tile_combo.setCurrentText("16")  # thousands of small tiles: time to cancel
    steps = []
    panel.run()
    panel.worker.yielded.connect(steps.append)
    qtbot.waitUntil(lambda: len(steps) > 0, timeout=60_000)
    with qtbot.waitSignal(panel.cancelled, timeout=30_000):
        panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.worker is None, timeout=10_000)
    assert steps[-1].done < steps[-1].total  # it really stopped early
    np.testing.assert_array_equal(host.current_labels(), before)
    assert "Cancelled" in panel.status.text()
    assert panel.run_button.isEnabled()


def test_bad_axes_are_reported_not_raised(studio, qtbot, nuclei_crop):
    studio.viewer.add_image(nuclei_crop[0], name="nuclei")
    panel = _segment_panel(studio, qtbot)
    panel.axes_edit.setText("ZZX")
    panel.run()
    assert panel.worker is None and panel.run_button.isEnabled()


def test_progress_shows_in_napari_activity_dock_when_forced(studio, qtbot, monkeypatch, nuclei_crop):
    from napari.utils import progress

    monkeypatch.setenv("UNET_STUDIO_ACTIVITY_PROGRESS", "1")  # on even under software OpenGL
    studio.viewer.add_image(nuclei_crop[0], name="nuclei", metadata={"axes": "ZYX"})
    panel = _segment_panel(studio, qtbot)
    seen = []
    panel.run()
    seen.append([bar.desc for bar in progress._all_instances])
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        pass
    assert any("Segmenting nuclei" in desc for desc in seen[0])
    assert not any("Segmenting" in bar.desc for bar in progress._all_instances)  # closed
