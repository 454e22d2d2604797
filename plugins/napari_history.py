"""napari Labels undo history seen as :class:`~unet_studio.app.label_edit.LabelEdit` s.

The app saves and learns from edits made with napari's own tools (brush, eraser, fill,
polygon, Ctrl+Z / Ctrl+Shift+Z) exactly as from its own object tools. Everything here goes
through napari's public Labels API (napari 0.9):

- ``Labels.events.paint``: emitted with ``value`` = the history *item* (the list of atoms
  applied together as one undo step) each time napari commits one: a brush stroke, a fill,
  a polygon, a ``data_setitem``, or a ``block_history()`` block (napari PR #4702 added it
  so plugins need not read the history attributes, whose direct use napari deprecated).
- ``Labels.undo()`` / ``Labels.redo()``: what napari's Ctrl+Z / Ctrl+Shift+Z bindings call
  (``layer.undo()``). napari emits nothing on undo or redo, so :class:`HistoryWatcher`
  wraps the two methods on the layer instance and keeps its own mirror of the undo and
  redo stacks, built from the paint events, to know what each undo or redo changed.
  napari says nothing either when there is nothing to undo (its history starts empty and
  is cleared when the labels are replaced): the watcher tells that (``on_nothing``), having
  read the length of napari's own stack (``_undo_history``/``_redo_history``, private;
  where missing, nothing is told) since napari may hold steps the mirror lacks.
- ``Labels.editable``: napari clears the undo history when a Labels layer becomes
  non-editable; ``napari_undo_steps.reset_undo_history`` uses that (napari has no
  public reset).
- With a byte budget, the oldest steps beyond it are dropped from napari's undo stack and
  the mirror together (``undo_budget``: the one place that reads napari's stack itself).
- The app's own actions that change no pixel (marking a slice reviewed) join the layer's
  undo chain as :class:`AppAction` s in the mirror (``layer.add_undo_action``, see
  :meth:`HistoryWatcher.add_action`): Ctrl+Z takes back the user's last action, whatever it
  was, instead of an earlier edit that may be off screen.

What the public API does not pin down is the form of the atoms in ``events.paint``: it is
read in ``napari_history_atoms``; the mirrored steps and the checks against napari's data
and stacks are in ``napari_undo_steps``.
``tests/plugins/test_napari_history.py`` checks every one of these assumptions against the
installed napari, so an upgrade that breaks one fails CI instead of losing a user's work.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

from qtpy.QtCore import QTimer

from unet_studio.app.label_edit import LabelEdit
from unet_studio.plugins.napari_history_atoms import (
    UnsupportedHistoryFormat,
    atom_to_edit,
    item_to_edits,
)
from unet_studio.plugins.napari_undo_steps import (
    AppAction,
    MirroredStep,
    holds_values,
    napari_stack_length,
    same_step,
)
from unet_studio.plugins.undo_budget import item_nbytes, napari_undo_stack, steps_to_drop

log = logging.getLogger(__name__)

EditListener = Callable[[LabelEdit, str], None]  # (edit, kind: "paint" | "undo" | "redo")

# napari 0.9 keeps the last 100 history items per Labels layer; the mirror keeps as many
# (checked by the contract test). Undo beyond napari's history changes nothing, and the
# mirror notices that (see HistoryWatcher._undo).
HISTORY_LENGTH = 100


class HistoryWatcher:
    """Reports every change of a Labels layer made by napari's tools, undo or redo.

    ``listener(edit, kind)`` is called on the GUI thread after the change is in the data.
    While :attr:`muted` is set (the host applying its own edit), nothing is reported, but
    the edit is still mirrored so that undoing it later is reported.

    :meth:`add_action` (also ``layer.add_undo_action``) puts an app action that changes no
    pixel into the layer's undo chain.

    ``max_bytes`` (None: unlimited) bounds the layer's undo history: after each new step
    the oldest steps beyond it are dropped (the newest is kept even when larger, see
    ``steps_to_drop``), and ``on_dropped(message)`` is called the first time that happens.

    ``on_nothing(kind)`` is called when an undo ("undo") or redo ("redo"), by napari's keys
    or a call of ``layer.undo()``, found nothing to take back or do again, in the mirror
    nor in napari's history; ``layer.undo()`` and ``layer.redo()`` then return False.
    """

    def __init__(self, layer, listener: EditListener, on_error: Callable[[str], None] | None = None,
                 *, max_bytes: int | None = None, on_dropped: Callable[[str], None] | None = None,
                 on_nothing: Callable[[str], None] | None = None):  # fmt: skip
        self.layer = layer
        self.listener = listener
        self.on_error = on_error
        self.max_bytes = max_bytes
        self.on_dropped = on_dropped
        self.on_nothing = on_nothing
        self.muted = False
        self._told_dropped = False
        self._pending: list = []  # painted items not reported yet
        # Steps (napari's, newest last) and app actions between them; bounded in _trim.
        self._undo_items: deque[MirroredStep | AppAction] = deque()
        self._redo_items: deque[MirroredStep | AppAction] = deque()
        # napari's redo stack holds steps the mirror dropped when an action came after them
        # (napari clears it only on its own next step): they must not be redone.
        self._napari_redo_stale = False
        layer.events.paint.connect(self._on_paint)
        self._original_undo, self._original_redo = layer.undo, layer.redo
        # Instance attributes shadow the methods, so napari's key bindings call these.
        layer.undo = self._undo
        layer.redo = self._redo
        # (the app reaches it through the layer, as it reaches undo: no napari import there)
        layer.add_undo_action = self.add_action

    def detach(self) -> None:
        self.layer.events.paint.disconnect(self._on_paint)
        self.layer.undo, self.layer.redo = self._original_undo, self._original_redo
        del self.layer.add_undo_action

    def add_action(self, undo: Callable[[], None], redo: Callable[[], None]) -> None:
        """Make an app action just done (no pixel changed) the newest undo step of this
        layer: the next Ctrl+Z calls ``undo()`` instead of undoing napari's last step, and
        Ctrl+Shift+Z then ``redo()``. As any new step, it ends what could be redone."""
        self.flush()  # (strokes painted before it are reported before it)
        self._undo_items.append(AppAction(undo, redo))
        self._redo_items.clear()
        self._napari_redo_stale = True
        self._trim()

    def _trim(self) -> None:
        """Keep :data:`HISTORY_LENGTH` steps, as napari does, and as many actions: an action
        older than the oldest step napari keeps goes with it."""
        steps = sum(isinstance(item, MirroredStep) for item in self._undo_items)
        actions = len(self._undo_items) - steps
        while steps > HISTORY_LENGTH or actions > HISTORY_LENGTH:
            if isinstance(self._undo_items.popleft(), MirroredStep):
                steps -= 1
            else:
                actions -= 1

    def reset(self) -> None:
        """Forget the mirrored history and unreported edits (call with
        :func:`~.napari_undo_steps.reset_undo_history`, after :meth:`flush` while the old pixels were shown)."""
        self._pending = []
        self._undo_items.clear()
        self._redo_items.clear()
        self._napari_redo_stale = False

    def _on_paint(self, event) -> None:
        item = MirroredStep(event.value)
        self._undo_items.append(item)
        self._redo_items.clear()  # napari clears its redo queue on every new edit too
        self._napari_redo_stale = False
        self._trim()
        self._keep_within_budget()
        if self.muted:
            return
        # A single Labels.paint call commits its history BEFORE writing the pixels: report
        # from the event loop's next turn, when the data holds them.
        if not self._pending:
            QTimer.singleShot(0, self.flush)
        self._pending.append(item)

    def _keep_within_budget(self) -> None:
        """Drop the oldest undo steps beyond ``max_bytes``. Checked only when a step is
        added: napari has just cleared the redo stack then, and undo or redo only move a
        step between the two stacks, so undo + redo stay within the budget."""
        stack = None if self.max_bytes is None else napari_undo_stack(self.layer)
        if stack is None:
            return
        # The mirror holds napari's newest steps: fewer when painted before it was made,
        # more only when napari forgot some (reset): those are the oldest, gone.
        self._drop_oldest_steps(len(self._mirrored_steps()) - len(stack))
        unmirrored = len(stack) - len(self._mirrored_steps())
        drop = steps_to_drop(self._step_sizes(stack, unmirrored), self.max_bytes)
        for _ in range(drop):
            stack.popleft()
        self._drop_oldest_steps(drop - unmirrored)
        if drop and not self._told_dropped and self.on_dropped is not None:
            self._told_dropped = True
            mib = round(self.max_bytes / 2**20, 1)
            self.on_dropped(f"Undo history of '{self.layer.name}' is limited to {mib:g} MiB; "
                            "the oldest steps were dropped")  # fmt: skip

    def _mirrored_steps(self) -> list[MirroredStep]:
        return [item for item in self._undo_items if isinstance(item, MirroredStep)]

    def _drop_oldest_steps(self, count: int) -> None:
        """Forget the ``count`` oldest mirrored steps and the actions older than the last of
        them (undoing those would leave the napari steps before them out of order)."""
        while count > 0 and self._undo_items:
            if isinstance(self._undo_items.popleft(), MirroredStep):
                count -= 1

    def _step_sizes(self, stack, unmirrored: int) -> list[int]:
        """Bytes of each of napari's undo steps, oldest first: as measured when mirrored, or
        now for a step the mirror lacks or does not match (napari changed it unseen)."""
        mirrored = [None] * unmirrored + self._mirrored_steps()
        return [step.nbytes if step is not None and same_step(step, item) else item_nbytes(item)
                for item, step in zip(stack, mirrored)]  # fmt: skip

    def flush(self) -> None:
        """Report painted edits not reported yet (they are in the data by now)."""
        items, self._pending = self._pending, []
        for item in items:
            self._report(item, "paint")

    def _fail(self, error: UnsupportedHistoryFormat) -> None:
        log.error("%s", error)
        if self.on_error is not None:
            self.on_error(str(error))

    def _report(self, item, kind: str) -> None:
        try:
            edits = item_to_edits(item, self.layer.data.dtype)
        except UnsupportedHistoryFormat as error:
            self._fail(error)
            return
        if kind == "undo":
            edits = [edit.inverted() for edit in reversed(edits)]
        for edit in edits:
            if not edit.is_empty:
                self.listener(edit, kind)

    def _undo(self) -> bool:
        """napari's undo, reported; False when there was nothing to undo (told)."""
        self.flush()
        if self._undo_items and isinstance(self._undo_items[-1], AppAction):
            action = self._undo_items.pop()
            action.undo()
            self._redo_items.append(action)
            return True
        steps = napari_stack_length(self.layer, "undo")
        self._original_undo()
        if not self._undo_items:
            return self._napari_changed("undo", steps)
        item = self._undo_items.pop()
        # Undo writes the first atom's old values last: they show whether napari undid
        # this item or had nothing left (history dropped, or reset).
        try:
            first = atom_to_edit(item[0], self.layer.data.dtype)
        except UnsupportedHistoryFormat as error:
            self._fail(error)
            return True
        if not holds_values(self.layer.data, first, first.old_values):
            self._undo_items.clear()  # (and the actions among them: napari has none before)
            return self._napari_changed("undo", steps)
        self._redo_items.append(item)
        self._report(item, "undo")
        return True

    def _redo(self) -> bool:
        """napari's redo, reported; False when there was nothing to redo (told)."""
        self.flush()
        if self._redo_items and isinstance(self._redo_items[-1], AppAction):
            action = self._redo_items.pop()
            action.redo()
            self._undo_items.append(action)
            return True
        if not self._redo_items and self._napari_redo_stale:
            return self._nothing("redo")  # (napari's redo stack holds only steps an action ended)
        steps = napari_stack_length(self.layer, "redo")
        self._original_redo()
        if not self._redo_items:
            return self._napari_changed("redo", steps)
        item = self._redo_items.pop()
        try:
            last = atom_to_edit(item[-1], self.layer.data.dtype)  # redo writes it last
        except UnsupportedHistoryFormat as error:
            self._fail(error)
            return True
        if not holds_values(self.layer.data, last, last.new_values):
            self._redo_items.clear()
            return self._napari_changed("redo", steps)
        self._undo_items.append(item)
        self._report(item, "redo")
        return True

    def _napari_changed(self, kind: str, steps_before: int | None) -> bool:
        """After napari's undo or redo of nothing the mirror holds: did napari change
        anything all the same (a step of its own the mirror lacks: one fewer in its stack;
        its stack unreadable: assumed)? If not, ``on_nothing(kind)`` is told."""
        if steps_before is None or steps_before > (napari_stack_length(self.layer, kind) or 0):
            return True
        return self._nothing(kind)

    def _nothing(self, kind: str) -> bool:
        """Tell that an undo or redo (``kind``) had nothing to do; False."""
        if self.on_nothing is not None:
            self.on_nothing(kind)
        return False

