"""The Segment panel by keyboard, and after its widgets are gone: Run pressed with Space
hands the focus to Cancel and back (it fell to the dock's hide button, which the next Space
pressed), and the listeners that outlive the panel's widgets leave them alone."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import QEvent, Qt
from qtpy.QtTest import QTest
from qtpy.QtWidgets import QApplication

pytestmark = pytest.mark.qt


def _panel(studio, qtbot):
    from unet_studio.app.qt.segment_panel import SegmentPanel

    panel = SegmentPanel(studio.session)
    qtbot.addWidget(panel)
    return panel


def _delete(widget) -> None:
    """Delete ``widget``'s C++ half now, as Qt does at a window's end."""
    widget.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.DeferredDelete)


def test_space_on_run_moves_the_focus_to_cancel_and_back_when_the_run_ends(corrected, qtbot):
    panel = _panel(corrected, qtbot)
    panel.scope_slice.setChecked(True)  # (the slice on screen: quick)
    panel.show()
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow)
    panel.run_button.setFocus(Qt.TabFocusReason)
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        QTest.keyClick(panel.run_button, Qt.Key_Space)
        assert panel.cancel_button.isEnabled() and panel.cancel_button.hasFocus()
    assert panel.run_button.isEnabled() and panel.run_button.hasFocus()


def test_a_deleted_channel_box_or_panel_is_left_alone(corrected, qtbot):
    session = corrected.session
    panel = _panel(corrected, qtbot)
    # At interpreter exit the Axes box said editing finished after the Channel box was gone.
    _delete(panel.channel_spin)
    with qtbot.captureExceptions() as raised:
        panel.axes_edit.editingFinished.emit()
    assert raised == []
    from unet_studio.app.qt.segment_panel import SegmentPanel

    _delete(SegmentPanel(session))  # (a closed dock's)
    with qtbot.captureExceptions() as raised:  # what the session and the viewer still tell
        session.model_changed.emit(session.model)
        corrected.viewer.add_image(np.zeros((8, 8), np.float32), name="another")
    assert raised == []
