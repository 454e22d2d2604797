"""Streaming a prediction straight into the labels on screen, around what was reviewed.

The engine writes its labels, one time point (or volume) at a time, into a destination it is
given (``iter_predict_image(..., out=...)``). :class:`LiveLabelsDestination` is that
destination for the Segment panel: it writes into the viewer's own label array, in the
region being segmented, but never into reviewed pixels, so the user watches the new labels
arrive in the layer they correct while their checked work stays put. A backup of the
region restores the labels if the run is cancelled or fails.

Writes happen on the worker thread; the GUI thread only redraws (a torn frame at worst).
"""

from __future__ import annotations

import numpy as np

from unet_studio.app.time_ids import adopt_kept_ids, continue_neighbour_ids
from unet_studio.models.scratch import scratch_zeros


class LiveLabelsDestination:
    """``out`` for the engine: ``shape`` is the region's; ``dest[key] = labels`` writes.

    ``labels``: the live array (labels axes); ``target``: a slice per axis, the region the
    engine's output covers; ``regions``: the image's ReviewedRegions (read at every write,
    so marks the user adds during the run are respected too) or None; ``id_offset`` is
    added to every new object id (so a single plane does not reuse other planes' ids).
    """

    def __init__(self, labels: np.ndarray, target: tuple[slice, ...], regions=None,
                 id_offset: int = 0, time_axis: int | None = None):  # fmt: skip
        self.labels = labels
        self.time_axis = time_axis  # the labels' T axis (a time series), else None
        self.target = tuple(target)
        self.regions = regions
        self.id_offset = int(id_offset)
        self.shape = labels[self.target].shape
        self.dtype = labels.dtype
        region = labels[self.target]
        # The region as it was, to restore on cancel; None when it was empty (fresh labels of
        # a first run: no copy of a stack that may not fit in memory twice).
        self.backup = None
        if region.any():
            self.backup = scratch_zeros(region.shape, region.dtype)
            np.copyto(self.backup, region)
        self.written = False

    def _kept(self) -> np.ndarray | None:
        """Reviewed pixels of the region, or None when nothing is reviewed."""
        if self.regions is None or not self.regions.any():
            return None
        return self.regions.mask[self.target]

    def __setitem__(self, key, value) -> None:
        block = self.labels[self.target][key]  # basic indexing: a view into the live array
        new = np.asarray(value)
        if self.id_offset:
            new = np.where(new > 0, new + self.id_offset, 0)
        new = new.astype(self.dtype, copy=False)
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
        if self.written and self.regions is not None and self.regions.any():
            self.regions.renumber_clashes(self.labels)
        if not self.written:
            return
        plane = self._plane_axis()
        if plane is not None:
            # One plane of a stack, or one time point of a series, segmented again: its
            # objects go on under the ids of the planes (time points) around it.
            continue_neighbour_ids(self.labels, self.target, self._kept(), plane,
                                   before=self.backup)
        elif self.time_axis is not None and self._kept() is not None:
            # A whole series around reviewed time points: the engine linked its own time
            # points; here its tracks go on under the reviewed objects' ids.
            adopt_kept_ids(self.labels, self.target, self._kept(), self.time_axis)

    def _plane_axis(self) -> int | None:
        """The axis along which the run wrote a single plane of a longer stack: a Z plane
        first (its objects are 3D objects of the planes around), else the time point."""
        single = [axis for axis, (part, size) in enumerate(zip(self.target, self.labels.shape))
                  if size > 1 and len(range(*part.indices(size))) == 1 and axis < self.labels.ndim - 2]
        if not single:
            return None
        spatial = [axis for axis in single if axis != self.time_axis]
        return spatial[0] if spatial else single[0]

    def restore(self) -> None:
        """Put the region back as it was before the run (reviewed pixels were never touched)."""
        view = self.labels[self.target]
        kept = self._kept()
        backup = 0 if self.backup is None else self.backup
        if kept is None:
            view[...] = backup
        else:
            np.copyto(view, backup, where=~kept)


def id_offset_outside(labels: np.ndarray, target: tuple[slice, ...]) -> int:
    """Largest id outside ``target`` (0 when ``target`` is everything)."""
    if all(s == slice(None) for s in target):
        return 0
    outside = np.ones(labels.shape, dtype=bool)
    outside[target] = False
    return int(labels[outside].max()) if outside.any() else 0
