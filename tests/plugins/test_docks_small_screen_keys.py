"""The launcher's tabbed docks on a small screen (1600x1000 at 1.5 display scaling: 1067 px
of logical width) and by keyboard: the window fits, and Tab stays out of the docks behind
the other tabs."""

from __future__ import annotations

import pytest
from qtpy.QtCore import Qt
from qtpy.QtTest import QTest
from qtpy.QtWidgets import QDockWidget

pytestmark = pytest.mark.qt

SCALED_SCREEN = (1067, 667)  # 1600x1000 at QT_SCALE_FACTOR=1.5
LEAST_CANVAS = 250  # px of canvas left beside napari's layer controls and our dock


def _dock(panel) -> QDockWidget:
    while not isinstance(panel, QDockWidget):
        panel = panel.parentWidget()
    return panel


@pytest.fixture
def tabbed(studio_home, make_napari_viewer, nuclei_crop, qtbot):
    """The launcher's window (Segment shown, the other panels behind its tabs), with an
    image: napari's layer controls for an image are 320 px wide."""
    from unet_studio.app.launcher import open_studio

    viewer = open_studio(show=False, load_sample=False)
    viewer.add_image(nuclei_crop[0], name="nuclei")
    window = viewer.window._qt_window
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(50)  # (the tab to start with is raised once the window is laid out)
    yield viewer
    viewer.close()


def test_the_window_fits_a_scaled_laptop_screen_with_a_canvas(tabbed, qtbot):
    window = tabbed.window._qt_window
    window.resize(*SCALED_SCREEN)
    qtbot.wait(50)
    # The dock was as wide as its widest tab's panel (Models 493 px): 1093 px at the least.
    assert window.width() == SCALED_SCREEN[0]
    assert tabbed.window._qt_viewer.canvas.native.width() >= LEAST_CANVAS


def test_tab_skips_the_panels_behind_other_tabs(tabbed, qtbot):
    docks = tabbed.window.dock_widgets
    segment = docks["Segment (unet-studio)"]
    hidden = [_dock(docks[f"{name} (unet-studio)"]) for name in ("Correct", "Train", "Models")]
    focused = segment.run_button
    for _ in range(12):
        QTest.keyClick(focused, Qt.Key.Key_Tab)
        focused = tabbed.window._qt_window.focusWidget()
        # (from Run, Tab went into the Correct panel's controls, moved off-screen, not hidden)
        assert not any(dock.isAncestorOf(focused) for dock in hidden), focused
    models = docks["Models (unet-studio)"]
    _dock(models).raise_()  # its tab chosen: its controls are back in the Tab chain
    qtbot.waitUntil(lambda: models.use_button.isVisible() and not segment.run_button.isVisible())


def test_a_long_model_name_does_not_widen_the_segment_panel(tabbed, qtbot):
    """The Segment panel's model box shortens a long name (its list shows it whole): the
    panel's content asked 430-439 px with the bundled model's name, wider than its dock."""
    from qtpy.QtWidgets import QScrollArea

    segment = tabbed.window.dock_widgets["Segment (unet-studio)"]
    combo = segment.model_combo
    combo.addItem("a fine-tuned nuclei model with a very long descriptive name (user)")
    combo.setCurrentIndex(combo.count() - 1)
    (area,) = [a for a in segment.findChildren(QScrollArea) if a.widget().isAncestorOf(combo)]
    assert area.widget().minimumSizeHint().width() <= 340


def test_the_tabs_are_named_by_the_panel_alone(tabbed):
    """"Segment", not napari's "Segment (unet-studio)": four of those were cut to
    "Segment (unet-..." side by side on a laptop screen. The docks keep their full names."""
    from qtpy.QtWidgets import QTabBar

    window = tabbed.window._qt_window
    tabs = [bar for bar in window.findChildren(QTabBar) if bar.count() == 4]
    assert [tabs[0].tabText(i) for i in range(4)] == ["Segment", "Correct", "Train", "Models"]
    assert "Segment (unet-studio)" in tabbed.window.dock_widgets
