"""Docks fit their content whenever the window has room, keep the canvas its share, leave a
width dragged by hand alone, and let the window be narrow (laptop screens, large fonts)."""

from __future__ import annotations

import pytest
from qtpy.QtCore import QPoint, Qt
from qtpy.QtTest import QTest
from qtpy.QtWidgets import QDockWidget, QWidget

from unet_studio.app.qt.dock_fit import CANVAS_SHARE
from unet_studio.app.qt.scrolling import PanelScrollArea

pytestmark = pytest.mark.qt

PLUGIN = "unet-studio"
WIDE = 1500  # (the test screen is 1600 px wide)


def _dock(panel) -> QDockWidget:
    widget = panel
    while not isinstance(widget, QDockWidget):
        widget = widget.parentWidget()
    return widget


def _fits(panel) -> bool:
    """The panel's content is shown whole: no sideways scrolling."""
    return panel.findChild(PanelScrollArea).horizontalScrollBar().maximum() == 0


def _canvas(window) -> int:
    return window.centralWidget().width()


def _drag_splitter(window, dock: QDockWidget, by: int, qtbot) -> int:
    """Drag the splitter between the canvas and ``dock`` (on the right) ``by`` px to the
    right, as the user does; the dock's width after."""
    gap = QPoint((window.centralWidget().geometry().right() + dock.geometry().left()) // 2,
                 dock.geometry().center().y())
    QTest.mousePress(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, gap)
    QTest.mouseMove(window, gap + QPoint(by, 0))
    qtbot.wait(50)  # (Qt moves the separator on a timer)
    QTest.mouseRelease(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       gap + QPoint(by, 0))
    return dock.width()


@pytest.fixture
def docked(studio, qtbot):
    """(viewer, Segment panel, Correct panel): docked as the launcher docks them (Correct
    tabbed behind Segment), in a window opened narrow, as napari does with no saved
    geometry on a laptop. (Not the window itself: pytest holds what a fixture returns past
    napari's check that the closed window was freed.)"""
    viewer = studio.viewer
    window = viewer.window._qt_window
    segment, correct = (viewer.window.add_plugin_dock_widget(PLUGIN, name, tabify=tabbed)[1]
                        for name, tabbed in (("Segment", False), ("Correct", True)))
    window.setGeometry(0, 0, 600, 600)  # (as narrow as the docks allow)
    window.show()
    qtbot.waitExposed(window)
    _dock(segment).raise_()
    qtbot.wait(50)
    return viewer, segment, correct


def test_docks_fit_their_content_once_the_window_has_room_until_dragged_by_hand(docked, qtbot):
    viewer, segment, correct = docked
    window = viewer.window._qt_window
    assert not _fits(segment)  # (opened narrow: scrolled sideways)

    window.resize(WIDE, 800)  # maximised: the dock stayed narrow, its buttons out of sight
    qtbot.waitUntil(lambda: _fits(segment), timeout=3000)
    _dock(correct).raise_()  # its tab chosen
    qtbot.waitUntil(lambda: _fits(correct), timeout=3000)
    assert _canvas(window) >= WIDE * CANVAS_SHARE

    # The user drags the splitter between canvas and dock: that width is theirs.
    dock = _dock(correct)
    fitted = dock.width()
    dragged = _drag_splitter(window, dock, 60, qtbot)
    assert dragged < fitted - 30
    window.resize(WIDE - 100, 800)
    _dock(segment).raise_()  # (tabbed with it: the same width)
    qtbot.wait(100)
    assert _dock(segment).width() == dragged


def test_a_width_dragged_by_hand_gives_way_when_the_window_shrinks_and_returns(docked, qtbot):
    viewer, segment, _correct = docked
    window = viewer.window._qt_window
    window.resize(WIDE, 800)  # maximised
    qtbot.waitUntil(lambda: _fits(segment), timeout=3000)
    dock = _dock(segment)
    fitted = dock.width()
    dragged = _drag_splitter(window, dock, -80, qtbot)  # wider by hand
    assert dragged > fitted + 50

    # Back to a laptop's window: the dragged width had left the canvas 64 px.
    small = 900
    window.resize(small, 800)
    qtbot.waitUntil(lambda: _canvas(window) >= small * CANVAS_SHARE - 2, timeout=3000)
    assert dock.width() < dragged
    window.resize(WIDE, 800)  # room again: the width the user chose
    qtbot.waitUntil(lambda: dock.width() == dragged, timeout=3000)


def test_a_dock_widens_for_grown_content_as_far_as_the_canvas_keeps_its_share(docked, qtbot):
    viewer, segment, _correct = docked
    window = viewer.window._qt_window
    window.resize(WIDE, 800)
    qtbot.waitUntil(lambda: _fits(segment), timeout=3000)
    before = _dock(segment).width()
    wide = QWidget(minimumWidth=WIDE)  # content that grows wider than the window
    segment.findChild(PanelScrollArea).widget().layout().addWidget(wide)

    qtbot.waitUntil(lambda: _dock(segment).width() > before + 100, timeout=3000)
    qtbot.wait(50)
    assert _canvas(window) >= WIDE * CANVAS_SHARE - 2  # (not starved: the content scrolls)
    window.resize(1000, 800)  # narrower: the canvas gave way first, down to 250 px
    qtbot.waitUntil(lambda: _canvas(window) >= 1000 * CANVAS_SHARE - 2, timeout=3000)


def test_the_docks_let_the_window_be_narrow(studio, qtbot):
    viewer = studio.viewer
    plain = viewer.window._qt_window.minimumSizeHint().width()  # (napari's own docks)
    for name in ("Segment", "Correct", "Train"):
        viewer.window.add_plugin_dock_widget(PLUGIN, name, tabify=name != "Segment")
    # Docks of 300 px at the least kept the window 900 px wide: not half a laptop's screen.
    assert viewer.window._qt_window.minimumSizeHint().width() <= plain + 150


def test_the_model_box_shortens_a_long_name_in_its_middle(studio, qtbot):
    """(In the middle: the end of a fine-tuned model's name, its time stamp, tells versions
    apart; see test_model_names_elide_middle.)"""
    _dock_widget, segment = studio.viewer.window.add_plugin_dock_widget(PLUGIN, "Segment")
    combo = segment.model_combo
    name = "fine-tuned nuclei model, round 12 of project embryo-2026-light-sheet"
    combo.insertItem(0, name)
    combo.setCurrentIndex(0)
    combo.resize(160, combo.sizeHint().height())

    shown = combo.label_option().currentText  # what the box paints
    start, _, end = shown.partition("…")
    assert start and end and name.startswith(start) and name.endswith(end)
    combo.resize(combo.fontMetrics().horizontalAdvance(name) + 80, combo.height())
    assert combo.label_option().currentText == name
