""""Mark drawn region" with "Through every slice": the polygon's area is marked in every Z
slice of the stack as one step, the status says how many, and the marks are autosaved."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def test_a_drawn_region_is_marked_through_every_slice_and_saved(corrected, qtbot):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    panel = CorrectPanel(corrected.session)
    qtbot.addWidget(panel)
    session, viewer = corrected.session, corrected.viewer
    assert not panel.through_check.isChecked()  # (off: the slice on screen only, as before)
    viewer.dims.set_point(0, 8 * 0.29)  # (world coordinates: plane z=8)
    square = np.array([[8, 10, 10], [8, 10, 40], [8, 40, 40], [8, 40, 10]], dtype=float)
    corrected.host.add_drawn_region(square)
    panel.through_check.setChecked(True)
    panel.mark_drawn_button.click()

    mask = session.reviewed.mask
    depth = mask.shape[0]
    assert mask[:, 20, 20].all() and mask[:, 39, 39].all()  # every slice, inside
    assert not mask[:, 60, 60].any() and not mask[:, 5, 5].any()  # nothing outside
    np.testing.assert_array_equal(mask[0], mask[8])  # the same area in each
    assert f"all {depth} slices (Z)" in panel.tool_status.text()
    assert corrected.host.drawn_regions() == []

    project = session.project  # (autosaved: a second opening reads every slice's marks)
    assert project.flush(10)
    again = type(project).open(project.path)
    try:
        np.testing.assert_array_equal(again.reviewed(again.images[0].id).mask, mask)
    finally:
        again.close()
