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
- ``Labels.editable``: napari clears the undo history when a Labels layer becomes
  non-editable; :func:`reset_undo_history` uses that (napari has no public reset).

What the public API does not pin down is the form of the atoms in ``events.paint``:
:func:`atom_to_edit` decodes the two forms napari 0.9 writes and raises
:class:`UnsupportedHistoryFormat` (naming the napari version) on anything else.
``tests/plugins/test_napari_history.py`` checks every one of these assumptions against the
installed napari, so an upgrade that breaks one fails CI instead of losing a user's work.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

import numpy as np
from qtpy.QtCore import QTimer

from unet_studio.app.label_edit import LabelEdit

log = logging.getLogger(__name__)

EditListener = Callable[[LabelEdit, str], None]  # (edit, kind: "paint" | "undo" | "redo")

# napari 0.9 keeps the last 100 history items per Labels layer; the mirror keeps as many
# (checked by the contract test). Undo beyond napari's history changes nothing, and the
# mirror notices that (see HistoryWatcher._undo).
HISTORY_LENGTH = 100


class UnsupportedHistoryFormat(RuntimeError):
    """napari recorded an edit in a form this version of unet-studio cannot read."""


def _napari_version() -> str:
    import napari

    return napari.__version__


def reset_undo_history(layer) -> None:
    """Forget ``layer``'s undo and redo history (its pixels were replaced wholesale).

    napari has no public call for this; it clears a Labels layer's history whenever the
    layer stops being editable (``Labels._on_editable_changed`` in napari 0.9), because
    edits made before cannot be replayed safely afterwards. Toggling the public
    ``editable`` property uses exactly that; the mode napari drops to is restored.
    """
    editable, mode = layer.editable, layer.mode
    layer.editable = False
    layer.editable = editable
    if editable:
        layer.mode = mode


def atom_to_edit(atom, dtype) -> LabelEdit:
    """One napari history atom as a LabelEdit (pixels listed in C order).

    napari 0.9 writes two forms: the 3-tuple ``(indices, old_values, new_values)`` from
    ``data_setitem``, and a named tuple ``(slice_key, mask, old_values, new_value)`` from
    the brush, eraser, fill and polygon (``mask`` None: the whole box changed and
    ``old_values`` is the box).
    """
    if all(hasattr(atom, name) for name in ("slice_key", "mask", "old_values", "new_value")):
        return _masked_atom_to_edit(atom, dtype)
    if isinstance(atom, tuple) and len(atom) == 3:
        indices, old, new = atom
        indices = tuple(np.asarray(i, dtype=np.int64).ravel() for i in indices)
        old = np.asarray(old, dtype=dtype).ravel()
        new = np.broadcast_to(np.asarray(new, dtype=dtype), old.shape).copy()
        return LabelEdit(indices, old, new, "edit")
    raise UnsupportedHistoryFormat(
        f"napari {_napari_version()} recorded a Labels edit as {type(atom).__name__}, a form "
        "unet-studio cannot read; edits made with napari's own tools are not being saved"
    )


def _masked_atom_to_edit(atom, dtype) -> LabelEdit:
    starts = [s.start or 0 for s in atom.slice_key]
    if atom.mask is None:  # every pixel of the box changed; old_values is the box
        box = np.asarray(atom.old_values)
        local = tuple(i.ravel() for i in np.indices(box.shape))
        old = box.ravel()
    else:
        local = np.nonzero(atom.mask)
        old = np.asarray(atom.old_values).ravel()
    indices = tuple((i + s).astype(np.int64) for i, s in zip(local, starts))
    new = np.full(len(old), atom.new_value, dtype=dtype)
    return LabelEdit(indices, old.astype(dtype, copy=False), new, "paint")


def item_to_edits(item, dtype) -> list[LabelEdit]:
    """A history item (list of atoms, applied in order) as LabelEdits in the same order."""
    return [atom_to_edit(atom, dtype) for atom in item]


def _holds(data, edit: LabelEdit, values: np.ndarray) -> bool:
    """True when ``data`` holds ``values`` at the edit's pixels."""
    return edit.is_empty or bool(np.array_equal(np.asarray(data[edit.indices]), values))


class HistoryWatcher:
    """Reports every change of a Labels layer made by napari's tools, undo or redo.

    ``listener(edit, kind)`` is called on the GUI thread after the change is in the data.
    While :attr:`muted` is set (the host applying its own edit), nothing is reported, but
    the edit is still mirrored so that undoing it later is reported.
    """

    def __init__(self, layer, listener: EditListener, on_error: Callable[[str], None] | None = None):
        self.layer = layer
        self.listener = listener
        self.on_error = on_error
        self.muted = False
        self._pending: list = []  # painted items not reported yet
        self._undo_items: deque[list] = deque(maxlen=HISTORY_LENGTH)
        self._redo_items: deque[list] = deque(maxlen=HISTORY_LENGTH)
        layer.events.paint.connect(self._on_paint)
        self._original_undo, self._original_redo = layer.undo, layer.redo
        # Instance attributes shadow the methods, so napari's key bindings call these.
        layer.undo = self._undo
        layer.redo = self._redo

    def detach(self) -> None:
        self.layer.events.paint.disconnect(self._on_paint)
        self.layer.undo, self.layer.redo = self._original_undo, self._original_redo

    def reset(self) -> None:
        """Forget the mirrored history and unreported edits (call with
        :func:`reset_undo_history`, after :meth:`flush` while the old pixels were shown)."""
        self._pending = []
        self._undo_items.clear()
        self._redo_items.clear()

    def _on_paint(self, event) -> None:
        item = list(event.value)
        self._undo_items.append(item)
        self._redo_items.clear()  # napari clears its redo queue on every new edit too
        if self.muted:
            return
        # A single Labels.paint call commits its history BEFORE writing the pixels: report
        # from the event loop's next turn, when the data holds them.
        if not self._pending:
            QTimer.singleShot(0, self.flush)
        self._pending.append(item)

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

    def _undo(self) -> None:
        self.flush()
        self._original_undo()
        if not self._undo_items:
            return
        item = self._undo_items.pop()
        # Undo writes the first atom's old values last: they show whether napari undid
        # this item or had nothing left (history dropped, or reset).
        try:
            first = atom_to_edit(item[0], self.layer.data.dtype)
        except UnsupportedHistoryFormat as error:
            self._fail(error)
            return
        if not _holds(self.layer.data, first, first.old_values):
            self._undo_items.clear()
            return
        self._redo_items.append(item)
        self._report(item, "undo")

    def _redo(self) -> None:
        self.flush()
        self._original_redo()
        if not self._redo_items:
            return
        item = self._redo_items.pop()
        try:
            last = atom_to_edit(item[-1], self.layer.data.dtype)  # redo writes it last
        except UnsupportedHistoryFormat as error:
            self._fail(error)
            return
        if not _holds(self.layer.data, last, last.new_values):
            self._redo_items.clear()
            return
        self._undo_items.append(item)
        self._report(item, "redo")
