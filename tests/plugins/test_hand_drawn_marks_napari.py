"""Objects painted with napari's brush on labels started by hand (New label id) mark their
grown pixels, not a box: the nuclei beside them not painted yet stay unreviewed. A plane
holding a prediction keeps the box."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

pytestmark = pytest.mark.qt


def _grown(mask: np.ndarray) -> np.ndarray:
    """A plane's pixels grown by the default margin (2) in a square."""
    return ndi.binary_dilation(mask, np.ones((5, 5), bool))


@pytest.mark.slow
def test_napari_brush_on_labels_started_by_hand_marks_no_box(studio, qtbot):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    image = np.random.default_rng(0).random((2, 40, 48)).astype(np.float32)
    studio.viewer.add_image(image, name="cells", metadata={"axes": "ZYX"})
    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    panel.fresh_button.click()  # (empty labels to paint by hand)
    layer, session = studio.host.labels_layer(), studio.session
    layer.data[0, 30:36, 30:36] = 9  # plane 0 holds a prediction (never painted)
    layer.brush_size = 11
    for z, dabs in ((1, [(12, 12), (20, 14)]), (1, [(12, 34)]), (0, [(12, 12)])):
        panel.fresh_button.click()
        for dab in dabs:  # (a stroke: reported once all its dabs are painted)
            layer.paint((z, *dab), layer.selected_label)
        qtbot.waitUntil(lambda z=z, dab=dab: session.reviewed.changed[(z, *dab)])
    mask, data = session.reviewed.mask, layer.data
    assert set(np.unique(data[1])) == {0, 1, 2}
    np.testing.assert_array_equal(mask[1], _grown(data[1] != 0))  # a ring around each disc
    disc = np.argwhere((data[0] != 0) & (data[0] != 9))
    box = np.zeros(mask[0].shape, bool)
    (top, left), (bottom, right) = disc.min(0) - 2, disc.max(0) + 3
    box[top:bottom, left:right] = True  # the box the user looked at, corners included
    np.testing.assert_array_equal(mask[0], box)
