"""A panel whose content scrolls inside it (``scrolled_body``).

napari stacks the docks that its Plugins menu opens one above the other (the launcher tabs
them; a plugin cannot), and a dock is never shorter than its panel's minimum height: four
panels of 370 to 660 px made the window 2153 px tall on a 1000 px screen, and a squeezed
dock cut its text off. Inside a scroll area a panel asks for little height and shows all of
its content, scrolled; its width stays the content's, so nothing is cut off sideways.
"""

from __future__ import annotations

from qtpy.QtCore import QSize, Qt
from qtpy.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget

# The least height a scrolled panel asks for: a few rows of controls, and room for the
# other docks of a stack on a laptop's screen.
MIN_SCROLLED_HEIGHT = 160


class PanelScrollArea(QScrollArea):
    """Scrolls its content vertically; never narrower than the content's least width."""

    def __init__(self, body: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)  # (the content fills the width, and the height it spares)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(body)

    def _beside_content(self) -> int:
        """The width the vertical scroll bar and the frame add to the content's."""
        return self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth()

    def minimumSizeHint(self) -> QSize:
        least = self.widget().minimumSizeHint()
        return QSize(least.width() + self._beside_content(),
                     min(least.height(), MIN_SCROLLED_HEIGHT))

    def sizeHint(self) -> QSize:
        # The content's own (QScrollArea caches the first one it computes, and bounds it),
        # with no room for a scroll bar: a dock tall enough shows none (the launcher's tabs).
        wanted = self.widget().sizeHint()
        return QSize(wanted.width() + 2 * self.frameWidth(), wanted.height())


def scrolled_body(panel: QWidget) -> QWidget:
    """The widget to lay ``panel``'s content out on: it scrolls inside ``panel``, which
    keeps every attribute (the content's widgets are still the panel's descendants)."""
    body = QWidget()
    outer = QVBoxLayout(panel)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(PanelScrollArea(body))
    return body
