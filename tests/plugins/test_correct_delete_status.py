"""The Correct panel's status line says what a Delete click did, as the delete key does."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def _inside(labels, label_id, z=6):
    """A (z, y, x) coordinate in the middle of ``label_id`` on plane ``z``."""
    points = np.argwhere(labels[z] == label_id)
    y, x = points[len(points) // 2]
    return (float(z), float(y), float(x))


def test_delete_click_says_which_object_it_deleted(corrected, qtbot):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    panel = CorrectPanel(corrected.session)
    qtbot.addWidget(panel)
    labels = corrected.host.current_labels()
    panel.tool_buttons["delete"].click()
    assert panel.tool_status.text() == "Click an object to delete it."
    corrected.host.click(_inside(labels, 7))
    assert not (labels == 7).any()
    assert panel.tool_status.text() == "Deleted object 7. Click an object to delete it."
    panel.tool_buttons["delete"].click()  # off and on again: a fresh prompt
    panel.tool_buttons["delete"].click()
    assert panel.tool_status.text() == "Click an object to delete it."
