"""Ask once, before quitting, about the unsaved work of every window.

Quitting (napari's File > Exit, Ctrl+Q) closes the window it was chosen in, and that
window's own close then closes every other window from code, past the point where their
:class:`~unet_studio.app.qt.close_guard.CloseGuard` could refuse (a script's close, as far
as they can tell). So the other windows' unsaved work went unasked about, and lost.

:class:`QuitGuard` watches the close events of the whole application (an application-wide
event filter: the window quit from may be one without our panels, hence without a guard).
When a close is a quit, it gathers what every guarded window would lose and asks once:
Save (every window's work, then quit), Discard (then quit) or Cancel (no window closes,
and the quit is over). What makes a close a quit is the host's to say (``is_quitting``),
as are how to call the quit off and how to quit again.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from contextlib import ExitStack

from qtpy.QtCore import QEvent, QObject, QTimer
from qtpy.QtWidgets import QApplication, QWidget

from unet_studio.app.qt import close_guard
from unet_studio.app.qt.alive import alive
from unet_studio.app.qt.close_guard import DISCARD, SAVE, CloseGuard

log = logging.getLogger(__name__)

WindowCall = Callable[[QWidget], object]


def quit_question(windows: list[tuple[str, list[str]]]) -> str:
    """The question for ``windows``: (window title, what closing it would lose) each."""
    parts = ["Quitting closes every window, and this work exists only in memory:"]
    for title, lines in windows:
        parts.append("\n".join([f"In the window \u201c{title}\u201d:", *lines]))
    parts.append("Save it before quitting? (Cancel keeps every window open.)")
    return "\n\n".join(parts)


def guards() -> list[CloseGuard]:
    """The close guards of the application's windows (each is its window's child)."""
    return [child for window in QApplication.topLevelWidgets() for child in window.children()
            if isinstance(child, CloseGuard)]


class QuitGuard(QObject):
    """The application's event filter for quits. ``is_quitting(window)``: is this close of
    ``window`` a quit? ``cancel_quit(window)``: the quit is off (a later plain close of
    ``window`` closes only it). ``quit(window)``: quit again, from code, once the work was
    saved or discarded. Install it with :func:`install_quit_guard` (one per application)."""

    def __init__(self, app: QApplication, is_quitting: Callable[[QObject], bool],
                 cancel_quit: WindowCall, quit: WindowCall):
        super().__init__(app)
        self._is_quitting = is_quitting
        self._cancel_quit = cancel_quit
        self._quit = quit
        self._quitting = False  # our own quit, after Save or Discard
        app.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        # (first: this sees every event of the application, and almost none is a close)
        if event.type() != QEvent.Type.Close or self._quitting:
            return False
        if not isinstance(watched, QWidget) or not self._is_quitting(watched):
            return False
        windows = guards()
        if any(guard.saving for guard in windows):  # a Save is under way: wait for it
            return self._refuse(watched, event)
        at_risk = [(guard, risk) for guard in windows if (risk := guard.at_risk())]
        if not at_risk:
            return False  # (nothing to lose: the quit goes on)
        answer = close_guard.ask_user(watched, quit_question(
            [(guard.parent().windowTitle(), [text for _, text in risk]) for guard, risk in at_risk]),
            save_text=close_guard.save_text(keeper for _, risk in at_risk for keeper, _ in risk))
        self._refuse(watched, event)  # (Save and Discard quit again from here)
        if answer == SAVE:
            self._save_then_quit(watched, at_risk)
        elif answer == DISCARD:
            for guard, risk in at_risk:
                guard.discard([keeper for keeper, _ in risk])
            self._quit_later(watched)
        return True

    def _refuse(self, window: QWidget, event) -> bool:
        event.ignore()
        self._cancel_quit(window)
        return True

    def _save_then_quit(self, window: QWidget, at_risk: list) -> None:
        """Each window saves its work; the quit comes once every one of them did (none if
        one could not: its keeper said why, and every window stays open)."""
        pending = {id(guard) for guard, _ in at_risk}

        def saved(guard: CloseGuard) -> None:
            pending.discard(id(guard))
            if not pending:
                self._quit_later(window)

        for guard, risk in at_risk:
            guard.save([keeper for keeper, _ in risk], lambda guard=guard: saved(guard))

    def _quit_later(self, window: QWidget) -> None:
        """Quit from ``window`` once the close event under way has been handled, no window
        asking again (a discarded round may still be stopping)."""
        windows = weakref.ref(window)

        def quit_now() -> None:
            window = windows()
            if window is None or not alive(window):
                log.info("the window quit from closed meanwhile: not quitting")
                return
            self._quitting = True
            try:
                with ExitStack() as stack:
                    for guard in guards():
                        stack.enter_context(guard.letting_through())
                    self._quit(window)
            finally:
                self._quitting = False

        QTimer.singleShot(0, self, quit_now)


def install_quit_guard(is_quitting: Callable[[QObject], bool], cancel_quit: WindowCall,
                       quit: WindowCall) -> QuitGuard | None:
    """The application's quit guard, installed on first call (later calls return it)."""
    app = QApplication.instance()
    if app is None:
        return None
    for child in app.children():
        if isinstance(child, QuitGuard):
            return child
    return QuitGuard(app, is_quitting, cancel_quit, quit)

