"""Deleting layers one at a time in a shown window: the app's helper layers (reviewed
overlay, merge and split picks) go with the last Labels layer, and the app never adds a
layer while napari is in the middle of removing one.

Before, the reviewed overlay outlived the labels: left alone in the viewer it was drawn
after the labels' GL objects were deleted and vispy segfaulted in ``glDrawArrays`` (Mesa's
software OpenGL). And the overlay, added again while napari was removing the labels it
had been shown over, put napari's Qt layer list out of step with its layers: each repaint
raised ``'NoneType' object has no attribute 'height'``."""

from __future__ import annotations

import numpy as np
import pytest
from napari.layers import Labels

from unet_studio.plugins.napari_layer_events import REVIEWED_LAYER
from unet_studio.plugins.napari_tool_layers import PICKS_LAYER

pytestmark = [pytest.mark.qt, pytest.mark.slow]  # a shown window: a second or two


@pytest.fixture
def shown(make_napari_viewer, studio_home, nuclei_crop):
    """A shown window with plane 6 of the nuclei crop, the labels made for it ('nuclei
    labels'), and after them the user's own Labels layer ('hand labels'): both with every
    pixel marked reviewed, so the overlay is shown over each in turn."""
    from unet_studio.plugins.widgets import session_for

    viewer = make_napari_viewer(show=True)
    viewer.window.resize(480, 360)  # a small canvas: software OpenGL draws it faster
    session = session_for(viewer)
    image, labels = nuclei_crop
    viewer.add_image(image[6], name="nuclei", metadata={"axes": "YX"})
    session.show_labels(labels[6].copy())
    _review_all(session)
    viewer.add_labels((image[6] > image[6].mean()).astype(np.int32), name="hand labels")
    _review_all(session)
    yield viewer, session
    session.close_project()


def _review_all(session) -> None:
    regions = session.ensure_reviewed()
    regions.mark_region(tuple(slice(None) for _ in regions.shape))
    session.reviewed_changed_by_user()


def _qt_rows(viewer) -> list[str]:
    """The layer names napari's Qt layer list shows, top row first."""
    model = viewer.window._qt_viewer.layers.model()
    return [model.index(row, 0).data() for row in range(model.rowCount())]


@pytest.mark.slow
def test_deleting_each_layer_in_turn_leaves_an_empty_viewer(shown, qtbot):
    viewer, session = shown
    assert [layer.name for layer in viewer.layers] == [
        "nuclei", "nuclei labels", REVIEWED_LAYER, "hand labels"]  # fmt: skip
    session.host.show_tool_points([(10.0, 10.0)])
    session.host.show_tool_points([])  # (the picks layer is emptied and hidden, kept)
    for name in ["nuclei", "nuclei labels", REVIEWED_LAYER, "hand labels"]:
        if name in viewer.layers:
            viewer.layers.remove(name)
        # Checked before the window draws again (no event loop in between): drawing the
        # wrong state crashed the process. napari's Qt layer list shows exactly the layers
        # (top row: the last layer).
        assert _qt_rows(viewer) == [layer.name for layer in reversed(viewer.layers)]
        if not any(isinstance(layer, Labels) for layer in viewer.layers):
            # (only our helper layers could be left here: they go with the last labels)
            assert [layer.name for layer in viewer.layers] == []
    qtbot.wait(50)  # the emptied window draws and its layer list repaints without errors


@pytest.mark.slow
def test_helper_layers_stay_while_some_labels_remain(shown, qtbot):
    viewer, session = shown
    session.host.show_tool_points([(10.0, 10.0)])
    viewer.layers.remove("nuclei labels")
    assert {REVIEWED_LAYER, PICKS_LAYER} <= {layer.name for layer in viewer.layers}
    # The overlay now shows the user's labels' marks: every pixel.
    assert viewer.layers[REVIEWED_LAYER].data.all()
    viewer.layers.remove("hand labels")
    assert [layer.name for layer in viewer.layers] == ["nuclei"]
    assert _qt_rows(viewer) == ["nuclei"]
