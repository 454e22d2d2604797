"""A grid layout whose number of columns follows the width it is given (no widgets here).

The Models panel's rows of three buttons and the network builder's two columns of options
made the panel 460-560 px wide at the least, wider than its dock: the dock cut the right
column off. In a :class:`ReflowGrid` the items keep their reading order and take as many
equal columns as fit (at most ``columns``), down to one column in a narrow dock.
"""

from __future__ import annotations

from qtpy.QtCore import QPoint, QRect, QSize, Qt
from qtpy.QtWidgets import QLayout, QLayoutItem, QStyle, QWidget


class ReflowGrid(QLayout):
    """Lays its items out in rows of up to ``columns`` equal cells, fewer when narrow."""

    def __init__(self, parent: QWidget | None = None, *, columns: int = 2):
        super().__init__(parent)
        self.columns = columns
        self._items: list[QLayoutItem] = []

    # ---- QLayout's item list ---------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation.Horizontal

    # ---- sizes -----------------------------------------------------------------------------
    def _gap(self) -> int:
        # (-1 until set: the style's spacing between widgets, as QGridLayout would use)
        if self.spacing() >= 0:
            return self.spacing()
        parent = self.parentWidget()
        gap = parent.style().pixelMetric(QStyle.PixelMetric.PM_LayoutHorizontalSpacing) \
            if parent is not None else -1
        return gap if gap >= 0 else 6

    def _shown(self) -> list[QLayoutItem]:
        return [item for item in self._items if not item.isEmpty()]

    def _cell_least(self) -> int:
        return max((item.minimumSize().width() for item in self._shown()), default=0)

    def _columns_for(self, width: int) -> int:
        """How many cells of the widest item's least width fit side by side in ``width``."""
        cell, gap = self._cell_least(), self._gap()
        fit = (width + gap) // (cell + gap) if cell + gap > 0 else self.columns
        return max(1, min(self.columns, fit, len(self._shown()) or 1))

    def _inner_width(self, width: int) -> int:
        margins = self.contentsMargins()
        return width - margins.left() - margins.right()

    def _rows(self, columns: int) -> list[list[QLayoutItem]]:
        shown = self._shown()
        return [shown[start:start + columns] for start in range(0, len(shown), columns)]

    def _height(self, columns: int, hint: bool = True) -> int:
        rows = self._rows(columns)
        tallest = [max((item.sizeHint() if hint else item.minimumSize()).height() for item in row)
                   for row in rows]  # fmt: skip
        margins = self.contentsMargins()
        return (sum(tallest) + self._gap() * max(0, len(rows) - 1)
                + margins.top() + margins.bottom())

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._height(self._columns_for(self._inner_width(width)))

    def minimumSize(self) -> QSize:
        # One column: as narrow as the widest item allows (and as tall as that makes it).
        margins = self.contentsMargins()
        return QSize(self._cell_least() + margins.left() + margins.right(),
                     self._height(self._columns_for(self._cell_least()), hint=False))

    def sizeHint(self) -> QSize:
        shown = self._shown()
        columns = max(1, min(self.columns, len(shown)))
        cell = max((item.sizeHint().width() for item in shown), default=0)
        margins = self.contentsMargins()
        return QSize(columns * cell + (columns - 1) * self._gap() + margins.left()
                     + margins.right(), self._height(columns))

    # ---- placing ---------------------------------------------------------------------------
    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        inner = self.contentsRect()
        columns, gap = self._columns_for(inner.width()), self._gap()
        cell = (inner.width() - gap * (columns - 1)) // columns
        y = inner.top()
        for row in self._rows(columns):
            height = max(item.sizeHint().height() for item in row)
            for column, item in enumerate(row):
                x = inner.left() + column * (cell + gap)
                item.setGeometry(QRect(QPoint(x, y), QSize(cell, height)))
            y += height + gap
