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
