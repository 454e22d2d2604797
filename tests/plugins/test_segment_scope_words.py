""""Run on" names what one view is for the image and model chosen: the time point on screen
where only a time axis is left beside the model's axes (a 2D model on a time-lapse), the
slice otherwise. "Current slice" on a time-lapse read as a Z plane to a new user."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def test_run_on_names_the_time_point_of_a_time_lapse_and_the_slice_of_a_stack(studio, qtbot):
    from unet_studio.app.qt.segment_panel import SegmentPanel

    viewer = studio.viewer
    frames = np.random.default_rng(0).random((3, 32, 32)).astype(np.float32)
    viewer.add_image(frames, name="stack", metadata={"axes": "ZYX"})
    viewer.add_image(frames.copy(), name="movie", metadata={"axes": "TYX"})
    panel = SegmentPanel(studio.session)
    qtbot.addWidget(panel)

    def choose(name: str) -> str:
        panel.image_combo.setCurrentText(name)
        panel.image_combo.activated.emit(panel.image_combo.currentIndex())
        return panel.scope_slice.text()

    assert choose("movie") == "Current time point"
    assert choose("stack") == "Current slice" and panel.scope_stack.text() == "Whole stack"
    panel.axes_edit.setText("TYX")  # (the stack typed as a time series)
    panel.axes_edit.editingFinished.emit()
    assert panel.scope_slice.text() == "Current time point"


def test_run_on_one_view_is_greyed_where_one_view_is_the_whole_image(studio, qtbot):
    """A 2D image with a 2D model: nothing to choose a slice of (it offered "Current slice",
    which segmented the whole image)."""
    from unet_studio.app.qt.segment_panel import SegmentPanel

    studio.viewer.add_image(np.random.default_rng(0).random((32, 32)).astype(np.float32),
                            name="plane", metadata={"axes": "YX"})
    studio.viewer.add_image(np.random.default_rng(1).random((3, 32, 32)).astype(np.float32),
                            name="movie", metadata={"axes": "TYX"})
    panel = SegmentPanel(studio.session)
    qtbot.addWidget(panel)

    def choose(name: str) -> None:
        panel.image_combo.setCurrentText(name)
        panel.image_combo.activated.emit(panel.image_combo.currentIndex())

    choose("movie")
    panel.scope_slice.setChecked(True)
    choose("plane")
    assert not panel.scope_slice.isEnabled() and panel.scope_stack.isChecked()
    assert panel.scope_stack.text() == "Whole image"  # (it said "Whole stack" of a plane)
    choose("movie")
    assert panel.scope_slice.isEnabled() and panel.scope_stack.text() == "Whole series"
