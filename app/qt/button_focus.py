"""Enabling and disabling a panel's buttons without losing the keyboard focus out of it.

Qt hands the focus of a widget being disabled to the next one in the Tab chain, which at
the end of a docked panel is the dock's title-bar hide button: after Space on Run or
Fine-tune (which disable themselves), a second Space hid the whole panel. The focus goes to
the control that takes over instead (Cancel, Pause; Run or Fine-tune again at the end).
"""

from __future__ import annotations

from qtpy.QtCore import Qt


def set_buttons_enabled(enabled: dict, taker) -> None:
    """Enable or disable each widget of ``enabled`` (widget -> bool); ``taker`` (one of the
    widgets enabled) gets the focus if the focused widget is one being disabled."""
    for widget, on in enabled.items():  # (first those enabled: the focus may go there)
        if on:
            widget.setEnabled(True)
    focused = next(iter(enabled)).window().focusWidget()  # (the window's, active or not)
    if enabled.get(focused) is False:
        taker.setFocus(Qt.FocusReason.OtherFocusReason)
    for widget, on in enabled.items():
        if not on:
            widget.setEnabled(False)
