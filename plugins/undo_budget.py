"""The undo history of a napari Labels layer bounded by bytes, not only by count.

napari keeps the last 100 undo steps of a Labels layer whatever they hold. A brush stroke
holds kilobytes, but one relabel, large fill or applied prediction of a 15 MiB stack holds
~21 MiB (the changed pixels' indices and old and new values), so a session on a large stack
could keep ~2 GiB of history and run out of memory. :class:`HistoryWatcher` measures each
step once, when napari commits it (:func:`item_nbytes`), and after each one drops the OLDEST
steps beyond the budget (:func:`steps_to_drop`) from napari's undo stack and its own mirror
together, so the newest steps undo and redo exactly as before.

napari has no public call to drop part of the history (only to clear all of it, see
``reset_undo_history``): :func:`napari_undo_stack` reads the private ``Labels._undo_history``
deque (napari 0.9: newest step at its right end) and nothing else; where it is missing, the
budget is not applied (logged once) and everything else keeps working.
``tests/plugins/test_undo_budget.py`` checks these assumptions against the installed napari.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator, Sequence

import numpy as np

log = logging.getLogger(__name__)

_warned: list[bool] = []  # the missing-stack warning, once per process


def _arrays(value) -> Iterator[np.ndarray]:
    """The arrays in a history atom: napari 0.9's 3-tuple ``(indices, old, new)`` and its
    ``_MaskedPaintAtom`` named tuple are both (nested) tuples, so one walk serves both, and
    a future atom made of tuples of arrays too."""
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, (tuple, list)):
        for part in value:
            yield from _arrays(part)


def _owner(array: np.ndarray) -> np.ndarray:
    """The array whose buffer ``array`` views: a view keeps all of it alive (the index
    arrays of ``np.nonzero`` are columns of one ``(N, ndim)`` array)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def item_nbytes(item) -> int:
    """Bytes the arrays of one undo step (a list of atoms) keep alive, each buffer once.

    Python object headers (~100 bytes an array) are left out: they matter only for steps
    far too small to count against a budget of megabytes.
    """
    owners = {id(owner): owner.nbytes for owner in map(_owner, _arrays(list(item)))}
    return sum(owners.values())


def steps_to_drop(sizes: Sequence[int], max_bytes: int) -> int:
    """How many of the oldest steps to drop (``sizes`` oldest first) for the rest to fit in
    ``max_bytes``. The steps kept are the newest ones, contiguous (an undo must replay
    every step after it), and the newest is always kept even when larger than the whole
    budget: losing the undo of the edit just made (an accidental relabel or prediction) is
    worse than holding that one step, which at worst is a few times the stack's size,
    already allocated once by the edit itself."""
    kept, total = 0, 0
    for size in reversed(sizes):
        if kept and total + size > max_bytes:
            break
        kept, total = kept + 1, total + size
    return len(sizes) - kept


def napari_undo_stack(layer) -> deque | None:
    """napari's undo stack of ``layer`` (oldest step first), or None when this napari keeps
    it in another form (the budget then cannot be applied)."""
    stack = getattr(layer, "_undo_history", None)
    if isinstance(stack, deque):
        return stack
    if not _warned:
        _warned.append(True)
        log.warning("this napari keeps its Labels undo history in another form: the undo "
                    "history is not limited in size")  # fmt: skip
    return None


def history_nbytes(layer) -> int:
    """Bytes held by the undo and redo stacks of ``layer`` (for tests and benchmarks)."""
    stacks = (getattr(layer, "_undo_history", ()), getattr(layer, "_redo_history", ()))
    return sum(item_nbytes(item) for stack in stacks for item in stack)
