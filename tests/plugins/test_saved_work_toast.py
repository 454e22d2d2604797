"""The offer of an image's earlier corrections is a napari notification with a button: the
notification shows only its first line until opened, and fades, so its "Open that project"
was out of sight; the button opens the project as the panels' button does."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def _offer_toast(qtbot):
    """The notification on screen with the offer's button; (toast, button)."""
    from napari._qt.dialogs.qt_notification import NapariQtNotification
    from qtpy.QtWidgets import QPushButton

    from unet_studio.app.qt.alive import alive

    def found():
        # (napari keeps the notifications of earlier tests listed after Qt deleted them)
        for toast in [toast for toast in NapariQtNotification._instances if alive(toast)]:
            for button in toast.findChildren(QPushButton):
                if button.text() == "Open that project":
                    return toast, button
        return None

    qtbot.waitUntil(lambda: found() is not None, timeout=5000)
    return found()


@pytest.fixture
def restarted(studio, make_napari_viewer, nuclei_file_corrected):
    """The app started again after corrections of nuclei.tif were autosaved: (the file,
    the project holding them, its labels then, a new viewer, its session); not open yet."""
    from unet_studio.plugins.widgets import session_for

    path, session = nuclei_file_corrected, studio.session
    earlier, labels = session.project.path, session.host.current_labels().copy()
    session.close_project()  # (the window closes: a restart)
    studio.viewer.layers.clear()
    viewer = make_napari_viewer()  # (the app started again)
    return path, earlier, labels, viewer, session_for(viewer)


def _show(window, qtbot) -> None:
    window.show()  # (napari shows notifications over a window on screen)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)


@pytest.mark.slow
def test_the_offers_notification_opens_the_project_with_one_click(restarted, qtbot):
    from qtpy.QtCore import Qt

    path, earlier, labels, viewer, again = restarted
    _show(viewer.window._qt_window, qtbot)
    viewer.open(str(path), plugin="unet-studio")
    toast, button = _offer_toast(qtbot)
    assert toast.message.text().startswith("nuclei.tif has corrections saved in the project")
    assert again.project is None  # (offered, not opened unasked)
    # (napari's "Source: <...NotificationManager object>" squeezed the button to "pen that projec")
    assert toast.source_label.isHidden() and button.width() >= button.sizeHint().width()

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert again.project is not None and again.project.path == earlier
    np.testing.assert_array_equal(again.host.current_labels(), labels)
    assert not again.saved_work.found  # (the offer is taken: the panels' line goes too)
    again.close_project()


@pytest.mark.slow
def test_the_button_tells_a_project_gone_since_and_does_nothing_once_the_offer_went(
        restarted, qtbot, monkeypatch):
    import shutil

    path, earlier, _, viewer, again = restarted
    told, buttons = [], {}
    monkeypatch.setattr(again.host, "notify", lambda message, level="info", actions=():
                        told.append((level, message)) or buttons.update(actions))
    viewer.open(str(path), plugin="unet-studio")
    qtbot.waitUntil(lambda: "Open that project" in buttons, timeout=5000)
    shutil.rmtree(earlier)  # (a colleague removed it since)
    buttons["Open that project"]()
    assert again.project is None and again.saved_work.found  # (the offer stays)
    assert [m for level, m in told if level == "warning" and earlier.name in m]
    again.saved_work.dismiss()
    count = len(told)
    buttons["Open that project"]()  # (a toast still on screen: nothing to open, no error)
    assert again.project is None and len(told) == count


def test_the_offers_notification_goes_once_the_project_is_opened_from_the_panel(
        restarted, qtbot):
    """Opened from the Correct panel's line, the project was open and the notification
    stayed on the canvas, its button still offering it."""
    from qtpy.QtCore import Qt

    from unet_studio.app.qt.alive import alive
    from unet_studio.app.qt.correct_panel import CorrectPanel

    path, earlier, _, viewer, again = restarted
    panel = CorrectPanel(again)
    qtbot.addWidget(panel)
    _show(viewer.window._qt_window, qtbot)
    viewer.open(str(path), plugin="unet-studio")
    toast, _ = _offer_toast(qtbot)
    toast.timer_stop()  # (napari's 4 s fade stops while the pointer is over the toast)
    qtbot.waitUntil(lambda: not panel.saved_work_line.isHidden(), timeout=5000)
    qtbot.mouseClick(panel.saved_work_line.open_button, Qt.MouseButton.LeftButton)
    assert again.project is not None and again.project.path == earlier
    qtbot.waitUntil(lambda: not alive(toast) or not toast.isVisible(), timeout=3000)
    again.close_project()
