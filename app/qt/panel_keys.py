"""Keyboard use of a panel's content: where the focus is, and Enter on a button.

napari's stylesheet draws no focus indicator on push buttons, so after Tab nothing showed
which button Space would press; and a push button outside a dialog ignores Enter and Return.
:func:`keyboard_friendly` gives a panel's content both: a focus ring in the theme's text
colour (light on napari's dark theme, dark on its light one), and Enter/Return pressing the
focused push or tool button.
"""

from __future__ import annotations

from qtpy.QtCore import QEvent, QObject, Qt
from qtpy.QtGui import QColor, QPalette
from qtpy.QtWidgets import QAbstractButton, QApplication, QCheckBox, QRadioButton, QWidget

# napari's buttons have 4 px of padding and no border: a 2 px ring with 2 px of padding
# keeps the button's size and its text in place.
FOCUS_STYLE = """
QPushButton:focus, QToolButton:focus {{
  border: 2px solid {colour};
  padding: 2px;
}}
"""
PRESS_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def focus_ring_colour(widget: QWidget) -> str:
    """The colour of the text around ``widget`` (napari's theme sets it as the palette's
    window text), a little toned down so that the ring does not outshine the text."""
    text = widget.palette().color(QPalette.ColorRole.WindowText)
    ring = QColor(text)
    ring.setAlphaF(0.8)
    return f"rgba({ring.red()}, {ring.green()}, {ring.blue()}, {ring.alphaF():.2f})"


class KeyboardHelper(QObject):
    """Filters the events of one panel's content widget (``body``): the key presses that its
    focused child left unhandled come to it, and its style changes when the theme does."""

    def __init__(self, body: QWidget):
        super().__init__(body)
        self.body = body
        self._colour = ""
        self._restyling = False  # (setting our style sheet: its own style events are ours)
        body.installEventFilter(self)
        self._restyle()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        kind = event.type()
        if kind == QEvent.Type.KeyPress and event.key() in PRESS_KEYS and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return self._press_focused()
        if kind in (QEvent.Type.StyleChange, QEvent.Type.PaletteChange) and not self._restyling:
            self._restyle()  # (napari's theme changed: another text colour)
        return False

    def _press_focused(self) -> bool:
        """Click the focused button of this content, if the Enter came from one."""
        button = QApplication.focusWidget()
        if (not isinstance(button, QAbstractButton) or isinstance(button, QCheckBox | QRadioButton)
                or not self.body.isAncestorOf(button) or not button.isEnabled()):  # fmt: skip
            return False
        button.click()
        return True

    def _restyle(self) -> None:
        colour = focus_ring_colour(self.body)
        if colour == self._colour:
            return
        self._colour = colour
        # Setting the style sheet sends a StyleChange and PaletteChange itself, and under a
        # parent with a style sheet of its own (napari's, set on the window or a dock) the
        # palette they come with is Qt's default one, black text, until the sheet is applied:
        # reacting to them flipped the colour back and forth without end (a segfault).
        self._restyling = True
        try:
            self.body.setStyleSheet(FOCUS_STYLE.format(colour=colour))
        finally:
            self._restyling = False


def keyboard_friendly(body: QWidget) -> KeyboardHelper:
    """Give ``body`` (a panel's content) a focus ring on its buttons and Enter to press them."""
    return KeyboardHelper(body)
