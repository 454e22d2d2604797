"""Is the plane of an edit one the user draws by hand (Qt-free; ``ReviewedRegions.marks_for``)?

An edit in a plane that holds a prediction (or labels the user opened) marks the box around
what it changed: the user looked at the labels there and left the rest of the box as it is.
In a plane whose labels the user paints from nothing (labels started empty: a new network
trained from scratch), the box around a painted nucleus covers parts of the nuclei beside it
that are not painted yet (0): marked, they became reviewed background, training learnt
that real nuclei are background, and the next prediction did not write there. Such a plane
gets the edit's footprint instead (``edit_footprint``).

The signal is the labels themselves: a plane is drawn by hand while every labelled pixel in
it is one the user painted (the ``changed`` mask of the reviewed regions, saved with them),
so that painting the second, third, ... object of an empty plane is still drawing by hand,
and a plane becomes a predicted one as soon as a prediction writes objects into it. Whether
the plane held any labels before the edit would not do: the first object painted would
turn the plane into a "predicted" one for the second. Nothing else records which planes a
prediction wrote (a run may cover one plane, one time point or the whole stack, streamed
around reviewed pixels), and the labels say it for labels opened from a file too.
"""

from __future__ import annotations

import numpy as np

from unet_studio.app.label_edit import LabelEdit

FEW_VALUES = 8  # the values an edit paints, past which others' pixels count as unpainted


def in_one_plane(edit: LabelEdit) -> bool:
    """Does ``edit`` (pixels in C order, at least 2 axes) lie in one plane of its last two
    axes (a Z slice, a time point; a 2D image is one plane)?"""
    return (not edit.is_empty and edit.ndim >= 2
            and all(int(i.min()) == int(i.max()) for i in edit.indices[:-2]))


def drawn_by_hand(labels, changed: np.ndarray | None, edit: LabelEdit) -> bool:
    """True when the plane of ``edit`` (one plane: :func:`in_one_plane`) holds no labelled
    pixel the user did not paint: ``labels`` the label array (before or after the edit is
    applied: its own pixels are read from its old values), ``changed`` the pixels the user
    changed before this edit (None: none). An edit that overwrites labels the user never
    painted (a predicted object corrected) shows that the plane holds a prediction."""
    plane = tuple(int(i[0]) for i in edit.indices[:-2])
    ys, xs = edit.indices[-2:]
    painted = None if changed is None else changed[plane]
    old = edit.old_values != 0
    if painted is not None:
        old &= ~painted[ys, xs]
    if old.any():  # (cheap, and the usual case on a predicted plane)
        return False
    plane_labels = np.asarray(labels[plane])
    unpainted = plane_labels != 0
    if painted is not None:
        unpainted &= ~painted
    unpainted[ys, xs] = False  # (the edit's own pixels: their old values, read above)
    # napari reports the dabs of a stroke once the whole stroke is in the labels: the
    # later dabs, not recorded yet, hold the value this one paints.
    for value in np.unique(edit.new_values)[:FEW_VALUES]:
        if value:
            unpainted &= plane_labels != value
    return not unpainted.any()
