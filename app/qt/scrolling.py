"""A panel whose content scrolls inside it (``scrolled_body``).

napari stacks the docks that its Plugins menu opens one above the other (the launcher tabs
them; a plugin cannot), and a dock is never shorter than its panel's minimum height: four
panels of 370 to 660 px made the window 2153 px tall on a 1000 px screen, and a squeezed
dock cut its text off. Inside a scroll area a panel asks for little height and shows all of
its content, scrolled.

Width likewise: a dock is never narrower than its widest tabbed panel, and with display
scaling (1.5 on a 1600 px screen: 1067 px) panels of 470-490 px made napari's window wider
than the screen; docks of 300 px at the least kept the window 900 px wide at the least (half
a laptop's screen is 640-680 px). A scrolled panel asks for at most ``MAX_LEAST_WIDTH``;
content that cannot shrink that far scrolls sideways (the panels wrap and elide to fit before
that). Its dock is made as wide as the content needs wherever the window has room
(``dock_fit.DockFit``: when the window is resized, the dock shown, the content grown).

A dock behind another dock's tab is moved off-screen, not hidden: Tab walked through its
invisible controls, and Space pressed them. The content (and the dock's title bar) is hidden
while its dock is not shown.
"""

from __future__ import annotations

from qtpy.QtCore import QEvent, QObject, QSize, Qt
from qtpy.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QVBoxLayout, QWidget

from unet_studio.app.qt.dock_fit import dock_fit_for, least_width
from unet_studio.app.qt.panel_keys import keyboard_friendly

# The least height a scrolled panel asks for: a few rows of controls, and room for the
# other docks of a stack on a laptop's screen.
MIN_SCROLLED_HEIGHT = 160
# The most width a scrolled panel asks for at the least: a column of controls still reads
# (scrolled sideways), and with napari's own docks (~260-320 px) and its canvas (250 px) the
# window can be ~700 px wide; the docks are fitted wider where the window has room.
MAX_LEAST_WIDTH = 120


class PanelScrollArea(QScrollArea):
    """Scrolls its content vertically, and sideways where it cannot be narrow enough."""

    def __init__(self, body: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)  # (the content fills the width, and the height it spares)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # (Tab goes to the controls, not to this)
        self.setWidget(body)
        self.dock: QDockWidget | None = None  # the dock whose visibility the content follows
        self._title_hidden = False  # (its title bar hidden here, to show again with it)
        self._least_seen = -1  # (the content's least width when the dock was last fitted)
        body.installEventFilter(self)  # (its LayoutRequest: the content's least width changed)
        if parent is not None:
            parent.installEventFilter(self)  # (its ParentChange: docked, or docked again)

    def minimumSizeHint(self) -> QSize:
        least = self.widget().minimumSizeHint()
        return QSize(min(least_width(self), MAX_LEAST_WIDTH),
                     min(least.height(), MIN_SCROLLED_HEIGHT))

    def sizeHint(self) -> QSize:
        # The content's own (QScrollArea caches the first one it computes, and bounds it),
        # with no room for a scroll bar: a dock tall enough shows none (the launcher's tabs).
        wanted = self.widget().sizeHint()
        return QSize(wanted.width() + 2 * self.frameWidth(), wanted.height())

    # ---- following the dock's tab ------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self.widget():
            if event.type() == QEvent.Type.LayoutRequest:
                self._fit_dock()
        elif event.type() == QEvent.Type.ParentChange:
            self.follow_dock()
        return False

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.follow_dock()  # (put in a dock by a parent further up: that shows it anew)
        super().showEvent(event)

    def follow_dock(self) -> None:
        """Show the content only while the dock it is in is shown (its tab is the current
        one); outside a dock, always."""
        dock = self.parentWidget()
        while dock is not None and not isinstance(dock, QDockWidget):
            dock = dock.parentWidget()
        if dock is self.dock:
            return
        if self.dock is not None:
            try:
                self.dock.visibilityChanged.disconnect(self._dock_shown)
            except (RuntimeError, TypeError):  # (the old dock is gone: so is the connection)
                pass
        self.dock, self._title_hidden, self._least_seen = dock, False, -1
        if dock is not None:
            dock.visibilityChanged.connect(self._dock_shown)
        self._dock_shown(True)  # (a tabbed dock that is not current says so when tabbed)

    def _dock_shown(self, shown: bool) -> None:
        self.widget().setVisible(shown)
        if shown:
            self._least_seen = -1
            self._fit_dock()
        # The dock's title bar (napari's: hide, float and close buttons) is off-screen too.
        title = self.dock.titleBarWidget() if self.dock is not None else None
        if title is not None and (not shown or self._title_hidden):
            title.setVisible(shown)
            self._title_hidden = not shown

    def _fit_dock(self) -> None:
        """Have the window fit the dock to the content (shown, or its least width changed):
        a dock opens at its least width, ``MAX_LEAST_WIDTH``, where the content scrolls."""
        dock = self.dock
        window = dock.parentWidget() if dock is not None else None
        least = least_width(self)
        if isinstance(window, QMainWindow) and least != self._least_seen:
            self._least_seen = least
            dock_fit_for(window).add(dock, self)


def scrolled_body(panel: QWidget) -> QWidget:
    """The widget to lay ``panel``'s content out on: it scrolls inside ``panel``, which
    keeps every attribute (the content's widgets are still the panel's descendants)."""
    body = QWidget()
    outer = QVBoxLayout(panel)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(PanelScrollArea(body, panel))
    keyboard_friendly(body)
    return body
