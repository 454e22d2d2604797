"""The reviewed overlay in napari is hidden, not removed, when the marks go (undoing the
only edit) and shown again when they come back: napari collects garbage on each removal and
adding the layer again costs up to a second on a big stack. The user may still hide or
delete it themselves."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.plugins.napari_layer_events import REVIEWED_LAYER

pytestmark = pytest.mark.qt


def _paint(layer, qtbot) -> None:
    layer.paint((6, 40, 40), 77)
    qtbot.wait(30)  # (the marks are redrawn a turn later)


def test_undoing_the_only_edit_hides_the_overlay_and_a_redo_shows_the_same_layer(corrected, qtbot):
    session, viewer = corrected.session, corrected.viewer
    layer = session.host.labels_layer()
    removed = []
    viewer.layers.events.removed.connect(lambda event: removed.append(event.value.name))
    _paint(layer, qtbot)
    overlay = viewer.layers[REVIEWED_LAYER]
    assert overlay.visible and overlay.data[6, 40, 40] == 1
    layer.undo()
    qtbot.wait(30)
    assert not session.reviewed.any()
    assert viewer.layers[REVIEWED_LAYER] is overlay and not overlay.visible
    assert overlay.data.size == 1  # (the old mask is let go)
    layer.redo()
    qtbot.wait(30)
    assert viewer.layers[REVIEWED_LAYER] is overlay and overlay.visible
    np.testing.assert_array_equal(overlay.data.astype(bool), session.reviewed.mask)
    assert removed == []


def test_an_overlay_the_user_hid_or_deleted_is_left_so(corrected, qtbot):
    session, viewer = corrected.session, corrected.viewer
    layer = session.host.labels_layer()
    _paint(layer, qtbot)
    overlay = viewer.layers[REVIEWED_LAYER]
    overlay.visible = False  # (the user's eye button)
    layer.undo()
    qtbot.wait(30)
    layer.redo()
    qtbot.wait(30)
    assert viewer.layers[REVIEWED_LAYER] is overlay and not overlay.visible
    overlay.visible = True
    viewer.layers.remove(overlay)  # (the user deletes it)
    layer.undo()
    qtbot.wait(30)
    assert REVIEWED_LAYER not in viewer.layers
    layer.redo()
    qtbot.wait(30)
    again = viewer.layers[REVIEWED_LAYER]
    assert again is not overlay and again.visible and again.data[6, 40, 40] == 1
    session.set_overlay_visible(False)
    assert not viewer.layers[REVIEWED_LAYER].visible
    session.set_overlay_visible(True)
    assert viewer.layers[REVIEWED_LAYER].visible
