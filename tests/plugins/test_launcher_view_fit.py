"""The standalone window's view follows the window as it settles (laid out, maximised)
until the user moves it: the sample fills the canvas, not a small patch in its middle."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.qt


def _fitted_zoom(viewer) -> float:
    """The zoom napari's own fit gives at the canvas's size now (the camera put back after)."""
    camera = viewer.scene.camera
    zoom, center = camera.zoom, camera.center
    viewer.reset_view()
    fitted = viewer.scene.camera.zoom
    camera.zoom, camera.center = zoom, center
    return fitted


def test_the_sample_fills_the_window_once_resized_until_the_user_zooms(studio_home,
                                                                        make_napari_viewer,
                                                                        qtbot):  # fmt: skip
    # (make_napari_viewer isolates napari's registries for the viewer open_studio makes)
    from unet_studio.app.launcher import open_studio

    viewer = open_studio(show=True, load_sample=True)
    try:
        window = viewer.window._qt_window
        qtbot.waitExposed(window)
        start = viewer.scene.camera.zoom
        window.resize(1600, 1000)
        # (settled: the docks are fitted after the window's resize, and the canvas resized
        # again; the view follows each resize)
        qtbot.waitUntil(lambda: viewer.scene.camera.zoom > 1.2 * start and
                        viewer.scene.camera.zoom == pytest.approx(_fitted_zoom(viewer), rel=1e-3),
                        timeout=10_000)  # fmt: skip

        viewer.scene.camera.zoom *= 3  # the user zooms in: the view is theirs from now on
        zoomed = viewer.scene.camera.zoom
        window.resize(1300, 900)
        qtbot.wait(500)
        assert viewer.scene.camera.zoom == pytest.approx(zoomed)
    finally:
        viewer.close()
