"""Streaming a prediction straight into the labels on screen, around what was reviewed.

The engine writes its labels, one time point (or volume) at a time, into a destination it is
given (``iter_predict_image(..., out=...)``). :class:`LiveLabelsDestination` is that
destination for the Segment panel: it writes into the viewer's own label array, in the
region being segmented, but never into reviewed pixels, so the user watches the new labels
arrive in the layer they correct while their checked work stays put. A backup of the
region restores the labels if the run is cancelled or fails. Until the run ends, the
autosave saves what that restore would leave (:meth:`LiveLabelsDestination.saved_values`),
not the provisional tiles: a kill mid-run leaves none of them in the project. Both put
back the same way (``live_put_back``).

Writes happen on the worker thread; the GUI thread only redraws (a torn frame at worst).
So does everything read before the first write (:meth:`iter_prepare`: the backup and the
largest id outside the region, a slab at a time, see ``live_prepare``): on a big stack
that is gigabytes, and at Run on the GUI thread it froze the window for half a minute.
"""

from __future__ import annotations

import itertools
import threading

import numpy as np

from unet_studio.app.kept_ids import adopt_touching_ids
from unet_studio.app.project_arrays import save_as_is, save_through
from unet_studio.app.qt.live_counts import ObjectsShown, objects_shown
from unet_studio.app.qt.live_extent import WrittenPlanes
from unet_studio.app.qt.live_ids import check_room_above, ids_moved_up
from unet_studio.app.qt.live_keep import DoneTimePoints, keep_done_time_points
from unet_studio.app.qt.live_marks import MarksSeen
from unet_studio.app.qt.live_prepare import (
    SLAB_PIXELS,
    count_slabs,
    iter_copy_unless_empty,
    iter_largest_outside,
    outside_boxes,
)
from unet_studio.app.qt.live_put_back import LivePutBack
from unet_studio.app.shown_ids import keep_shown_ids
from unet_studio.app.time_ids import adopt_kept_ids, continue_neighbour_ids
from unet_studio.models.generators import drain
from unet_studio.models.scratch import scratch_zeros
from unet_studio.models.sparse_extent import known_empty


