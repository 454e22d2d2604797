"""A napari notification closing leaves the keyboard focus in the panel field it was in
(napari hands it to the canvas, where one-letter keys edit the labels)."""

import numpy as np


def _closing_notification_takes(field, viewer, qtbot):
    """Show a notification while ``field`` has the focus, close it as its timer does;
    the widget with the focus after."""
    from napari._qt.dialogs.qt_notification import NapariQtNotification
    from napari.utils.notifications import show_info
    from qtpy.QtWidgets import QApplication

    window = viewer.window._qt_window
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    field.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is field)
    show_info("Segmented 3 objects")
    qtbot.waitUntil(lambda: len(NapariQtNotification._instances) > 0)
    NapariQtNotification._instances[-1].close()  # (what its dismiss timer calls, after a fade)
    qtbot.wait(50)
    return QApplication.focusWidget()


def test_typing_in_a_panel_goes_on_after_a_notification_closes(corrected, qtbot):
    from unet_studio.app.qt.train_panel import TrainPanel

    viewer, session = corrected.viewer, corrected.session
    viewer.window._qt_window.show()
    panel = TrainPanel(session)
    viewer.window.add_dock_widget(panel, name="Train")
    layer = session.host.labels_layer()
    before = layer.data.copy()
    field = panel.budget_edit
    assert _closing_notification_takes(field, viewer, qtbot) is field
    field.selectAll()
    qtbot.keyClicks(field, "2 min")  # (in the canvas, D deletes the object under the pointer)
    assert field.text() == "2 min"
    np.testing.assert_array_equal(layer.data, before)


def test_a_notification_closing_over_the_canvas_keeps_the_canvas_focused(corrected, qtbot):
    viewer = corrected.viewer
    viewer.window._qt_window.show()
    canvas = viewer.window._qt_viewer.canvas.native
    assert _closing_notification_takes(canvas, viewer, qtbot) is canvas
