"""The Correct panel's click tools by keyboard alone: each tool button is in the Tab chain
and Space turns it on (the others off) and off again."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import Qt
from qtpy.QtTest import QTest
from qtpy.QtWidgets import QApplication

pytestmark = pytest.mark.qt


@pytest.fixture
def panel(tmp_path, monkeypatch, qtbot):
    """A Correct panel on a FakeHost's labels, shown in an active window (keys go to it)."""
    from unet_studio.app.host import FakeHost
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.correct_panel import CorrectPanel
    from unet_studio.app.qt.session import StudioSession

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    host = FakeHost()
    host.add_image(np.zeros((16, 16), np.float32), "YX", name="img")
    session = StudioSession(host, library=ModelLibrary(home=tmp_path / "home"))
    labels = np.zeros((16, 16), np.int32)
    labels[2:6, 2:6] = 1
    session.show_labels(labels)
    widget = CorrectPanel(session)
    qtbot.addWidget(widget)
    widget.show()
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow)
    yield widget
    session.close_project()


def _press(key) -> None:
    """Press ``key`` on the widget with the keyboard focus."""
    QTest.keyClick(QApplication.focusWidget(), key)


def _tab_through(start, count: int) -> list:
    """The widgets that have the focus from ``start`` on, ``count`` Tabs later."""
    start.setFocus(Qt.TabFocusReason)
    seen = [QApplication.focusWidget()]
    for _ in range(count):
        _press(Qt.Key_Tab)
        seen.append(QApplication.focusWidget())
    return seen


def test_tab_reaches_every_tool_button_and_space_switches_one_tool_at_a_time(panel):
    buttons = panel.tool_buttons
    panel.tool_buttons["merge"].click()  # a tool on: its group still lets Tab reach the rest
    seen = _tab_through(buttons["add"], len(buttons) - 1)
    assert seen == list(buttons.values())
    buttons["split"].setFocus(Qt.TabFocusReason)
    _press(Qt.Key_Space)
    assert panel.tools.mode == "split"
    assert [mode for mode, button in buttons.items() if button.isChecked()] == ["split"]
    _press(Qt.Key_Space)  # the active tool again: off, the clicks back to napari
    assert panel.tools.mode is None and not any(b.isChecked() for b in buttons.values())
    _press(Qt.Key_Right)  # arrows move along the buttons too
    assert QApplication.focusWidget() is buttons["pick"]
