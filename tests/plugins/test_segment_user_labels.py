"""A prediction never writes into a Labels layer the user brought or painted themselves: it
goes to the image's own labels layer (a new one the first time), the user is told once, and
no two layers ever share one array."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def test_segment_leaves_a_painted_labels_layer_alone(
        studio, segment_panel_of, run_segment, told, nuclei_crop):
    """Run with the user's "painted by me" active, twice: its square (id 5) stays, the
    prediction goes to "img labels" (made by the first run, reused by the second), and the
    user hears of it once. Before, the prediction was streamed into the painted layer and a
    second layer was added on the same array."""
    from napari.layers import Labels

    image, _ = nuclei_crop
    viewer = studio.viewer
    viewer.add_image(np.ascontiguousarray(image[6, :64, :64]), name="img")
    painting = np.zeros((64, 64), np.int32)
    painting[10:40, 10:40] = 5
    painted = viewer.add_labels(painting.copy(), name="painted by me")
    panel = segment_panel_of(studio)
    for _ in range(2):
        viewer.layers.selection.active = painted
        run_segment(panel)
        np.testing.assert_array_equal(painted.data, painting)
        labels = [layer for layer in viewer.layers if isinstance(layer, Labels)]
        assert [layer.name for layer in labels] == ["painted by me", "img labels"]
        own = viewer.layers["img labels"]
        assert own.data.any() and not np.shares_memory(own.data, painted.data)
        assert studio.host.current_labels() is own.data
    about = [message for _, message in told if "painted by me" in message]
    assert len(about) == 1 and "img labels" in about[0]


def test_segment_again_after_renaming_its_labels_layer_adds_no_second_layer(
        studio, segment_panel_of, run_segment, nuclei_crop):
    """The user renamed "img labels" to "nuclei": a second Run streams into that layer and
    shows it there. Before, it added a new "img labels" layer on the very same array."""
    from napari.layers import Labels

    image, _ = nuclei_crop
    viewer = studio.viewer
    viewer.add_image(np.ascontiguousarray(image[6, :64, :64]), name="img")
    panel = segment_panel_of(studio)
    run_segment(panel)
    viewer.layers["img labels"].name = "nuclei"
    run_segment(panel)
    labels = [layer for layer in viewer.layers if isinstance(layer, Labels)]
    assert [layer.name for layer in labels] == ["nuclei"]
    assert studio.host.current_labels() is labels[0].data
