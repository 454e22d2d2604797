"""The app's window starts maximised on a laptop's screen: napari's first window (910x537 on
a 1366x768 screen) left the docks ~269 px wide, and the Segment panel's buttons read "Cur"
and "Stop, k". Not on a large screen, and never over a size napari remembered for the user."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.qt

LAPTOPS = ((1366, 728), (1280, 680))  # (available: less a 40 px task bar)
LARGE = (1920, 1040)


@pytest.fixture
def open_on_screen(studio_home, make_napari_viewer, monkeypatch, qtbot):
    """``open_on_screen((width, height))``: the app's viewer, its window shown on a screen
    leaving that much room to windows; closed after the test if still open."""
    # (make_napari_viewer isolates napari's registries and settings for open_studio's viewer)
    from unet_studio.app import launcher

    opened = []

    def open_viewer(available: tuple[int, int]):
        # (raising=False: the same test runs against a launcher without the function)
        monkeypatch.setattr(launcher, "available_screen_size", lambda window: available,
                            raising=False)
        viewer = launcher.open_studio(show=True, load_sample=False)
        opened.append(viewer)
        qtbot.waitExposed(viewer.window._qt_window)
        return viewer

    yield open_viewer
    for viewer in opened:
        if getattr(viewer.window, "_qt_window", None) is not None:  # (none once closed)
            viewer.close()


@pytest.mark.slow
def test_the_window_is_maximised_on_a_laptop_screen_only(open_on_screen):
    for available in LAPTOPS:
        assert open_on_screen(available).window._qt_window.isMaximized(), available
    assert not open_on_screen(LARGE).window._qt_window.isMaximized()


def test_the_size_the_user_left_is_kept_at_the_next_start(open_on_screen, qtbot):
    """Maximised at the first start; the user makes the window smaller and closes it
    (napari remembers its size): the next start takes that size, not maximised."""
    first = open_on_screen(LAPTOPS[0])
    window = first.window._qt_window
    assert window.isMaximized()
    window.showNormal()
    window.resize(1100, 650)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (1100, 650))
    first.close()  # (napari saves the window's geometry in its settings)

    window = open_on_screen(LAPTOPS[0]).window._qt_window
    assert not window.isMaximized()
    assert (window.width(), window.height()) == (1100, 650)


def test_every_panel_is_shown_whole_in_a_window_napari_restored_small(
        open_on_screen, studio_home, tmp_path, qtbot):
    """A 1089x630 window (a size napari restored, left alone) with a time-lapse open: each
    panel's content fits its dock, with no sideways scrolling. The Correct panel's three
    columns of buttons were wider than its dock there: "Merge (cli", "Unmark this time poin"."""
    import numpy as np
    import tifffile
    from qtpy.QtWidgets import QTabBar

    from unet_studio.app.qt.scrolling import PanelScrollArea

    series = tmp_path / "series.tif"  # (a time-lapse: the longest words, "time point")
    tifffile.imwrite(series, np.zeros((3, 64, 64), np.uint16), metadata={"axes": "TYX"},
                     photometric="minisblack")
    viewer = open_on_screen(LARGE)
    viewer.open(str(series), plugin="unet-studio")
    window = viewer.window._qt_window
    window.showNormal()
    window.resize(1089, 630)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (1089, 630))
    (tabs,) = [bar for bar in window.findChildren(QTabBar) if bar.count() == 4]

    def shown() -> list:  # (a dock behind another's tab keeps its content hidden)
        return [a for a in window.findChildren(PanelScrollArea) if a.widget().isVisible()]

    for index in range(tabs.count()):
        tabs.setCurrentIndex(index)  # (each panel's tab chosen in turn, as the user does)
        qtbot.waitUntil(lambda: len(shown()) == 1)
        qtbot.wait(50)  # (the docks fitted to it)
        (area,) = shown()
        assert area.horizontalScrollBar().maximum() == 0, tabs.tabText(index)
