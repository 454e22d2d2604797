"""The distinct object ids of a label stack, summed over blocks read one at a time.

A time series whose ids are linked over time (an object keeps its id from one time point
to the next) holds fewer distinct ids than objects summed over its time points: the ids are
its tracks. ``predict`` and ``evaluate`` say both, for "885 objects in 5 time points" alone
reads as 885 cells. Qt-free; blocks of any size and order (slabs, tiles, whole frames).
"""

from __future__ import annotations

import numpy as np

from unet_studio.app.label_slabs import block_key, slab_blocks
from unet_studio.app.measure_inputs import spatial_axes
from unet_studio.models.slab_label import SLAB_PIXELS


class DistinctIds:
    """The nonzero ids seen in the blocks added so far (int64; ids are checked elsewhere)."""

    def __init__(self):
        self.ids = np.zeros(0, np.int64)

    def add(self, block) -> None:
        flat = np.asarray(block).reshape(-1)
        if not flat.size:
            return
        # Objects are compact: the ids at the starts of runs of equal pixels are all of the
        # block's ids, and far fewer than its pixels (no sort of every pixel).
        starts = np.empty(flat.size, bool)
        starts[0] = True
        np.not_equal(flat[1:], flat[:-1], out=starts[1:])
        values = np.unique(flat[starts])
        self.ids = np.union1d(self.ids, values[values > 0].astype(np.int64))

    @property
    def count(self) -> int:
        return int(self.ids.size)


def count_ids(labels, axes: str, slab_pixels: int = SLAB_PIXELS) -> int:
    """Distinct nonzero ids of ``labels`` (array-like with ``axes`` over "TZYX": numpy, a
    memory map, a lazy stack), read a slab of one time point at a time."""
    sizes = dict(zip(axes, labels.shape))
    spatial = spatial_axes(axes)
    frames = range(sizes["T"]) if "T" in axes else (None,)
    blocks = slab_blocks([sizes[a] for a in spatial], max(int(slab_pixels), 1))
    distinct = DistinctIds()
    for frame in frames:
        for block in blocks:
            distinct.add(labels[block_key(axes, frame, spatial, block)])
    return distinct.count
