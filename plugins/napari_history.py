"""napari Labels undo history seen as :class:`~unet_studio.app.label_edit.LabelEdit` s.

napari records every paint stroke, fill, polygon and ``data_setitem`` as a history *item*
(a list of atoms applied together). Two atom forms exist in napari 0.9: the 3-tuple
``(indices, old_values, new_values)`` written by ``data_setitem``, and ``_MaskedPaintAtom``
``(slice_key, mask, old_values, new_value)`` written by the brush, fill and polygon tools.
Converting both to LabelEdits lets the app save and learn from edits made with napari's own
tools exactly as from its own object tools.

napari emits ``events.paint`` when an item is committed but nothing on undo or redo, so
:class:`HistoryWatcher` wraps the layer's ``undo``/``redo`` (which napari's Ctrl+Z bindings
call) to report those too. A single ``Labels.paint`` call records its history *before*
writing the pixels, so painted edits are reported from the event loop's next turn, when
the data holds them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from qtpy.QtCore import QTimer

from unet_studio.app.label_edit import LabelEdit

log = logging.getLogger(__name__)

EditListener = Callable[[LabelEdit, str], None]  # (edit, kind: "paint" | "undo" | "redo")


def atom_to_edit(atom, dtype) -> LabelEdit:
    """One napari history atom as a LabelEdit (pixels listed in C order)."""
    if hasattr(atom, "slice_key"):  # a _MaskedPaintAtom from paint, fill or polygon
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
    indices, old, new = atom
    indices = tuple(np.asarray(i, dtype=np.int64).ravel() for i in indices)
    old = np.asarray(old, dtype=dtype).ravel()
    new = np.broadcast_to(np.asarray(new, dtype=dtype), old.shape).copy()
    return LabelEdit(indices, old, new, "edit")


def item_to_edits(item, dtype) -> list[LabelEdit]:
    """A history item (list of atoms, applied in order) as LabelEdits in the same order."""
    return [atom_to_edit(atom, dtype) for atom in item]


class HistoryWatcher:
    """Reports every change of a Labels layer made by napari's tools, undo or redo.

    ``listener(edit, kind)`` is called on the GUI thread after the change is in the data.
    While :attr:`muted` is set (the host applying its own edit), nothing is reported.
    """

    def __init__(self, layer, listener: EditListener):
        self.layer = layer
        self.listener = listener
        self.muted = False
        self._pending: list[LabelEdit] = []
        layer.events.paint.connect(self._on_paint)
        self._original_undo, self._original_redo = layer.undo, layer.redo
        # Instance attributes shadow the methods, so napari's key bindings call these.
        layer.undo = self._undo
        layer.redo = self._redo

    def detach(self) -> None:
        self.layer.events.paint.disconnect(self._on_paint)
        self.layer.undo, self.layer.redo = self._original_undo, self._original_redo

    def _report(self, edits: list[LabelEdit], kind: str) -> None:
        for edit in edits:
            if not edit.is_empty:
                self.listener(edit, kind)

    def _on_paint(self, event) -> None:
        if self.muted:
            return
        if not self._pending:
            QTimer.singleShot(0, self.flush)
        self._pending.extend(item_to_edits(event.value, self.layer.data.dtype))

    def flush(self) -> None:
        """Report painted edits not reported yet (they are in the data by now)."""
        edits, self._pending = self._pending, []
        self._report(edits, "paint")

    def _undo(self) -> None:
        self.flush()
        history = self.layer._undo_history
        item = list(history[-1]) if history else []
        self._original_undo()
        undone = [e.inverted() for e in reversed(item_to_edits(item, self.layer.data.dtype))]
        self._report(undone, "undo")

    def _redo(self) -> None:
        self.flush()
        history = self.layer._redo_history
        # The redo queue holds items reversed (napari appends them that way on undo).
        item = list(reversed(history[-1])) if history else []
        self._original_redo()
        self._report(item_to_edits(item, self.layer.data.dtype), "redo")
