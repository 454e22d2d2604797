"""The warning after a review mark over labels that are only the user's own strokes.

Reviewed means "this region is complete and right": every pixel of it that holds no object
is taught as background. Over a prediction the user corrected, that is what she checked.
Over labels she paints from nothing in an image nothing was predicted in, the objects she
has not painted yet are taught as background too: the QA case of three nuclei painted in
slice 5 of an image never predicted, R, and a round that learnt the others as background
without a word. The mark still happens (she may have painted every one), and she is told,
once per image, what it teaches.

A marked box was predicted when a run on the image covered part of it (the region its
"predict" history entry records: a run on the slice on screen covers that slice only; an
older entry without one, the whole image; a run that found nothing leaves no labels), or
when labels the user never painted lie in it (``hand_drawn`` reads them so, against the
``changed`` mask of the reviewed regions). Then a mark where the model found nothing is
the user's check of its prediction, painted objects or none. Labels the user never painted
outside every run's region came from elsewhere (a file she opened): the whole image counts
as predicted then, as it does without a project (no history to read).

The warning says its point in its first words (a collapsed napari toast shows about 40
characters, for 4 seconds), and the Correct panel keeps it in its status line
(:func:`hand_only_said`): the QA case of R pressed with the eyes on the canvas.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

from unet_studio.app.class_map import labels_classes
from unet_studio.app.run_regions import Box, covers_all, overlaps, run_boxes
from unet_studio.models.slab_label import SLAB_PIXELS  # (the look stops at the first slab found)

# What is known of the reviewed regions of an image: the warnings said ("painted", "empty"),
# each once, so that R on the next slices painted by hand does not repeat it; "predicted"
# once all of the image was found predicted (it stays so: no pass over the labels at every
# R). A box found predicted adds nothing: a later mark elsewhere may still need the warning.
# Keyed by the regions object, weakly: it goes with the image's labels.
_told: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

# (the first ~40 characters carry the point: what a collapsed toast shows)
PAINTED = ("Only your {what} {verb} taught in {where}: the rest of it as {background}. "
           "{paint}, or Run first and correct the prediction.")  # fmt: skip
EMPTY = ("{where} is taught as all {background}: nothing was predicted there. If it holds "
         "{things}, paint them, or Run first and correct the prediction.")  # fmt: skip

# The warnings told while a :func:`hand_only_said` block runs (None outside one).
_heard: ContextVar[list[str] | None] = ContextVar("hand_only_heard", default=None)


@contextmanager
def hand_only_said() -> Iterator[list[str]]:
    """Collect the warnings told inside the block: a panel keeps them in its status line,
    where they stay after the notification fades."""
    said: list[str] = []
    token = _heard.set(said)
    try:
        yield said
    finally:
        _heard.reset(token)


def tell_if_hand_only(session, regions, box: tuple[slice, ...], where: str, *,
                      marked_only: bool = False) -> None:
    """After ``box`` of ``regions`` (the current labels' reviewed regions) was marked
    reviewed: warn (``session.host.notify``) when the labels marked there are the user's
    strokes only, or none at all in an image nothing was predicted in. ``where``: what was
    marked, as the sentence starts ("Slice 5"); ``marked_only``: read only the reviewed
    pixels of the box (drawn polygons), not all of it."""
    known = _told.setdefault(regions, set())
    labels = session.host.current_labels()
    if ("predicted" in known or {"painted", "empty"} <= known or labels is None
            or tuple(np.shape(labels)) != regions.shape):  # fmt: skip
        return
    box = tuple(slice(*s.indices(n)[:2]) for s, n in zip(box, regions.shape))
    within = regions.mask if marked_only else None
    changed = regions.changed
    if holds_unpainted(labels, changed, box, within):  # (first the region: a slice to read)
        return  # (a prediction, or labels opened, checked there)
    values = painted_values(labels, box, within)
    kind = "painted" if values.size else "empty"
    if kind in known:
        return
    runs = _runs(session, regions.shape)
    if any(covers_all(run, regions.shape) for run in runs):
        known.add("predicted")
        return
    if any(overlaps(run, box) for run in runs):
        return  # (predicted here only: a later mark elsewhere may still be told)
    if holds_unpainted_outside(labels, changed, runs):  # (labels opened: the whole image)
        known.add("predicted")
        return
    known.add(kind)
    text = _text(session, kind, where, values)
    session.host.notify(text, "warning")
    heard = _heard.get()
    if heard is not None:
        heard.append(text)


def holds_unpainted(labels, changed: np.ndarray, box: tuple[slice, ...],
                    within: np.ndarray | None = None) -> bool:
    """Does ``box`` of ``labels`` (of it the True pixels of ``within``, full-shape) hold a
    labelled pixel that is not ``changed`` (the user never painted it)?"""
    for slab in _slabs(box):
        unpainted = (np.asarray(labels[slab]) != 0) & ~changed[slab]
        if within is not None:
            unpainted &= within[slab]
        if unpainted.any():
            return True
    return False


def painted_values(labels, box: tuple[slice, ...], within: np.ndarray | None = None) -> np.ndarray:
    """The label values (not 0) in ``box`` of ``labels`` (of it the True pixels of
    ``within``), sorted."""
    found = [np.zeros(0, np.int64)]
    for slab in _slabs(box):
        part = np.asarray(labels[slab])
        found.append(np.unique(part if within is None else part[within[slab]]))
    values = np.unique(np.concatenate(found))
    return values[values != 0]


def holds_unpainted_outside(labels, changed: np.ndarray, boxes: list[Box]) -> bool:
    """Does ``labels`` hold a labelled pixel, outside every one of ``boxes``, that is not
    ``changed`` (the user never painted it)?"""
    for slab in _slabs(tuple(slice(0, n) for n in changed.shape)):
        unpainted = (np.asarray(labels[slab]) != 0) & ~changed[slab]
        for box in boxes:  # (a run's own objects: predicted where it ran, not elsewhere)
            inside = _within(box, slab)
            if inside is not None:
                unpainted[inside] = False
        if unpainted.any():
            return True
    return False


def _runs(session, shape: tuple[int, ...]) -> list[Box]:
    """The regions the runs on the current image covered (none without a project)."""
    project, image_id = session.project, session.current_image_id()
    if project is None or image_id is None:
        return []
    return run_boxes(project.history(), image_id, shape)


def _within(box: Box, slab: Box) -> Box | None:
    """Where ``box`` lies in ``slab`` (both full-image boxes), in the slab's own
    coordinates; None when they do not meet."""
    if not overlaps(box, slab):
        return None
    return tuple(slice(max(b.start, s.start) - s.start, min(b.stop, s.stop) - s.start)
                 for b, s in zip(box, slab))


def _text(session, kind: str, where: str, values: np.ndarray) -> str:
    classes = labels_classes(session)  # (a class map: its values are classes, not objects)
    background = classes[0] if classes else "background"
    if kind == "empty":
        things = (" or ".join(classes[1:]) or "labels") if classes else "objects"
        return EMPTY.format(where=where, background=background, things=things)
    if classes:
        names = [classes[v] for v in values if v < len(classes)] or ["labels"]
        what, paint = "painted " + " and ".join(names), f"Paint all of its {' and '.join(classes[1:])}"
        plural = len(names) > 1 or names == ["labels"]
    else:
        count = len(values)
        what = f"{count} painted object{'s' if count != 1 else ''}"
        paint, plural = "Paint every object in it", count != 1
    return PAINTED.format(what=what, verb="are" if plural else "is", where=where[0].lower() + where[1:],
                          background=background, paint=paint)


def _slabs(box: tuple[slice, ...]):
    """``box`` (slices with start and stop) in slabs along its first axis of about
    SLAB_PIXELS pixels each."""
    if not box:
        yield box
        return
    per_index = int(np.prod([s.stop - s.start for s in box[1:]], dtype=np.int64))
    step = max(1, SLAB_PIXELS // max(per_index, 1))
    first = box[0]
    for start in range(first.start, first.stop, step):
        yield (slice(start, min(start + step, first.stop)), *box[1:])