class LiveLabelsDestination(LivePutBack):
    """``out`` for the engine: ``shape`` is the region's; ``dest[key] = labels`` writes.

    ``labels``: the live array (labels axes); ``target``: a slice per axis, the region the
    engine's output covers; ``regions``: the image's ReviewedRegions (read at every write,
    so marks the user adds during the run are respected too) or None; ``id_offset`` is
    added to every new object id (so a single plane does not reuse other planes' ids);
    None: the largest id outside ``target``, found by :meth:`iter_prepare`.
    ``made_layer``: the labels were made for this run (the image had none shown), so a run
    that does not finish and leaves them empty closes them again (``segment_interrupted``).
    ``instances``: False for a semantic model's class map, whose values are classes: no id
    offset, renumbering or ids carried on (they turned class 1 into a class 3 of none).
    ``reserve_backup``: make the backup's (zeroed, untouched) array now, its disk space
    reserved (milliseconds): a full disk stops the run before it starts, not in the worker;
    not when the region lies in holes of its file (nothing to back up: ``sparse_extent``).
    ``name``: the image's, for a message that the new ids do not fit (``live_ids``).
    """

    def __init__(self, labels: np.ndarray, target: tuple[slice, ...], regions=None,
                 id_offset: int | None = 0, time_axis: int | None = None,
                 made_layer: bool = False, instances: bool = True,
                 reserve_backup: bool = False, name: str | None = None):  # fmt: skip
        self.labels = labels
        self.name = name
        self.instances = instances  # objects (ids to keep apart), else a semantic class map
        self.made_layer = made_layer
        self.time_axis = time_axis  # the labels' T axis (a time series), else None
        self.target = tuple(target)
        self.regions = regions
        self.id_offset = id_offset  # (None until iter_prepare found it)
        self.shape = labels[self.target].shape
        self.dtype = labels.dtype
        # The region as it was just before the first write, to restore on cancel; None when
        # it was empty (fresh labels of a first run: no copy of a stack that may not fit in
        # memory twice) or not read yet (``iter_prepare``).
        self.backup = None
        self._backup_space = scratch_zeros(self.shape, self.dtype) \
            if reserve_backup and not known_empty(labels[self.target]) else None
        self.prepared = False
        self.written = False
        # The planes (along the region's first axis) written: a cancel puts back those only.
        self.written_planes = WrittenPlanes(self.shape)
        self.largest_written = 0  # the largest id written so far (read by the GUI thread)
        self.restored = False  # (put back: by the worker as it stopped, or the GUI thread)
        # "Stop, keep done" (a series): set by the GUI thread before it stops the worker,
        # which then keeps the time points done (``live_keep``) instead of restoring all.
        self.keep_done = False
        self.done_points = DoneTimePoints(by_labelling=instances)  # (told by ``note``)
        self.kept_time_points: int | None = None  # how many it kept, once it stopped so
        # Held by the worker over each write into ``labels``, its tidying and putting back:
        # the GUI thread takes it to paint again a stroke the run wrote over before its
        # reviewed marks were in (``live_edits``).
        self.lock = threading.RLock()
        # Held by the autosave over a read of :meth:`saved_values` and by :meth:`release`
        # (not ``lock``: the worker holds that over a whole stack's tidying, seconds during
        # which the GUI thread's save of a stroke would wait).
        self._saving = threading.Lock()
        self._saves_put_back = False  # (saves read :meth:`saved_values`: save_through)
        self._marks_seen: MarksSeen | None = None  # (while they do: see marks_changed)

    def iter_prepare(self, pixels: int = SLAB_PIXELS):
        """Read what the run needs of the labels before it writes (worker thread, just
        before the first tile): the largest id outside the region when ``id_offset`` is
        None, and the backup of the region. A slab at a time, yielding a "backup"
        ImageProgress after each, so that Cancel stops it (nothing written: nothing to put
        back). Edits the user made since Run are in the backup, so a cancel keeps them."""
        from unet_studio.models.generators import relay
        from unet_studio.models.pipeline import ImageProgress

        if self.prepared:
            return
        region = self.labels[self.target]
        outside = [self.labels[box] for box in outside_boxes(self.target, self.labels.shape)]
        if not outside and self.id_offset is None:
            self.id_offset = 0  # (the whole labels segmented: no other ids to stay above)
        total = count_slabs([region] + (outside if self.id_offset is None else []), pixels)
        steps = itertools.count(1)

        def report(_) -> ImageProgress:
            return ImageProgress("backup", next(steps), total, None)

        if self.id_offset is None:
            reading = iter_largest_outside(self.labels, self.target, pixels)
            self.id_offset = yield from relay(reading, report)
        if self.instances:  # (labels full to their dtype's top: refused before any write)
            check_room_above(int(self.id_offset), self.dtype, self.name)
        space, self._backup_space = self._backup_space, None  # (not held twice)
        self.backup = yield from relay(iter_copy_unless_empty(region, pixels, space), report)
        self.prepared = True
        # From here until the run ends, the labels are saved as a cancel would leave them,
        # which the marks decide (seen before the first write: those made before are in).
        if self.regions is not None:
            self._marks_seen = MarksSeen(self.regions, self.target)
        self._saves_put_back = True
        save_through(self.labels, self.saved_values)

    def release(self) -> None:
        """The run is over (shown, put back or dropped): its backup goes now, not when the
        worker's generator is collected (a stack's copy: at most one alive at a time)."""
        self._save_as_is()
        with self._saving:  # (not while a save reads it)
            self.backup = self._backup_space = None

    def marks_changed(self) -> tuple[slice, ...] | None:
        """The box (a slice per labels axis) of the region whose reviewed marks changed
        since last asked (or the run's first write), while saves read :meth:`saved_values`:
        what is saved there changed with them (the run's tiles now, or the backup again),
        so it must be saved again. None when no mark changed, or the saves read the labels
        as they are. GUI thread, after the marks changed (``live_edits.RunEdits``)."""
        seen = self._marks_seen
        return None if seen is None or not self._saves_put_back else seen.changed_box()

    def _save_as_is(self) -> None:
        """The run is over (finished, put back or dropped): saves read the labels again."""
        with self._saving:
            self._saves_put_back = False
            self._marks_seen = None
        save_as_is(self.labels, self.saved_values)

    def _kept(self) -> np.ndarray | None:
        """Reviewed pixels of the region, or None when nothing is reviewed."""
        if self.regions is None or not self.regions.any():
            return None
        return self.regions.mask[self.target]

    reviewed_mask = _kept  # (for ``live_keep``)

    def note(self, progress):
        """The engine's ``progress`` (worker thread), passed on: which time points of a
        series have their final labels (``live_keep.DoneTimePoints``)."""
        if self.time_axis is not None:
            self.done_points.note(progress)
        return progress

    def __setitem__(self, key, value) -> None:
        if not self.prepared:  # (a caller that did not prepare: read it all now, before)
            drain(self.iter_prepare())
        block = self.labels[self.target][key]  # basic indexing: a view into the live array
        self.written_planes.note(key)  # (before the write: see saved_values)
        new = ids_moved_up(np.asarray(value), int(self.id_offset or 0), self.dtype, self.name)
        if new.size:  # (the ids a tool may hand out meanwhile lie above: FreshIds)
            self.largest_written = max(self.largest_written, int(new.max()))
        with self.lock:  # (the marks read and the write as one: see ``live_edits``)
            kept = self._kept()
            if kept is None:
                block[...] = new
            else:
                np.copyto(block, new, where=~kept[key])
            self.written = True

    def finish(self) -> None:
        """After the last write: objects outside the reviewed regions whose ids clash with
        kept objects get fresh ids (``ReviewedRegions.renumber_clashes``, in place). Runs on the worker thread,
        so the GUI thread only has to redraw."""
        if self.written and self.instances:  # (a class map's values: classes, not objects)
            self.written_planes.note_everything()  # (its tidying may rename ids anywhere)
            with self.lock:  # (renumbering around the reviewed pixels: none added meanwhile)
                self._finish()
        self._save_as_is()  # (the result: saved as the labels hold it, see segment_outcome)

    def _finish(self) -> None:
        if self.regions is not None and self.regions.any():
            # (in the region written only: objects elsewhere were not predicted again)
            self.regions.renumber_clashes(self.labels, region=self.target)
        plane = self._plane_axis()
        if plane is not None:
            # One plane of a stack, or one time point of a series, segmented again: its
            # objects go on under the ids of the planes (time points) around it.
            continue_neighbour_ids(self.labels, self.target, self._kept(), plane,
                                   before=self.backup, over_time=plane == self.time_axis)
        elif self.time_axis is not None:
            self._tidy_series(self.target, (slice(None),) * self.labels.ndim)
            return
        elif self._kept() is not None:
            # A stack (or image) around reviewed regions: an object their edge cuts goes
            # on under its kept id, not as a second object.
            adopt_touching_ids(self.labels[self.target], self._kept())
        if plane is None:
            self._keep_shown_ids(self.target, (slice(None),) * self.labels.ndim)

    def _tidy_series(self, region: tuple[slice, ...], within: tuple[slice, ...]) -> None:
        """Time points ``region`` of a series (``within``: the same part of the target's
        region) segmented around reviewed time points: the engine linked its own time
        points; here its tracks go on under the reviewed objects' ids."""
        kept = self._kept()
        if kept is not None:
            adopt_kept_ids(self.labels, region, kept[within], self.time_axis)
        self._keep_shown_ids(region, within)

    def _keep_shown_ids(self, region: tuple[slice, ...], within: tuple[slice, ...]) -> None:
        """The whole image segmented again (``region`` of it now): each object the same as
        one shown before takes its id (colours, tables and the user's track cuts and joins
        hold)."""
        if self.backup is None or not covers_everything(self.target, self.labels.shape):
            return
        kept = self._kept()
        keep_shown_ids(self.labels, self.backup[within], region,
                       None if kept is None else kept[within], self.time_axis)

    def tidy_kept(self, region: tuple[slice, ...], within: tuple[slice, ...]) -> None:
        """:meth:`finish` for the time points ``region`` of a series a stopped run kept
        (``within``: the same part of the target's region; ``live_keep``)."""
        if self.regions is not None and self.regions.any():
            self.regions.renumber_clashes(self.labels, region=region)
        self._tidy_series(region, within)

    def keep_finished(self) -> None:
        """The run over a series stopped with :attr:`keep_done`: keep the time points whose
        final labels are written, put back the others (worker thread, as :meth:`restore`)."""
        with self.lock:
            if not self.restored:
                self.restored = True
                self.kept_time_points = keep_done_time_points(self, self.done_points) \
                    if self.written else 0
        self._save_as_is()  # (outside ``lock``: see saved_values)

    def _plane_axis(self) -> int | None:
        """The axis along which the run wrote a single plane of a longer stack: a Z plane
        first (its objects are 3D objects of the planes around), else the time point."""
        single = [axis for axis, (part, size) in enumerate(zip(self.target, self.labels.shape))
                  if size > 1 and len(range(*part.indices(size))) == 1 and axis < self.labels.ndim - 2]
        if not single:
            return None
        spatial = [axis for axis in single if axis != self.time_axis]
        return spatial[0] if spatial else single[0]

    def objects_shown(self) -> ObjectsShown | None:
        """What the labels of the region hold now that the run is finished (call after
        :meth:`finish`), or None when no reviewed pixel lies in the region: then the engine's
        own counts are what the user sees. Worker thread: a pass over the region."""
        kept = self._kept()
        if not self.written or kept is None or not kept.any():
            return None
        return objects_shown(self.labels[self.target], kept, self.time_axis)


def id_offset_outside(labels: np.ndarray, target: tuple[slice, ...]) -> int:
    """Largest id outside ``target`` (0 when ``target`` is everything), a slab at a time."""
    return drain(iter_largest_outside(labels, target))


def covers_everything(target: tuple[slice, ...], shape) -> bool:
    """Does the region ``target`` of an array of ``shape`` hold all of it?"""
    return all(len(range(*part.indices(size))) == size for part, size in zip(target, shape))
