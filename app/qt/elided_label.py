"""A one-line label that shortens its text with "…" to the width it is given.

"Current model: <name>" with a long model name (a fine-tuned model's names run to 80
characters, with no space to wrap at) made the Models panel as wide as the name, and the dock
cut the panel off. This label asks for little width; the whole text is in its tooltip and
its accessible name (what a screen reader says).
"""

from __future__ import annotations

from qtpy.QtCore import QSize, Qt
from qtpy.QtGui import QPainter
from qtpy.QtWidgets import QLabel, QSizePolicy, QStyleOption

# The least width it asks for, in characters of its font ("Current model: …" still reads).
LEAST_CHARACTERS = 12


class ElidedLabel(QLabel):
    """Shows ``text()`` elided on the right where it is wider than the label."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        super().setText(text)
        self.setToolTip(text)
        self.setAccessibleName(text)

    def minimumSizeHint(self) -> QSize:
        least = super().minimumSizeHint()
        return QSize(self.fontMetrics().averageCharWidth() * LEAST_CHARACTERS, least.height())

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        option = QStyleOption()
        option.initFrom(self)
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        self.style().drawItemText(painter, rect, int(self.alignment()), option.palette,
                                  self.isEnabled(), shown, self.foregroundRole())
