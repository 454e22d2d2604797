"""Ask before a window closes over work that exists only in memory.

A finished fine-tuning round whose model could not be saved (a full disk), or a round still
training, would be lost with the window. :class:`CloseGuard` watches a window's close
events (an event filter: it sees every way of closing - the title bar's button, a menu, a
shortcut - before the window's own ``closeEvent``) and asks, through :func:`ask_user`:
Save / Discard / Cancel. Cancel keeps the window open.

What is at risk is told by "keepers": any object (the Train panel) with

- ``unsaved_work() -> str | None``: one sentence on what closing would lose, None if nothing;
- ``save_unsaved(then)``: save it, now or later, then call ``then(ok)`` (``ok`` False: it
  could not be saved and the keeper told the user why; the window stays open);
- ``discard_unsaved()``: let it go (stop the work).

The guard is generic Qt; the napari adapter installs it on the viewer's window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from qtpy.QtCore import QEvent, QObject, QTimer
from qtpy.QtWidgets import QMessageBox, QWidget

SAVE, DISCARD, CANCEL = "save", "discard", "cancel"
TITLE = "Unsaved work"


def ask_user(parent: QWidget | None, text: str) -> str:
    """The question itself: SAVE, DISCARD or CANCEL (closing the box is Cancel). Tests
    replace this function to answer without a modal box."""
    box = QMessageBox(QMessageBox.Icon.Warning, TITLE, text,
                      QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                      | QMessageBox.StandardButton.Cancel, parent)  # fmt: skip
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    box.setEscapeButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    # (the button clicked, not exec()'s code: that is an int in some bindings, an enum in others)
    answer = box.standardButton(box.clickedButton()) if box.clickedButton() else None
    if answer == QMessageBox.StandardButton.Save:
        return SAVE
    return DISCARD if answer == QMessageBox.StandardButton.Discard else CANCEL


def question_text(lines: list[str]) -> str:
    return "\n\n".join([*lines, "Save it before closing? (Cancel keeps the window open.)"])


class CloseGuard(QObject):
    """Filters ``window``'s close events; ``keepers()`` lists the objects to ask (see the
    module's docstring). ``can_refuse()``: whether this close may still be refused; False
    for a close that is already tearing the window down (a script's ``viewer.close()``):
    that one is never asked about, since Cancel could not keep the window whole.

    The guard is the window's child and holds no Python reference to it (it asks Qt for
    its parent): the window's Python side must go when it closes, not live on through its
    own event filter. ``keepers`` and ``can_refuse`` should hold weak references only."""

    def __init__(self, window: QWidget, keepers: Callable[[], Iterable[object]],
                 can_refuse: Callable[[], bool] = lambda: True):
        super().__init__(window)
        self._keepers = keepers
        self._can_refuse = can_refuse
        self._let_through = False  # our own close, after Save or Discard
        self._saving: set[int] = set()  # keepers still saving (ids)
        window.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() != QEvent.Type.Close or watched is not self.parent():
            return False
        if self._let_through or not self._can_refuse():
            return False
        if self._saving:  # a Save is under way: the window closes once it is done
            event.ignore()
            return True
        at_risk = self._at_risk()
        if not at_risk:
            return False
        answer = ask_user(self.parent(), question_text([text for _, text in at_risk]))
        event.ignore()  # (Save and Discard close it again from here, see _close_now)
        if answer == SAVE:
            self._save([keeper for keeper, _ in at_risk])
        elif answer == DISCARD:
            for keeper, _ in at_risk:
                keeper.discard_unsaved()
            self._close_now()
        return True

    def _at_risk(self) -> list[tuple[object, str]]:
        at_risk, seen = [], set()
        for keeper in self._keepers():
            if id(keeper) in seen or not callable(getattr(keeper, "unsaved_work", None)):
                continue
            seen.add(id(keeper))
            text = keeper.unsaved_work()
            if text:
                at_risk.append((keeper, text))
        return at_risk

    def _save(self, keepers: list) -> None:
        """Ask each keeper to save; close once all of them did, stay open if one could not."""
        self._saving = {id(keeper) for keeper in keepers}
        failed = []

        def done(keeper, ok: bool) -> None:
            if id(keeper) not in self._saving:
                return  # (told twice)
            self._saving.discard(id(keeper))
            if not ok:
                failed.append(keeper)
            if not self._saving and not failed:
                self._close_now()

        for keeper in keepers:
            keeper.save_unsaved(lambda ok, keeper=keeper: done(keeper, ok))
        if failed:
            self._saving.clear()  # (the keeper said why; the window stays open)

    def _close_now(self) -> None:
        """Close the window as asked, once the event under way has been handled (closing
        from inside its own close event would not close it)."""

        def close() -> None:
            window = self.parent()
            if window is None:
                return
            self._let_through = True
            try:
                window.close()
            finally:
                self._let_through = False

        QTimer.singleShot(0, self, close)
