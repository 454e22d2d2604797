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
- ``discard_unsaved()``: let it go (stop the work);
- optionally ``save_text() -> str``: the Save button's words when they are not "Save"
  ("Save project…": saving asks where first).

The guard is generic Qt; the napari adapter installs it on the viewer's window. Quitting,
which closes every window at once, is asked about once for all of them by
:class:`~unet_studio.app.qt.quit_guard.QuitGuard`, through the guards' ``at_risk``,
``save`` and ``discard``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from qtpy.QtCore import QEvent, QObject, QTimer
from qtpy.QtWidgets import QMessageBox, QWidget

SAVE, DISCARD, CANCEL = "save", "discard", "cancel"
TITLE = "Unsaved work"


def ask_user(parent: QWidget | None, text: str, save_text: str = "Save") -> str:
    """The question itself: SAVE, DISCARD or CANCEL (closing the box is Cancel); the Save
    button reads ``save_text``. Tests replace this function to answer without a modal box."""
    box = QMessageBox(QMessageBox.Icon.Warning, TITLE, text,
                      QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                      | QMessageBox.StandardButton.Cancel, parent)  # fmt: skip
    box.button(QMessageBox.StandardButton.Save).setText(save_text)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    box.setEscapeButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    # (the button clicked, not exec()'s code: that is an int in some bindings, an enum in others)
    answer = box.standardButton(box.clickedButton()) if box.clickedButton() else None
    if answer == QMessageBox.StandardButton.Save:
        return SAVE
    return DISCARD if answer == QMessageBox.StandardButton.Discard else CANCEL


def question_text(lines: list[str]) -> str:
    # ("this work", not "it": the lines speak of one round, of labels, or of several things)
    return "\n\n".join([*lines, "Save this work before closing? (Cancel keeps the window open.)"])


def save_text(keepers: Iterable[object]) -> str:
    """The Save button's words for ``keepers``' work: their own when they agree ("Save
    project…"), "Save…" when one of several asks where to save first, else "Save"."""
    texts = {keeper.save_text() if callable(getattr(keeper, "save_text", None)) else "Save"
             for keeper in keepers}
    if len(texts) == 1:
        return texts.pop()
    return "Save…" if any(text.endswith("…") for text in texts) else "Save"


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
        if self.saving:  # a Save is under way: the window closes once it is done
            event.ignore()
            return True
        at_risk = self.at_risk()
        if not at_risk:
            return False
        answer = ask_user(self.parent(), question_text([text for _, text in at_risk]),
                          save_text=save_text(keeper for keeper, _ in at_risk))
        event.ignore()  # (Save and Discard close it again from here, see _close_now)
        if answer == SAVE:
            self.save([keeper for keeper, _ in at_risk], self._close_now)
        elif answer == DISCARD:
            self.discard([keeper for keeper, _ in at_risk])
            self._close_now()
        return True

    @property
    def saving(self) -> bool:
        """Is a Save under way (a round stopping to be saved)?"""
        return bool(self._saving)

    def at_risk(self) -> list[tuple[object, str]]:
        """(keeper, what closing would lose) for each keeper holding unsaved work; [] when
        the window may close as it is, or its close can no longer be refused."""
        if self._let_through or not self._can_refuse():
            return []
        at_risk, seen = [], set()
        for keeper in self._keepers():
            if id(keeper) in seen or not callable(getattr(keeper, "unsaved_work", None)):
                continue
            seen.add(id(keeper))
            text = keeper.unsaved_work()
            if text:
                at_risk.append((keeper, text))
        return at_risk

    def save(self, keepers: list, then: Callable[[], None]) -> None:
        """Ask each keeper to save; ``then()`` once all of them did (never if one could
        not: it told the user why, and the window stays open)."""
        self._saving = {id(keeper) for keeper in keepers}
        failed = []

        def done(keeper, ok: bool) -> None:
            if id(keeper) not in self._saving:
                return  # (told twice)
            self._saving.discard(id(keeper))
            if not ok:
                failed.append(keeper)
            if not self._saving and not failed:
                then()

        for keeper in keepers:
            keeper.save_unsaved(lambda ok, keeper=keeper: done(keeper, ok))
        if failed:
            self._saving.clear()  # (the keeper said why; the window stays open)

    def discard(self, keepers: list) -> None:
        for keeper in keepers:
            keeper.discard_unsaved()

    @contextmanager
    def letting_through(self) -> Iterator[None]:
        """Within it, the window's closes are not asked about (they were, already)."""
        self._let_through = True
        try:
            yield
        finally:
            self._let_through = False

    def _close_now(self) -> None:
        """Close the window as asked, once the event under way has been handled (closing
        from inside its own close event would not close it)."""

        def close() -> None:
            window = self.parent()
            if window is None:
                return
            with self.letting_through():
                window.close()

        QTimer.singleShot(0, self, close)
