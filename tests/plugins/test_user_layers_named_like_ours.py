"""A user's own layers named as the app's helper layers ("reviewed", "merge and split
picks") are theirs: the app found its helpers by name, replaced the data of a user's
Labels layer "reviewed" with its overlay, and removed a user's Image "reviewed" with the
last labels (plugin QA). The helpers are now known by a tag."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def test_the_users_layers_named_like_the_helpers_keep_their_data_and_stay(studio, nuclei_crop):
    from unet_studio.plugins.helper_layers import REVIEWED_LAYER, helper_layer

    viewer, session = studio.viewer, studio.session
    image, labels = nuclei_crop
    viewer.add_image(image[6], name="nuclei", metadata={"axes": "YX"})
    session.show_labels(labels[6].copy())
    mine = np.zeros(labels[6].shape, np.int32)
    mine[10:20, 10:20], mine[40:50, 40:50] = 7, 8
    theirs = viewer.add_labels(mine.copy(), name="reviewed")  # (their own QC layer)
    picks = viewer.add_points([[5.0, 5.0]], name="merge and split picks")
    session.select_image("nuclei")

    regions = session.ensure_reviewed()
    regions.mark_region((slice(0, 30), slice(None)))
    session.reviewed_changed_by_user()
    session.host.show_tool_points([(12.0, 12.0)])

    overlay = helper_layer(viewer.layers, REVIEWED_LAYER)
    assert overlay is not None and overlay is not theirs and overlay.data[:30].all()
    np.testing.assert_array_equal(theirs.data, mine)  # (was our overlay's mask)
    assert theirs.visible and viewer.layers["reviewed"] is theirs
    np.testing.assert_array_equal(picks.data, [[5.0, 5.0]])
    assert session.host.current_image().name == "nuclei"

    # Their Image "reviewed": an image of theirs, kept when the last labels go.
    flat = viewer.add_image(np.ones(labels[6].shape, np.float32), name="reviewed image")
    flat.name = "reviewed"  # (napari had named it apart while their Labels had the name)
    viewer.layers.remove(theirs)
    flat.name = "reviewed"
    viewer.layers.remove("nuclei labels")
    names = [layer.name for layer in viewer.layers]
    assert "reviewed" in names and viewer.layers["reviewed"] is flat and flat.data.shape == labels[6].shape
    assert picks in viewer.layers and helper_layer(viewer.layers, REVIEWED_LAYER) is None
    viewer.layers.selection.active = flat
    assert session.host.active_image_name() == "reviewed"  # (an image: it is not ours)
