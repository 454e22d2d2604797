"""A stack streamed block by block in the order it is stored, one channel's pixels at a time.

Separate from the percentiles (``models.percentiles``) because reading is its own concern:
whole trailing planes for a memory map or a TIFF, whole chunks for a chunked store (so each
chunk is decoded once), and a memory map's pages handed back as it goes, so a stack larger
than RAM is read in bounded memory.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import numpy as np

from unet_studio.models.mapped import PageReleaser
from unet_studio.models.sort_keys import pixel_dtype

BLOCK_PIXELS = 1 << 22  # pixels read at once: ~4 M (the histogram's int64 copy: 32 MiB)
RELEASE_BYTES = 64 * 2**20  # memory-mapped input: its pages are handed back this often


def block_index(shape: tuple[int, ...], block_pixels: int) -> Iterator[tuple[slice, ...]]:
    """Slices (one per axis) that cover ``shape`` in C order, each at most ``block_pixels``
    pixels (or one run of the last axis): whole trailing planes where they fit, so that a
    memory map or a TIFF is read in the order it is stored."""
    split = next(a for a in range(len(shape) + 1) if math.prod(shape[a + 1:]) <= block_pixels)
    if split == len(shape):  # (a 0-d image)
        yield ()
        return
    run = max(1, block_pixels // max(math.prod(shape[split + 1:]), 1))
    rest = (slice(None),) * (len(shape) - split - 1)
    for lead in itertools.product(*(range(n) for n in shape[:split])):
        for start in range(0, shape[split], run):
            yield (*(slice(i, i + 1) for i in lead), slice(start, min(start + run, shape[split])),
                   *rest)


def chunk_blocks(shape: tuple[int, ...], block_pixels: int, grid) -> Iterator[tuple[slice, ...]] | None:
    """Slices that cover ``shape`` in blocks of whole chunks of ``grid`` (a
    ``chunk_order.ChunkGrid``; clipped at the edges), about ``block_pixels`` each: chunks
    grown along the last axis first, then the next while the last is whole. Read so, a
    chunked store decodes each chunk once, where blocks of whole planes would decode a
    16-plane chunk once per plane. None when the grid does not fit ``shape`` or one chunk
    is far larger than a block (then plain blocks bound the memory)."""
    extents = list(grid.shape)
    if len(extents) != len(shape) or math.prod(extents) > 4 * block_pixels:
        return None
    block = list(extents)
    for axis in reversed(range(len(shape))):
        others = math.prod(block[:axis] + block[axis + 1:])
        whole = -(-shape[axis] // extents[axis]) * extents[axis] + extents[axis]
        block[axis] = max(extents[axis], min(block_pixels // others // extents[axis] * extents[axis], whole))
        if block[axis] < whole:
            break  # (this axis is cut in pieces: the ones before it stay one chunk deep)
    edges = []
    for n, size, offset in zip(shape, block, grid.offset):
        first = (-offset) % size or size  # (a view may start inside a chunk)
        edges.append([0, *range(first, n, size), n])
    return (tuple(slice(e[i], e[i + 1]) for e, i in zip(edges, index))
            for index in itertools.product(*(range(len(e) - 1) for e in edges)))


def iter_channel_pixels(image, channel_axis: int | None, block_pixels: int = BLOCK_PIXELS,
                        ) -> Iterator[tuple[int, np.ndarray]]:
    """``(channel, pixels)`` for every block of ``image`` (any array-like with ``shape`` and
    ``dtype``): a 1-D native-order array of one channel's pixels of one block. A shared
    memory map's pages are handed back as it goes (``models.mapped``), so a stack larger
    than RAM leaves no more than about ``RELEASE_BYTES`` of itself resident."""
    shape = tuple(int(n) for n in image.shape)
    dtype = pixel_dtype(image.dtype)
    pages = PageReleaser(image, every_bytes=RELEASE_BYTES)
    grid = getattr(image, "chunk_grid", None)  # (a chunked store's reader tells its chunks)
    grid = grid() if callable(grid) else None
    blocks = None if grid is None else chunk_blocks(shape, block_pixels, grid)
    try:
        for index in blocks or block_index(shape, block_pixels):
            block = np.asarray(image[index], dtype=dtype)
            pages.tick(block.nbytes)
            if channel_axis is None:
                yield 0, block.reshape(-1)
                continue
            first = index[channel_axis].start or 0
            for offset, plane in enumerate(np.moveaxis(block, channel_axis, 0)):
                yield first + offset, plane.reshape(-1)
    finally:  # (a pass cancelled between blocks hands its pages back too)
        pages.release()
