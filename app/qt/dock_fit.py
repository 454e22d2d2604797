"""Docks as wide as their content needs, whenever the window has room (``DockFit``).

A scrolled panel asks its dock for little width (``scrolling.MAX_LEAST_WIDTH``), so that a
narrow window still fits; its content scrolls sideways below the width it needs. Widening a
dock once, when first shown, left it at whatever the window allowed then: napari opening at
2/3 of a 1366 px screen and maximised afterwards kept the docks at 310 px, with a third of the
Correct panel's buttons out of sight and 700 px of canvas to spare. And at a 14 pt font a
dock took 618 px of a 1089 px window, leaving the canvas 0 px wide.

So each time the window is resized, a dock is shown (its tab chosen) or its content's least
width changes, the shown docks are fitted again: widened up to their content's least width,
as far as the canvas keeps ``CANVAS_SHARE`` of the window; narrowed where they take more than
that. A width the user dragged by hand (the splitter between dock and canvas) is theirs: that
dock, and the docks tabbed with it, are no longer fitted to their content but keep that width
as far as the window allows. Kept whatever happened, a dock dragged to 500 px on a maximised
1366 px window left the canvas 64 px once the window was made 910 px again. So when the
window shrinks, a dragged dock gives way too, down to where the canvas keeps its share (or the
narrower canvas the user chose by dragging); when it grows again, the dragged width returns.
"""

from __future__ import annotations

import weakref

from qtpy.QtCore import QEvent, QObject, Qt, QTimer
from qtpy.QtWidgets import QDockWidget, QMainWindow, QScrollArea

# The least share of the window's width the canvas keeps when docks are fitted.
CANVAS_SHARE = 1 / 3
_SIDE_AREAS = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea)


class DockFit(QObject):
    """Fits the width of ``window``'s docks that hold a scrolled panel. A child of the
    window: one per window (``dock_fit_for``), gone with it. It holds the window and the
    docks weakly (napari checks that a closed viewer's widgets are freed)."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        # dock -> the scroll area inside it (weakly too: the area holds its dock)
        self._areas: weakref.WeakKeyDictionary[QDockWidget, weakref.ref[QScrollArea]] = \
            weakref.WeakKeyDictionary()
        # dock -> (the width dragged by hand, the canvas width the user left by that drag)
        self._by_hand: weakref.WeakKeyDictionary[QDockWidget, tuple[int, int]] = \
            weakref.WeakKeyDictionary()
        self._pressed: dict[int, int] | None = None  # id(dock) -> its width when pressed
        self._timer = QTimer(self, singleShot=True, interval=0)  # (one fit for many causes)
        self._timer.timeout.connect(self.fit)
        window.installEventFilter(self)

    def add(self, dock: QDockWidget, area: QScrollArea) -> None:
        """Fit ``dock`` from now on, to the least width of ``area``'s content."""
        self._areas[dock] = weakref.ref(area)
        self.schedule()

    @property
    def _window(self) -> QMainWindow:
        return self.parent()

    def schedule(self) -> None:
        """Fit once the window has laid out what changed (after the events under way)."""
        self._timer.start()

    # ---- causes ----------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is not self._window:
            return False
        kind = event.type()
        if kind == QEvent.Type.Resize:
            self.schedule()
        elif kind == QEvent.Type.MouseButtonPress:
            # A press on the window itself, between its docks and the canvas: a separator.
            self._pressed = {id(dock): dock.width() for dock in self._areas}
        elif kind == QEvent.Type.MouseButtonRelease and self._pressed is not None:
            self._took_by_hand(self._pressed)
            self._pressed = None
        return False

    def _took_by_hand(self, widths: dict[int, int]) -> None:
        """The docks the user's drag resized, with the docks tabbed with them (they share
        one width), keep the width they were given."""
        central = self._window.centralWidget()
        canvas = central.width() if central is not None else 0
        for dock in list(self._areas):
            if _alive(dock) and widths.get(id(dock), dock.width()) != dock.width():
                for taken in (dock, *self._window.tabifiedDockWidgets(dock)):
                    self._by_hand[taken] = (dock.width(), canvas)

    # ---- fitting ---------------------------------------------------------------------------
    def fit(self) -> None:
        """Widen each shown dock to its content's least width as far as the canvas keeps
        its share, and narrow one that takes more."""
        if self._pressed is not None:  # (a drag under way: the user's, not to fight)
            return
        for dock in list(self._areas):
            if _alive(dock) and self._fits(dock):
                width = self._fitted_width(dock)
                if width is not None and width != dock.width():
                    self._window.resizeDocks([dock], [width], Qt.Orientation.Horizontal)
                    self._window.layout().activate()  # (the next dock sees this one's width)

    def _fits(self, dock: QDockWidget) -> bool:
        return (dock.isVisible() and not dock.isFloating()
                and not dock.visibleRegion().isEmpty()  # (behind another dock's tab)
                and self._window.dockWidgetArea(dock) in _SIDE_AREAS)

    def _fitted_width(self, dock: QDockWidget) -> int | None:
        central = self._window.centralWidget()
        if central is None:
            return None
        least_canvas = max(central.minimumSizeHint().width(),
                           round(self._window.width() * CANVAS_SHARE))
        if dock in self._by_hand:
            dragged, canvas_left = self._by_hand[dock]
            # (the user may have dragged into the canvas's share: that narrower canvas is theirs)
            least_canvas = max(central.minimumSizeHint().width(), min(least_canvas, canvas_left))
            room = dock.width() + central.width() - least_canvas
            return max(min(dragged, room), dock.minimumSizeHint().width())
        area = self._areas[dock]()
        if area is None or not _alive(area):
            return None
        needed = dock.width() - area.width() + least_width(area)
        room = dock.width() + central.width() - least_canvas  # (the widest it may be)
        if dock.width() > room:
            return max(room, dock.minimumSizeHint().width())
        if dock.width() < needed:
            return min(needed, room)
        return None


def least_width(area: QScrollArea) -> int:
    """The width ``area`` needs to show its content whole, with room for its vertical
    scroll bar (sideways scrolling is what fitting avoids)."""
    return (area.widget().minimumSizeHint().width() + area.verticalScrollBar().sizeHint().width()
            + 2 * area.frameWidth())


def dock_fit_for(window: QMainWindow) -> DockFit:
    """The window's ``DockFit`` (made on first use)."""
    fit = window.findChild(DockFit)
    return fit if fit is not None else DockFit(window)


def _alive(widget) -> bool:
    try:
        widget.objectName()
    except RuntimeError:  # (its C++ half deleted)
        return False
    return True
