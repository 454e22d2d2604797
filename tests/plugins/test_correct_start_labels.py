"""Labels started by hand from the Correct panel on an image that has none, and 8-bit labels
(napari's own "New labels layer") widened when their ids run out, in a real napari viewer:
painted with napari's brush and saved in the project."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt

SCALE = (2.0, 0.5, 0.5)


@pytest.fixture
def unlabelled(studio, qtbot):
    """The studio with a (Z, Y, X) = (3, 24, 32) image and no labels, and a Correct panel."""
    from unet_studio.app.qt.correct_panel import CorrectPanel

    image = np.random.default_rng(0).random((3, 24, 32)).astype(np.float32)
    studio.viewer.add_image(image, name="cells", metadata={"axes": "ZYX"}, scale=SCALE)
    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    return studio, panel


def test_new_label_id_starts_labels_to_paint_by_hand(unlabelled, told, saved_labels, qtbot):
    studio, panel = unlabelled
    assert studio.host.current_labels() is None
    panel.tool_buttons["add"].click()  # (a tool that needs labels says how to start them)
    assert "press New label id to start labels" in panel.tool_status.text()
    panel.cancel_button.click()

    panel.fresh_button.click()
    layer = studio.host.labels_layer()
    assert layer.data.dtype == np.int32 and layer.data.shape == (3, 24, 32)
    assert tuple(layer.scale) == SCALE and not layer.data.any()
    assert layer.mode == "paint" and layer.selected_label == 1
    assert any("paint an object" in message for _, message in told)
    assert panel.tool_status.text().startswith("Started empty labels for cells")

    layer.brush_size = 3
    layer.paint((1, 10, 12), layer.selected_label)  # (napari's brush)
    painted = layer.data.copy()
    assert painted[1, 10, 12] == 1
    qtbot.waitUntil(lambda: studio.session.reviewed.changed[1, 10, 12])  # (the stroke is seen)
    np.testing.assert_array_equal(saved_labels(studio.session), painted)

    # Its labels layer closed, New label id brings the saved labels back, not empty ones.
    studio.viewer.layers.remove(layer)
    panel.fresh_button.click()
    np.testing.assert_array_equal(studio.host.current_labels(), painted)
    assert studio.host.labels_layer().selected_label == 2


def test_new_label_id_widens_napari_8_bit_labels_whose_ids_ran_out(unlabelled, told,
                                                                   saved_labels, qtbot):  # fmt: skip
    studio, panel = unlabelled
    mine = studio.viewer.add_labels(np.zeros((3, 24, 32), np.uint8), name="mine", scale=SCALE)
    mine.paint((0, 5, 5), 255)
    ran_out = mine.data.copy()

    panel.fresh_button.click()  # (first: an offer, nothing changed)
    level, message = told[-1]
    # (what to do comes first: a notification shows its first line only)
    assert level == "warning" and message.startswith("Press New label id again to give 'mine'")
    # (said before the user agrees: Ctrl+Z no longer reaches back past the widening)
    assert "The edits made before can then no longer be undone." in message
    assert mine.data.dtype == np.uint8

    panel.fresh_button.click()
    layer = studio.host.labels_layer()
    assert layer is mine and mine.data.dtype == np.int32
    np.testing.assert_array_equal(mine.data, ran_out)
    assert mine.selected_label == 256 and mine.mode == "paint"

    mine.paint((2, 15, 20), mine.selected_label)
    assert mine.data[2, 15, 20] == 256 and mine.data[0, 5, 5] == 255
    qtbot.waitUntil(lambda: studio.session.reviewed.changed[2, 15, 20])
    np.testing.assert_array_equal(saved_labels(studio.session), mine.data)
