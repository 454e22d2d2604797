"""Which reviewed marks of a Segment run's region changed while it streams.

While a run streams provisional tiles, the labels are saved as its Cancel would leave them
(``LiveLabelsDestination.saved_values``): the run's tiles at reviewed pixels, the backup at
the others. A mark added (or taken away) during the run changes what is saved there though
no label changed, so nothing saved it again: a kill left the new marks over the pre-run
labels, labels the user never reviewed (and training learns them). :class:`MarksSeen`
finds the box of the marks that changed, for the run's edits to save it again
(``live_edits.RunEdits``), whatever changed them: R, Shift+R, a drawn region, an edit's
marks, an undo or redo of any of them.
"""

from __future__ import annotations

import numpy as np

from unet_studio.app.label_edit import bounding_box


class MarksSeen:
    """The reviewed marks of ``target`` (a slice of step 1 per axis) of ``regions`` (a
    ReviewedRegions) as last seen, bit-packed along the last axis (a stack's region: an
    eighth of a byte a pixel, beside the run's backup of its labels)."""

    def __init__(self, regions, target: tuple[slice, ...]):
        self.regions = regions
        self.starts = [part.indices(size)[0] for part, size in zip(target, regions.shape)]
        self.target = tuple(target)
        self.width = regions.mask[self.target].shape[-1]
        self.version = regions.version
        self.seen = self._packed()

    def changed_box(self) -> tuple[slice, ...] | None:
        """The box (a slice per labels axis) around the marks of the target that changed
        since last seen, None when none did; seen now. GUI thread (where marks change):
        a pass over the target's marks when their version moved (tens of ms for a
        64 x 1024 x 1024 stack), nothing otherwise."""
        if self.regions.version == self.version:
            return None
        self.version = self.regions.version
        now = self._packed()
        changed = now != self.seen
        self.seen = now
        box = bounding_box(changed)
        if box is None:
            return None
        # (packed: a byte is 8 pixels along the last axis; saving a few more is harmless)
        last = slice(box[-1].start * 8, min(box[-1].stop * 8, self.width))
        box = (*box[:-1], last)
        return tuple(slice(start + part.start, start + part.stop)
                     for start, part in zip(self.starts, box))

    def _packed(self) -> np.ndarray:
        return np.packbits(self.regions.mask[self.target], axis=-1)

