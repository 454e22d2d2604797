"""Our panels in a plain napari viewer, opened from the Plugins menu: the Correct panel's
keys go with its dock, and docks stacked one above the other fit the screen."""

from __future__ import annotations

import pytest
from qtpy.QtWidgets import QLabel

PLUGIN = "unet-studio"
PANELS = ("Segment", "Correct", "Models", "Train")
SCREEN_HEIGHT = 1000  # (the Xvfb screen of the README's command)


def _bound(viewer) -> set[str]:
    return {str(key) for key in viewer.keymap}


@pytest.mark.qt
def test_closing_the_correct_dock_unbinds_its_keys_and_docking_it_binds_them(studio, qtbot):
    viewer = studio.viewer
    dock, panel = viewer.window.add_plugin_dock_widget(PLUGIN, "Correct")
    ours = {key.replace("-", "+") for key in panel.key_of.values()}
    assert ours <= _bound(viewer)
    panel.tool_buttons["delete"].setChecked(True)  # a click tool: clicks delete objects
    assert studio.host._click_handler is not None

    dock.destroyOnClose()  # what the dock title bar's X does

    # D over an object deleted it with no panel open.
    assert not ours & _bound(viewer)
    assert studio.host._click_handler is None
    again_dock, again = viewer.window.add_plugin_dock_widget(PLUGIN, "Correct")
    assert again is panel and panel.session is studio.session  # (nothing else lost)
    assert ours <= _bound(viewer)


@pytest.mark.qt
def test_the_users_own_bindings_of_our_keys_come_back_with_the_dock_closed(studio, qtbot):
    """A user's ``viewer.bind_key("N", ...)`` was taken over by the Correct panel and, the
    dock closed, left unbound: their binding gone (plugin QA)."""
    viewer = studio.viewer
    pressed = []

    def my_next_frame(viewer):
        pressed.append("N")

    viewer.bind_key("N", my_next_frame)
    dock, panel = viewer.window.add_plugin_dock_widget(PLUGIN, "Correct")
    assert viewer.keymap[_key("N")] is not my_next_frame  # (ours while the panel is open)
    dock.destroyOnClose()
    assert viewer.keymap[_key("N")] is my_next_frame
    assert "R" not in _bound(viewer)  # (ours, unbound: the user had none there)
    dock, _ = viewer.window.add_plugin_dock_widget(PLUGIN, "Correct")
    assert viewer.keymap[_key("N")] is not my_next_frame
    dock.destroyOnClose()
    assert viewer.keymap[_key("N")] is my_next_frame  # (again, not lost the second time)


def _key(text: str):
    from napari.utils.key_bindings import coerce_keybinding

    return coerce_keybinding(text)


@pytest.mark.qt
def test_panels_stacked_by_the_plugins_menu_scroll_and_fit_the_screen(studio, qtbot):
    viewer = studio.viewer
    window = viewer.window._qt_window
    docked = [viewer.window.add_plugin_dock_widget(PLUGIN, name) for name in PANELS]
    window.setGeometry(0, 0, 1400, SCREEN_HEIGHT)
    window.show()
    qtbot.waitUntil(lambda: window.height() > 0)
    qtbot.wait(50)  # (the layouts settle)

    for _dock, panel in docked:
        # Nothing cut off: every wrapped text as tall as its lines (scrolled, not squeezed;
        # the Correct panel's key help was 23 px tall of the 98 px its lines take).
        for label in panel.findChildren(QLabel):
            if label.isVisibleTo(panel) and label.wordWrap() and label.text():
                assert label.height() >= label.heightForWidth(label.width()), label.text()
    for dock, _panel in docked:
        assert dock.minimumSizeHint().height() < 250, dock.name
    # Four panels of 368 to 658 px least height made the window 2153 px tall.
    assert window.height() <= SCREEN_HEIGHT
