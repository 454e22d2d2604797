"""Enabling and disabling a panel's buttons without losing the keyboard focus out of it.

Qt hands the focus of a widget being disabled to the next one in the Tab chain, which at
the end of a docked panel is the dock's title-bar hide button: after Space on Run or
Fine-tune (which disable themselves), a second Space hid the whole panel. The focus goes to
the control that takes over instead (Cancel, Pause; Run or Fine-tune again at the end).

A panel that scrolls in a short dock is scrolled to show the control given the focus: at
1280x720 a Train round's long verdict pushed Accept below the fold, and Enter pressed it
unseen.
"""

from __future__ import annotations

from qtpy.QtCore import QEvent, Qt
from qtpy.QtWidgets import QApplication, QScrollArea


def set_buttons_enabled(enabled: dict, taker) -> None:
    """Enable or disable each widget of ``enabled`` (widget -> bool); ``taker`` (one of the
    widgets enabled) gets the focus if the focused widget is one being disabled, and is
    scrolled into view then."""
    for widget, on in enabled.items():  # (first those enabled: the focus may go there)
        if on:
            widget.setEnabled(True)
    focused = next(iter(enabled)).window().focusWidget()  # (the window's, active or not)
    moved = enabled.get(focused) is False
    if moved:
        taker.setFocus(Qt.FocusReason.OtherFocusReason)
    for widget, on in enabled.items():
        if not on:
            widget.setEnabled(False)
    if moved:
        scroll_into_view(taker)


def scroll_into_view(widget) -> None:
    """Scroll the nearest scroll area holding ``widget`` so that it shows it (nothing where
    none holds it). Text set just before (a verdict) has moved the widget only once the
    layouts waiting to run have run: they run first."""
    area = widget.parentWidget()
    while area is not None and not isinstance(area, QScrollArea):
        area = area.parentWidget()
    if area is None:
        return
    QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    area.ensureWidgetVisible(widget)
