"""Panels closed with their dock's X and opened again from the Plugins menu."""

from __future__ import annotations

import gc

import numpy as np

from unet_studio.plugins.widgets import session_for

PLUGIN = "unet-studio"


def _close_and_reopen(viewer, name: str, times: int):
    """Close the panel ``name`` with its dock's X, then open it again, ``times`` times."""
    dock, panel = viewer.window.add_plugin_dock_widget(PLUGIN, name)
    for _ in range(times):
        dock.destroyOnClose()  # what the dock title bar's X does
        dock, panel = viewer.window.add_plugin_dock_widget(PLUGIN, name)
    return dock, panel


def test_a_reopened_panel_is_the_one_closed_and_reacts_once(make_napari_viewer, studio_home,
                                                            tiny_model_dir, qtbot):
    from unet_studio.app.qt.segment_panel import SegmentPanel

    viewer = make_napari_viewer()
    session = session_for(viewer)
    session.set_model(str(tiny_model_dir))
    viewer.add_image(np.random.default_rng(0).random((48, 48), dtype=np.float32), name="cells",
                     metadata={"axes": "YX"})
    first_dock, first = viewer.window.add_plugin_dock_widget(PLUGIN, "Segment")
    first.tile_combo.setCurrentText("16")  # a choice the user made before closing
    dock, panel = _close_and_reopen(viewer, "Segment", times=3)
    _close_and_reopen(viewer, "Correct", times=3)
    assert panel is first and panel.tile_combo.currentText() == "16"
    assert viewer.window.dock_widgets["Segment (unet-studio)"] is panel  # docked again
    gc.collect()
    # (the type, not isinstance: that reads __class__, and a deprecated torch attribute
    # met among all objects warns on that)
    segment_panels = [o for o in gc.get_objects() if issubclass(type(o), SegmentPanel)]
    session.predict_requested.emit()  # what Accept and Roll back in Train send
    running = [p for p in segment_panels if p.worker is not None]
    # Every panel ever opened used to stay wired to the session: four predictions started.
    assert running == [panel]
    qtbot.waitUntil(lambda: panel.worker is None, timeout=60_000)
    assert viewer.layers["cells labels"].data.shape == (48, 48)
