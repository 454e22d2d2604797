"""The user's own review marks (R, Shift+R, Mark drawn region) as undo steps of the labels.

A mark is an action like an edit: Ctrl+Z right after it must take it back, not undo the
edit before it (which may be on a time point or slice off screen: the QA case of D at
t=1, R at t=2, Ctrl+Z undoing the deletion unseen and leaving the mark). napari's history
holds pixel changes only, so the mark joins the labels layer's undo chain as an action of
its history watcher (``layer.add_undo_action``, ``plugins.napari_history``); a host without
one (the FakeHost) keeps marks out of the chain, as before.

Undo clears the pixels the mark turned (reviewed, or unreviewed by Shift+R) and nothing
else, and gives the edits' marks back what the mark took from them (an explicit mark takes
its pixels out of the edits' marks so that their undo leaves it alone, see
``ReviewedRegions``); redo turns them again.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np


@contextmanager
def undoable_marking(session, regions, box: tuple[slice, ...], reviewed: bool, text: str):
    """Around marking ``box`` of ``regions`` (all of it or part, ``reviewed`` or not):
    afterwards the marking is the newest undo step of the current labels."""
    add = undo_action_adder(session.host)
    if add is None:
        yield
        return
    box = tuple(slice(*s.indices(n)[:2]) for s, n in zip(box, regions.shape))
    before = np.array(regions.mask[box])
    kept = _edit_marks_in(session, regions, box)
    yield
    turned = np.array(regions.mask[box]) != before
    shape, packed = turned.shape, np.packbits(turned)  # (a stack's box: 1 bit a pixel)
    del before, turned

    def turn(value: bool) -> None:
        mask = np.unpackbits(packed, count=int(np.prod(shape))).reshape(shape).view(bool)
        regions.mark_mask(mask, box, reviewed=value)

    def undo() -> None:
        turn(not reviewed)
        for added, marks in kept:  # (copies again: a later mark changes them in place)
            added.reviewed = [(region, new.copy()) for region, new in marks]
        _done(session, f"Undone: {text}")

    def redo() -> None:
        turn(reviewed)
        _done(session, f"Redone: {text}")

    session._forget_redo(regions)  # (a new step: the edits undone before are not redone)
    add(undo, redo)


def undo_action_adder(host):
    """``add(undo, redo)`` putting an action into the current labels' undo chain, or None
    where the host has none: a host's own ``add_undo_action``, else the one napari's labels
    layer carries (set by its history watcher)."""
    add = getattr(host, "add_undo_action", None)
    if add is None:
        layer = getattr(host, "labels_layer", lambda: None)()
        add = getattr(layer, "add_undo_action", None)
    return add


def _edit_marks_in(session, regions, box) -> list:
    """(MarksAdded, copy of its reviewed marks) of the edits of ``regions`` an undo or redo
    may still use, those whose marks meet ``box``: what marking the box may take from."""
    kept = []
    for entry in (*session._marks, *session._unmarked):
        added = entry[2]
        if entry[0] is not regions or added is None or not added.reviewed:
            continue
        if any(_meets(region, box, regions.shape) for region, _ in added.reviewed):
            kept.append((added, [(region, new.copy()) for region, new in added.reviewed]))
    return kept


def _meets(region, box, shape) -> bool:
    for r, b, n in zip(region, box, shape):
        start, stop = r.indices(n)[:2] if isinstance(r, slice) else (int(r), int(r) + 1)
        if stop <= b.start or b.stop <= start:
            return False
    return True


def _done(session, text: str) -> None:
    session.reviewed_changed_by_user()
    session._tell_text(text)
