"""Streamed tiles redraw only their region of the labels on screen (a full refresh recolours
the whole plane: seconds on a large mosaic, at every redraw of a run)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


@pytest.mark.slow
def test_a_region_written_in_place_is_redrawn_alone(studio, qtbot):
    studio.viewer.add_image(np.zeros((3, 300, 400), np.float32), name="img", metadata={"axes": "ZYX"})
    studio.session.show_labels(np.zeros((3, 300, 400), np.int32))
    host = studio.host
    layer = host.labels_layer()
    studio.viewer.dims.set_current_step(0, 1)
    studio.viewer.window._qt_window.show()  # (the canvas sizes its texture when drawn)
    visual = studio.viewer.window._qt_viewer.canvas.layer_to_visual[layer]
    qtbot.waitUntil(lambda: visual.node._texture.shape[:2] == (300, 400), timeout=5_000)
    full = []

    def redraw(region):  # (a full refresh must not run for it)
        layer.refresh = lambda *args, **kwargs: full.append(1)
        try:
            host.refresh_labels(region)
        finally:
            del layer.refresh  # (napari's own again)

    labels = host.current_labels()
    before = studio.viewer.screenshot(canvas_only=True, flash=False)
    labels[1, 40:80, 100:160] = 7  # (a tile in the plane on screen)
    redraw((slice(1, 2), slice(40, 80), slice(100, 160)))
    after = studio.viewer.screenshot(canvas_only=True, flash=False)  # (what the user sees)
    changed = np.any(before != after, axis=-1)
    assert 0 < changed.mean() < 0.2  # (the tile drawn: about 2 % of the plane, in colour)
    view = layer._slice.image.view
    expected = layer.colormap._data_to_texture(np.full((40, 60), 7, np.int32))
    np.testing.assert_array_equal(view[40:80, 100:160], expected)
    assert not view[:40].any() and not view[80:].any()  # (the rest left as it was)

    labels[2, :50, :50] = 9  # (a tile in a plane not shown: nothing to draw now)
    redraw((slice(2, 3), slice(0, 50), slice(0, 50)))
    assert not view[:40, :50].any() and full == []

    studio.viewer.dims.set_current_step(0, 2)  # (shown when the user goes there)
    qtbot.waitUntil(lambda: layer._slice.image.raw[:50, :50].max() == 9, timeout=5_000)
