"""Keep the keyboard focus where the user left it when a napari notification closes.

napari's notification (a small dialog over the canvas) hands the focus to the canvas as it
closes, a few seconds after it appeared. Someone typing a time budget or a model name in a
panel then types into the canvas: the panels' one-letter keys act on the labels there, and
D deleted the object under the pointer. Here the focus goes back to the widget that had it,
when it moved to a canvas only because a notification over it was closing.
"""

from __future__ import annotations

import logging

from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QApplication, QWidget

log = logging.getLogger(__name__)

_installed: set[int] = set()  # id() of the QApplication watched


def keep_focus_through_notifications() -> None:
    """Watch the application's focus changes (once per QApplication)."""
    app = QApplication.instance()
    if app is None or id(app) in _installed:
        return
    try:  # (a private napari class: without it, napari's behaviour stays)
        from napari._qt.dialogs.qt_notification import NapariQtNotification
    except ImportError:  # pragma: no cover - depends on napari's layout
        log.debug("napari's notification class not found: focus left as napari moves it")
        return
    _installed.add(id(app))

    def focus_changed(old: QWidget | None, new: QWidget | None) -> None:
        if old is None or new is None or not _closing_notification_over(new, NapariQtNotification):
            return
        # (later: the notification is still closing; Qt may move the focus again meanwhile)
        QTimer.singleShot(0, lambda: _give_back(old, new))

    app.focusChanged.connect(focus_changed)


def _closing_notification_over(widget: QWidget, notification_class) -> bool:
    """Is a notification over ``widget`` closing: still shown, but no longer among those
    napari counts as open (it leaves that list before it moves the focus)?"""
    open_ones = notification_class._instances
    return any(child.isVisible() and child not in open_ones
               for child in widget.findChildren(notification_class))


def _give_back(old: QWidget, new: QWidget) -> None:
    """The focus back to ``old`` if it is still on ``new`` and ``old`` can take it."""
    try:
        if QApplication.focusWidget() is new and old.isVisible() and old.isEnabled():
            old.setFocus()
    except RuntimeError:  # (a widget deleted meanwhile: leave the focus where it is)
        pass
