"""Layouts whose rows wrap to the width they are given (no widgets here).

The Models panel's rows of three buttons and the network builder's two columns of options
made the panel 460-560 px wide at the least, wider than its dock: the dock cut the right
column off. In a :class:`ReflowGrid` the items keep their reading order and take as many
equal columns as fit (at most ``columns``), down to one column in a narrow dock.

A row of buttons of unequal widths (the Train panel's "Train on reviewed corrections",
Pause, Cancel) made the Train panel 585 px wide at a 14 pt font. In a :class:`ReflowRow`
they stay side by side while they fit and wrap onto more lines where they do not, each
keeping its own width (equal cells would have stacked them one per line at any font).
"""

from __future__ import annotations

from qtpy.QtCore import QPoint, QRect, QSize, Qt
from qtpy.QtWidgets import QLayout, QLayoutItem, QStyle, QWidget


class ItemList(QLayout):
    """QLayout's item list, shared by the layouts of our own (``ReflowGrid``, ``ReflowRow``,
    ``network_form.OptionRow``)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._items: list[QLayoutItem] = []

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None


class _Reflowing(ItemList):
    """What the two reflowing layouts share: their width to fill, a height for each width,
    the gap between items."""

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation.Horizontal

    def hasHeightForWidth(self) -> bool:
        return True

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

    def _inner_width(self, width: int) -> int:
        margins = self.contentsMargins()
        return width - margins.left() - margins.right()

    def _stacked_height(self, rows: list[list[QLayoutItem]], hint: bool = True) -> int:
        """The height of ``rows`` one below the other, each as tall as its tallest item."""
        tallest = [max((item.sizeHint() if hint else item.minimumSize()).height() for item in row)
                   for row in rows]  # fmt: skip
        margins = self.contentsMargins()
        return (sum(tallest) + self._gap() * max(0, len(rows) - 1)
                + margins.top() + margins.bottom())


class ReflowGrid(_Reflowing):
    """Lays its items out in rows of up to ``columns`` equal cells, fewer when narrow: only
    as many as give every item its preferred width (its size hint), so that an option's
    name in the network builder is cut short only where even one column is too narrow."""

    def __init__(self, parent: QWidget | None = None, *, columns: int = 2):
        super().__init__(parent)
        self.columns = columns

    # ---- sizes -----------------------------------------------------------------------------
    def _cell_least(self) -> int:
        return max((item.minimumSize().width() for item in self._shown()), default=0)

    def _cell_wanted(self) -> int:
        return max((item.sizeHint().width() for item in self._shown()), default=0)

    def _columns_for(self, width: int) -> int:
        """How many cells of the widest item's preferred width fit side by side in ``width``
        (columns of the least width squeezed the builder's option names: "decoder bl…")."""
        cell, gap = max(self._cell_least(), self._cell_wanted()), self._gap()
        fit = (width + gap) // (cell + gap) if cell + gap > 0 else self.columns
        return max(1, min(self.columns, fit, len(self._shown()) or 1))

    def _rows(self, columns: int) -> list[list[QLayoutItem]]:
        shown = self._shown()
        return [shown[start:start + columns] for start in range(0, len(shown), columns)]

    def _height(self, columns: int, hint: bool = True) -> int:
        return self._stacked_height(self._rows(columns), hint)

    def heightForWidth(self, width: int) -> int:
        return self._height(self._columns_for(self._inner_width(width)))

    def minimumSize(self) -> QSize:
        # One column: as narrow as the widest item allows (and as tall as that makes it).
        margins = self.contentsMargins()
        return QSize(self._cell_least() + margins.left() + margins.right(),
                     self._height(1, hint=False))

    def sizeHint(self) -> QSize:
        shown = self._shown()
        columns = max(1, min(self.columns, len(shown)))
        cell = self._cell_wanted()
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


class ReflowRow(_Reflowing):
    """Lays its items out side by side, in reading order, onto as many lines as the width
    needs: a line takes items while their least widths fit, and shares the width it has
    left over between them by their ``stretch`` (equally where none has any)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._stretch: dict[int, int] = {}  # id(item) -> its stretch

    def addWidget(self, widget: QWidget, stretch: int = 0) -> None:  # noqa: N802 (Qt's name)
        super().addWidget(widget)
        self._stretch[id(self._items[-1])] = stretch

    def takeAt(self, index: int) -> QLayoutItem | None:
        item = super().takeAt(index)
        if item is not None:
            self._stretch.pop(id(item), None)
        return item

    # ---- sizes -----------------------------------------------------------------------------
    def _lines(self, width: int) -> list[list[QLayoutItem]]:
        """The items by line in ``width``, filled from the last item back: where a row
        wraps, the first item (the one that matters most: "Train on reviewed corrections")
        has a line to itself rather than the last (Cancel alone below Train and Pause)."""
        lines: list[list[QLayoutItem]] = []
        used, gap = 0, self._gap()
        for item in reversed(self._shown()):
            least = item.minimumSize().width()
            if lines and used + gap + least <= width:
                lines[0].insert(0, item)
                used += gap + least
            else:
                lines.insert(0, [item])
                used = least
        return lines

    def heightForWidth(self, width: int) -> int:
        return self._stacked_height(self._lines(self._inner_width(width)))

    def minimumSize(self) -> QSize:
        # One item a line: as narrow as the widest item allows.
        margins = self.contentsMargins()
        least = max((item.minimumSize().width() for item in self._shown()), default=0)
        return QSize(least + margins.left() + margins.right(),
                     self._stacked_height([[item] for item in self._shown()], hint=False))

    def sizeHint(self) -> QSize:
        shown = self._shown()
        margins = self.contentsMargins()
        width = sum(item.sizeHint().width() for item in shown) + self._gap() * max(0, len(shown) - 1)
        return QSize(width + margins.left() + margins.right(),
                     self._stacked_height([shown] if shown else []))

    # ---- placing ---------------------------------------------------------------------------
    def _widths(self, line: list[QLayoutItem], width: int) -> list[int]:
        """The widths of ``line``'s items in ``width``: each its least, and the rest by
        stretch (no item wider than it may be)."""
        least = [item.minimumSize().width() for item in line]
        spare = max(0, width - sum(least) - self._gap() * (len(line) - 1))
        stretch = [self._stretch.get(id(item), 0) for item in line]
        if not any(stretch):
            stretch = [1] * len(line)
        total = sum(stretch)
        widths = [low + spare * share // total for low, share in zip(least, stretch)]
        widths[-1] += width - sum(widths) - self._gap() * (len(line) - 1)  # (rounding)
        return widths

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        inner, gap = self.contentsRect(), self._gap()
        y = inner.top()
        for line in self._lines(inner.width()):
            height = max(item.sizeHint().height() for item in line)
            x = inner.left()
            for item, width in zip(line, self._widths(line, inner.width())):
                item.setGeometry(QRect(QPoint(x, y), QSize(width, height)))
                x += width + gap
            y += height + gap
