"""A one-line label, and a combo box, that shorten their text with "…" to their width.

"Current model: <name>" with a long model name (a fine-tuned model's names run to 80
characters, with no space to wrap at) made the Models panel as wide as the name, and the dock
cut the panel off. This label asks for little width; the whole text is in its tooltip and
its accessible name (what a screen reader says).

A combo box asked to stay narrow (``AdjustToMinimumContentsLength``) cut its current text off
at the arrow, mid-letter, with nothing to say that more followed ("unet-studio defa" at a
14 pt font). ``ElidedComboBox`` ends it with "…"; its list shows the names whole. A box of
model names elides in the middle instead (``elide_mode``): fine-tuned models are named
"<parent name>-ft-YYYYMMDD-HHMMSS", and cut at the end every version of a model read
"unet-studio default nu…" at 1280 px.
"""

from __future__ import annotations

from qtpy.QtCore import QSize, Qt
from qtpy.QtGui import QPainter, QPalette
from qtpy.QtWidgets import (
    QComboBox,
    QLabel,
    QSizePolicy,
    QStyle,
    QStyleOption,
    QStyleOptionComboBox,
    QStylePainter,
)

# The least width it asks for, in characters of its font ("Current model: …" still reads).
LEAST_CHARACTERS = 12
# An item's text for the box alone, where its list's text says more than the box has room
# for ("<name>  (user)": the source is told in the list; the box keeps the room for the name).
SHOWN_TEXT_ROLE = Qt.ItemDataRole.UserRole + 1


class ElidedLabel(QLabel):
    """Shows ``text()`` elided on the right (or as ``elide_mode`` says) where it is wider
    than the label."""

    def __init__(self, text: str = "", parent=None,
                 elide_mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight):
        super().__init__(parent)
        self.elide_mode = elide_mode
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
        self.style().drawItemText(painter, rect, int(self.alignment()), option.palette,
                                  self.isEnabled(), self.shown_text(), self.foregroundRole())

    def shown_text(self) -> str:
        """What the label draws: its text elided to its width."""
        return self.fontMetrics().elidedText(self.text(), self.elide_mode,
                                             self.contentsRect().width())


class ElidedComboBox(QComboBox):
    """A (not editable) combo box whose shown choice is shortened with "…" where it is
    wider than the box: at its end, or where ``elide_mode`` says (``ElideMiddle`` keeps
    both ends of a name). Its list shows every choice whole; the box shows an item's
    ``SHOWN_TEXT_ROLE`` text instead of its text where it has one."""

    def __init__(self, parent=None, *, elide_mode=Qt.TextElideMode.ElideRight):
        super().__init__(parent)
        self.elide_mode = elide_mode

    def label_option(self) -> QStyleOptionComboBox:
        """What the box paints: Qt's own option, its ``currentText`` elided to its field."""
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        shown = self.currentData(SHOWN_TEXT_ROLE) if self.currentIndex() >= 0 else None
        if shown:
            option.currentText = shown
        if self.currentIndex() < 0 and self.placeholderText():
            # (Qt writes the placeholder in QComboBox.paintEvent, not in initStyleOption,
            # so a box painted from the option alone showed nothing where "none yet" was
            # meant; greyed as Qt's own box shows it. It is no item: count() stays 0.)
            option.currentText = self.placeholderText()
            option.palette.setBrush(QPalette.ColorRole.ButtonText,
                                    option.palette.brush(QPalette.ColorRole.PlaceholderText))
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        width = field.width() - 2  # (Qt's styles draw the text 1 px in from either side)
        if not option.currentIcon.isNull():
            width -= option.iconSize.width() + 4
        option.currentText = self.fontMetrics().elidedText(
            option.currentText, self.elide_mode, max(0, width))
        return option

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt's name)
        if self.isEditable():  # (its line edit shows the text, and scrolls it)
            super().paintEvent(_event)
            return
        painter = QStylePainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        option = self.label_option()
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)
