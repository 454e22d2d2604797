"""Our helper layers (reviewed overlay, review regions, merge and split picks) are hidden and
refilled, not removed, and the next image may be of another rank or scale: a 3D stack after
a 2D image. napari 0.9 keeps a hidden layer's old extent when its data changes, and showing
the overlay then broke every repaint of the canvas (IndexError in napari's drawing)."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.plugins.napari_layer_events import REVIEWED_LAYER
from unet_studio.plugins.napari_tool_layers import PICKS_LAYER, REGIONS_LAYER

pytestmark = pytest.mark.qt

SCALE = (0.29, 0.26, 0.26)


def _show_flat_then_stack(studio, nuclei_crop, user_hides=False) -> None:
    """Labels of a 2D image with its overlay shown (then hidden by the user's eye button
    when ``user_hides``), then the labels of a 3D stack."""
    image, labels = nuclei_crop
    viewer, session = studio.viewer, studio.session
    viewer.add_image(image[6], name="flat", metadata={"axes": "YX"})
    session.show_labels(labels[6].copy())
    studio.host.set_reviewed_overlay(labels[6] > 0)
    viewer.layers[REVIEWED_LAYER].visible = not user_hides
    viewer.add_image(image, name="stack", metadata={"axes": "ZYX"}, scale=SCALE)
    session.show_labels(labels.copy())


def _assert_drawn_over_labels(studio, layer) -> None:
    labels = studio.host.labels_layer()
    assert layer.extent.data.shape == (2, labels.ndim)
    np.testing.assert_allclose(layer.scale, labels.scale)
    studio.viewer.window._qt_window.grab()  # (raised IndexError in napari's paint)
    assert studio.viewer.screenshot(canvas_only=True).size


@pytest.mark.slow
def test_the_overlay_hidden_over_a_2d_image_shows_a_stack_mask(studio, nuclei_crop, qtbot):
    _show_flat_then_stack(studio, nuclei_crop)
    studio.host.set_reviewed_overlay(None)  # (the stack has no marks yet, or the box unticked)
    mask = nuclei_crop[1] > 0
    studio.host.set_reviewed_overlay(mask)  # (the first mark on the stack)
    overlay = studio.viewer.layers[REVIEWED_LAYER]
    assert overlay.visible and overlay.data.shape == mask.shape
    _assert_drawn_over_labels(studio, overlay)


@pytest.mark.slow
def test_an_overlay_the_user_hid_is_refilled_for_a_stack_and_shown_by_them(studio, nuclei_crop):
    _show_flat_then_stack(studio, nuclei_crop, user_hides=True)
    overlay = studio.viewer.layers[REVIEWED_LAYER]
    studio.host.set_reviewed_overlay(nuclei_crop[1] > 0)
    assert not overlay.visible
    overlay.visible = True
    _assert_drawn_over_labels(studio, overlay)


@pytest.mark.slow
def test_regions_and_picks_set_aside_over_a_2d_image_fit_the_stack(studio, nuclei_crop):
    image, labels = nuclei_crop
    host = studio.host
    studio.viewer.add_image(image[6], name="flat", metadata={"axes": "YX"})
    studio.session.show_labels(labels[6].copy())
    host.add_drawn_region(np.array([[2, 2], [2, 10], [10, 10]], float))
    host.clear_drawn_regions()
    host.show_tool_points([(5.0, 5.0)])
    host.show_tool_points([])
    studio.viewer.add_image(image[7], name="fine", metadata={"axes": "YX"}, scale=SCALE[1:])
    studio.session.show_labels(labels[7].copy())
    host.start_region_drawing()
    _assert_drawn_over_labels(studio, studio.viewer.layers[REGIONS_LAYER])
    host.show_tool_points([(6.0, 6.0)])
    _assert_drawn_over_labels(studio, studio.viewer.layers[PICKS_LAYER])
    studio.viewer.add_image(image, name="stack", metadata={"axes": "ZYX"}, scale=SCALE)
    studio.session.show_labels(labels.copy())
    host.clear_drawn_regions()
    host.start_region_drawing()
    _assert_drawn_over_labels(studio, studio.viewer.layers[REGIONS_LAYER])
