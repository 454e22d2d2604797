"""The steps of a Labels layer's undo history as :class:`~.napari_history.HistoryWatcher`
mirrors them, and the checks that compare the mirror with napari's own history.

Apart from the watcher because they are what it reasons about, not how it reacts to
napari's events: the two kinds of mirrored item (napari's steps, the app's actions), when a
mirrored step is still napari's, whether the data shows a step done or undone, how many
steps napari's private stacks hold, and how to make napari forget them. Plain classes and
functions, no Qt.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np

from unet_studio.app.label_edit import LabelEdit
from unet_studio.plugins.undo_budget import item_nbytes

HOLDS_SAMPLE = 4096  # pixels read to tell whether napari undid or redid a step


class MirroredStep(list):
    """A mirrored history item (its atoms, in napari's order) and the bytes they hold,
    measured once when painted: the budget is checked after every step, and measuring
    100 steps of hundreds of brush atoms each time would cost tens of ms."""

    __slots__ = ("nbytes",)

    def __init__(self, atoms):
        super().__init__(atoms)
        self.nbytes = item_nbytes(self)


class AppAction:
    """An app action in the mirrored history, between napari's steps: napari never sees it,
    the watcher undoes and redoes it itself."""

    __slots__ = ("undo", "redo")

    def __init__(self, undo: Callable[[], None], redo: Callable[[], None]):
        self.undo, self.redo = undo, redo


def same_step(step: MirroredStep, item) -> bool:
    """True when napari's ``item`` holds the mirrored step's atoms (the same objects; the
    ends suffice, comparing every atom of 100 long brush strokes after each stroke cost
    milliseconds)."""
    if len(step) != len(item):
        return False
    return not step or (step[0] is item[0] and step[-1] is item[-1])


def holds_values(data, edit: LabelEdit, values: np.ndarray) -> bool:
    """True when ``data`` holds ``values`` at the edit's pixels, read at up to
    :data:`HOLDS_SAMPLE` of them spread over the edit, where its old and new values differ.

    napari writes a step's pixels all at once or not at once, so the sample tells which
    (reading every pixel of an edit of every object cost ~90 ms on the GUI thread per undo
    of 64 x 1024 x 1024 labels). Only pixels that change tell: at the others both states
    read the same; with none among the sampled, every pixel is read."""
    if edit.is_empty:
        return True
    picked = np.unique(np.linspace(0, edit.size - 1, min(edit.size, HOLDS_SAMPLE)).astype(np.intp))
    picked = picked[edit.old_values[picked] != edit.new_values[picked]]
    if not len(picked):
        return bool(np.array_equal(np.asarray(data[edit.indices]), values))
    indices = tuple(np.asarray(i)[picked] for i in edit.indices)
    return bool(np.array_equal(np.asarray(data[indices]), values[picked]))


def napari_stack_length(layer, kind: str) -> int | None:
    """How many steps napari's undo ("undo") or redo ("redo") stack of ``layer`` holds, or
    None where this napari keeps them in another form (napari 0.9: the private deques
    ``_undo_history`` and ``_redo_history``, read only for their length)."""
    stack = getattr(layer, f"_{kind}_history", None)
    return len(stack) if isinstance(stack, deque) else None


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
