"""A Segment run over a time series stopped with "Stop, keep done": the time points whose
final labels are written stay, the others are put back as they were before the run.

An hour-long run over a time-lapse that is cancelled lost every time point it had done.
Its destination (``LiveLabelsDestination``) notes, from the engine's progress, which time
points got their final labels (:class:`DoneTimePoints`); when the run stops with
``keep_done`` set, :func:`keep_done_time_points` puts back only the others (worker thread,
as ``restore`` would) and tidies the ones kept as ``LiveLabelsDestination.finish`` tidies a
finished run's, where that applies to part of a series.

Ids: the time points kept carry the engine's ids (linked in time order, as a finished run's)
and the ones put back the ids they had. Two things could make objects of different time
points share an id by accident, and are renumbered: the time point on screen, labelled
first under ids 1..N of its own and not linked yet (its objects go above every id of the
labels), and an engine id that an object of a time point put back holds (a fresh id, the
same for the whole track).
"""

from __future__ import annotations

import numpy as np

from unet_studio.app.run_regions import narrowed_in_time, time_runs
from unet_studio.app.time_ids import continue_neighbour_ids
from unet_studio.models.slab_label import SLAB_PIXELS, slabs


class DoneTimePoints:
    """The time points (indices along the run's T axis, from the start of its region) whose
    final labels a run has written, from its engine's progress (``note``, worker thread).

    ``by_labelling``: instance labels, whose time points end with a "postprocess" step (the
    preview's first one unlinked: ``ImageProgress.linked``); a class map's time points have
    no such step: one is done when the tiles of the next have begun."""

    def __init__(self, by_labelling: bool):
        self.by_labelling = by_labelling
        self.linked: set[int] = set()  # final labels written, linked to the time points before
        self.unlinked: set[int] = set()  # the preview's, under ids of its own
        self._tiling: int | None = None  # the class map's time point whose tiles run

    @property
    def done(self) -> set[int]:
        return self.linked | self.unlinked

    def note(self, progress):
        """Record what ``progress`` (an ImageProgress) tells of the time points; returns it."""
        region = getattr(progress, "region", None)
        if not region:
            return progress
        t = region[0].start  # (the group axis, T, comes first in a streamed series' region)
        if self.by_labelling and progress.stage == "postprocess":
            (self.linked if progress.linked else self.unlinked).add(t)
        elif not self.by_labelling and progress.stage == "predict":
            if self._tiling is not None and self._tiling != t:
                self.linked.add(self._tiling)
            self._tiling = t
        return progress


def keep_done_time_points(live, done: DoneTimePoints) -> int:
    """Put back the time points of ``live`` (a LiveLabelsDestination over a series) that
    ``done`` does not hold, and tidy the others' ids; returns how many were kept, and
    notes which in ``live.kept_points`` (indices from the start of its region, sorted: the
    GUI thread logs the region they cover as predicted, ``SegmentOutcome._on_aborted``).
    Reviewed pixels are never touched. Worker thread."""
    axis = live.time_axis
    frames = live.shape[axis]
    kept = sorted(t for t in done.done if 0 <= t < frames)
    live.kept_points = kept
    view, reviewed = live.labels[live.target], live.reviewed_mask()
    for t in range(frames):
        if t not in kept:
            at = _at(view.ndim, axis, t)
            before = 0 if live.backup is None else live.backup[at]
            np.copyto(view[at], before, where=True if reviewed is None else ~reviewed[at])
    if live.instances and kept:
        _apart_from_others(live, view, reviewed, done, kept)
        for t in sorted(done.unlinked - done.linked):  # (kept before its linked write)
            _continue_tracks(live, reviewed, t)
        for first, stop in time_runs(kept):
            live.tidy_kept(narrowed_in_time(live.target, axis, live.labels.shape[axis], first, stop),
                      (slice(None),) * axis + (slice(first, stop),))
    return len(kept)


def _apart_from_others(live, view, reviewed, done: DoneTimePoints, kept: list[int]) -> None:
    """New ids for the objects of the time points kept that would share an id by accident
    with those of another time point: the unlinked preview's all (above every id of the
    labels), the others' where a time point put back holds that id (fresh ids)."""
    axis = live.time_axis
    top = max(_largest(live.labels), live.largest_written)
    for t in sorted(done.unlinked - done.linked):
        at = _at(view.ndim, axis, t)
        block = view[at]
        new = ~(block == 0) if reviewed is None else (block != 0) & ~reviewed[at]
        block[new] += block.dtype.type(top)
        top = max(top, int(block.max()))
    others = set()
    for t in range(view.shape[axis]):
        if t not in kept:
            others.update(_ids(view[_at(view.ndim, axis, t)]))
    linked = [t for t in kept if t in done.linked]
    engine: set[int] = set()
    for t in linked:
        at = _at(view.ndim, axis, t)
        engine.update(_ids(view[at], None if reviewed is None else ~reviewed[at]))
    clashing = sorted(engine & others)
    if clashing:
        renames = {old: top + 1 + i for i, old in enumerate(clashing)}
        for t in linked:
            at = _at(view.ndim, axis, t)
            _rename(view[at], renames, None if reviewed is None else reviewed[at])
    live.largest_written = max(live.largest_written, top + len(clashing))


def _continue_tracks(live, reviewed, t: int) -> None:
    """The time point on screen, kept before its turn to be linked: its objects take the
    ids of the tracks they continue in the time points kept around it, as when one time
    point is segmented again (``continue_neighbour_ids``). Under ids of their own, a full
    run after the stop kept them as shown, and its tracks broke there (381 tracks for 267)."""
    axis = live.time_axis
    region = narrowed_in_time(live.target, axis, live.labels.shape[axis], t, t + 1)
    kept = None if reviewed is None else reviewed[(slice(None),) * axis + (slice(t, t + 1),)]
    continue_neighbour_ids(live.labels, region, kept, axis, over_time=True)


def _at(ndim: int, axis: int, t: int) -> tuple:
    """The index of time point ``t`` along ``axis`` of an array of ``ndim`` axes."""
    return (slice(None),) * axis + (t,) + (slice(None),) * (ndim - axis - 1)


def _largest(labels: np.ndarray) -> int:
    """The largest id of ``labels``, a slab of planes at a time (they may live in a file)."""
    if labels.size == 0:
        return 0
    return max(max(int(np.asarray(labels[core]).max()), 0) for core, _ in slabs(labels.shape, SLAB_PIXELS))


def _ids(block: np.ndarray, where: np.ndarray | None = None) -> set[int]:
    """The nonzero ids of ``block`` (at ``where`` only, when given), a slab at a time."""
    found: set[int] = set()
    for core, _ in slabs(block.shape, SLAB_PIXELS):
        values = np.asarray(block[core])
        if where is not None:
            values = values[where[core]]
        found.update(np.unique(values).tolist())
    found.discard(0)
    return found


def _rename(block: np.ndarray, renames: dict[int, int], reviewed: np.ndarray | None) -> None:
    """Ids of ``block`` renamed by ``renames`` (in place), except at ``reviewed`` pixels."""
    old = np.asarray(sorted(renames), block.dtype)
    new = np.asarray([renames[i] for i in old.tolist()], block.dtype)
    for core, _ in slabs(block.shape, SLAB_PIXELS):
        part = block[core]
        hit = np.isin(part, old)
        if reviewed is not None:
            hit &= ~reviewed[core]
        part[hit] = new[np.searchsorted(old, part[hit])]
