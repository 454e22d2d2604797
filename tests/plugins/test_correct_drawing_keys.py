"""While regions are drawn the regions layer is active, and napari asks the active layer
first: its shape keys (R rectangle, D direct select) took the object tools' keys without a
word (QA: D over a nucleus left it, R switched to rectangles). The status line says so from
Draw region until the regions are marked."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def test_the_status_line_says_whose_keys_act_while_regions_are_drawn(studio, qtbot):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    viewer = studio.viewer
    viewer.add_image(np.random.default_rng(0).random((32, 32), np.float32), name="a",
                     metadata={"axes": "YX"})
    labels = np.zeros((32, 32), np.int32)
    labels[4:12, 4:12] = 1
    studio.session.show_labels(labels)
    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    panel.draw_button.click()
    assert viewer.layers.selection.active.name == "review regions"
    said = panel.tool_status.text()
    assert said.startswith("Drawing regions:") and "napari's shape keys" in said
    viewer.layers["review regions"].add_polygons([np.array([[2.0, 2], [2, 20], [20, 20], [20, 2]])])
    panel.mark_drawn_button.click()
    assert viewer.layers.selection.active is studio.host.labels_layer()
    assert not panel.tool_status.text().startswith("Drawing regions:")  # (what was marked)
    assert studio.session.reviewed.mask[10, 10]
