"""A label stack (and the image under it) read one slab at a time: the blocks that cover a
frame, the index of one block, and a reader that hands a memory map's pages back.

Separate from the measuring (``app.measure``) because ``evaluate`` reads labels in the same
slabs, and because the geometry of slabs is independent of what is summed over them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from unet_studio.app.measure_inputs import spatial_axes
from unet_studio.app.object_sums import ObjectSums
from unet_studio.models.mapped import PageReleaser


def slab_blocks(shape: Sequence[int], slab_pixels: int) -> list[tuple[slice, ...]]:
    """Blocks of ~``slab_pixels`` covering a spatial ``shape`` in storage order: a few planes
    along the first axis, whole along the others; only where one plane alone is larger than
    that (huge 2D planes of a 3D stack) is it cut along the next axis too."""
    split = next(k for k in range(len(shape)) if math.prod(shape[k + 1:]) <= slab_pixels)
    step = max(1, slab_pixels // math.prod(shape[split + 1:]))
    ranges = [[(i, i + 1) for i in range(n)] for n in shape[:split]]
    ranges.append([(i, min(i + step, shape[split])) for i in range(0, shape[split], step)])
    ranges += [[(0, n)] for n in shape[split + 1:]]
    return [tuple(slice(a, b) for a, b in block) for block in itertools.product(*ranges)]


def block_key(axes: str, frame: int | None, spatial: str, block: tuple[slice, ...]) -> tuple:
    """Index of one block (and frame) into an array with ``axes``; other axes (C) whole."""
    where = dict(zip(spatial, block))
    return tuple(frame if a == "T" else where.get(a, slice(None)) for a in axes)


def read_channels(image, image_axes: str, frame, spatial: str, block: tuple[slice, ...]):
    """The image under one block as (C, *spatial) in the labels' axis order (C = 1 without a
    channel axis)."""
    block = np.asarray(image[block_key(image_axes, frame, spatial, block)])
    kept = image_axes.replace("T", "")
    if "C" not in kept:
        block, kept = block[np.newaxis], "C" + kept
    return block.transpose([kept.index(a) for a in "C" + spatial])


class SlabReader:
    """Adds one block of one frame of ``labels`` (and of ``image`` under it, axes
    ``image_axes`` with ``channels`` channels) to a frame's :class:`ObjectSums`.

    A memory-mapped stack keeps every page read resident (the RSS would grow to the stack's
    size): they are handed back every ``release_bytes`` read; the file keeps the data."""

    def __init__(self, labels, image, axes: str, image_axes: str | None, channels: int,
                 release_bytes: int):
        self.labels, self.image, self.axes, self.image_axes = labels, image, axes, image_axes
        self.spatial = spatial_axes(axes)
        self.pages = PageReleaser(labels, image, every_bytes=release_bytes)
        self.pixel_bytes = np.dtype(labels.dtype).itemsize + (
            0 if image is None else np.dtype(image.dtype).itemsize * channels)

    def add(self, sums: ObjectSums, frame: int | None, block: tuple[slice, ...]) -> None:
        key = block_key(self.axes, frame, self.spatial, block)
        planes = None if self.image is None else read_channels(self.image, self.image_axes,
                                                              frame, self.spatial, block)
        sums.add_slab(np.asarray(self.labels[key]), planes, [s.start for s in block])
        self.pages.tick(self.pixel_bytes * math.prod(s.stop - s.start for s in block))

    def release(self) -> None:
        self.pages.release()
