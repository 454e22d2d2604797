"""Do something once a window has closed: its close accepted, not only asked for.

The session's project was closed when the viewer object was freed (a finalizer). In a
notebook, or with a second viewer in one Python, the viewer outlives its window (a
variable, napari's own references), so a closed window kept its project locked: opened
again, it was read-only "open in another window of this program", and its last edits
stayed in memory until Python ended.

A close can be refused (the unsaved-work question's Cancel, napari's own "close anyway?"),
so the Close event alone says nothing. Qt hides a shown window synchronously once its close
is accepted (``QWidget::close``: ``closeEvent`` accepted, then ``hide()``): a Hide that
follows a Close, within it, means the window closed. A window never shown (a script's
``napari.Viewer(show=False)``) is not hidden again; one that deletes itself on close (napari's)
then drops ``WA_DeleteOnClose`` as it schedules its deletion, or is gone, by the next turn of
the event loop. A refused close changes neither, and is forgotten at that turn.
"""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import QEvent, QObject, Qt, QTimer
from qtpy.QtWidgets import QWidget

DELETE_ON_CLOSE = Qt.WidgetAttribute.WA_DeleteOnClose


class WindowClosed(QObject):
    """Calls ``closed()`` once, when ``window``'s close has been accepted (an event filter,
    the window's child: it goes with the window, holding no Python reference to it).
    ``closed`` may run while the window is being hidden: it must not emit Qt signals into
    the widgets going away, and should hold weak references only."""

    def __init__(self, window: QWidget, closed: Callable[[], None]):
        super().__init__(window)
        self._closed = closed
        self._closing = False  # a Close event is under way (this turn of the event loop)
        self._done = False
        window.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if watched is not self.parent() or self._done:
            return False
        kind = event.type()
        if kind == QEvent.Type.Close:
            self._closing = True
            if watched.isHidden():  # (no Hide to come: see the module's docstring)
                deletes = watched.testAttribute(DELETE_ON_CLOSE)
                QTimer.singleShot(0, lambda: self._after_hidden_close(deletes))
            else:
                QTimer.singleShot(0, self, self._close_over)
        elif kind == QEvent.Type.Hide and self._closing and not event.spontaneous():
            self._finish()
        return False  # (only watching: the close goes on as it would)

    def _close_over(self) -> None:
        self._closing = False  # (refused, or done)

    def _after_hidden_close(self, deleted_on_close: bool) -> None:
        """A turn after the Close of a hidden window (this object may be gone with it:
        no reference to the window is held meanwhile, which would keep its Python side)."""
        self._closing = False
        if self._done or not deleted_on_close:
            return
        try:
            accepted = not self.parent().testAttribute(DELETE_ON_CLOSE)
        except (RuntimeError, AttributeError):  # (deleted already: its close was accepted)
            accepted = True
        if accepted:
            self._finish()

    def _finish(self) -> None:
        self._done = True
        self._closed()
