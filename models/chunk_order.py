"""A tile order that decodes each chunk of a chunked input about once.

Why: a 2D network run slice by slice over a stack stored in chunks several planes deep
(OME-Zarr written by this app: 16 planes) needs all planes of a chunk decoded to give one of
them. In the plan's order (plane after plane) a plane's tiles meet every chunk of its slab
of planes; when those chunks (16 x 4096 x 4096 uint16: 512 MiB) outgrow the reader's cache
of decoded chunks, they are gone before the next plane needs them, and every chunk is
decoded once per plane. Here the tiles of a chunk-deep slab run cell by cell instead (a
cell: the tiles whose cores start in one chunk of the plane), each tile over all planes
of the slab in turn, so what must stay decoded is the chunks around a band of cells, not
a whole slab. Cells go row by row within strips of chunk columns as wide as the cache
allows (``ChunkGrid.held``), so this holds whatever the plane size.

The engine knows nothing of files: the reader's chunks arrive as a :class:`ChunkGrid`,
plain data. In exact and valid plans every tile writes only its own core, so the order
never changes the result (see ``tile_order``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SAFETY = 0.75  # of the held chunks a strip may need: a pass also meets its neighbours'


@dataclass(frozen=True)
class ChunkGrid:
    """How an input is stored: chunks of ``shape`` (one extent per axis), the grid shifted by
    ``offset`` (chunk index of position ``i`` on an axis: ``(i + offset) // extent``; a view
    starting inside a chunk has one), and ``held``: how many decoded chunks its reader keeps
    at once (None: no bound known)."""

    shape: tuple[int, ...]
    offset: tuple[int, ...] | None = None
    held: int | None = None

    def __post_init__(self):
        shape = tuple(int(n) for n in self.shape)
        offset = (0,) * len(shape) if self.offset is None else tuple(int(n) for n in self.offset)
        if len(offset) != len(shape) or any(n < 1 for n in shape):
            raise ValueError(f"a chunk grid needs an extent >= 1 and an offset per axis, got "
                             f"shape {self.shape}, offset {self.offset}")  # fmt: skip
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "offset", offset)

    def index(self, axis: int, position: int) -> int:
        return (int(position) + self.offset[axis]) // self.shape[axis]

    def take(self, axes: Sequence[int]) -> ChunkGrid:
        """The grid over ``axes`` only (e.g. a plan's outer and spatial axes of an image)."""
        return ChunkGrid(tuple(self.shape[a] for a in axes), tuple(self.offset[a] for a in axes),
                         self.held)


def chunk_keys(tiles: Sequence, grid: ChunkGrid, window_shape: Sequence[int],
               image_shape: Sequence[int]) -> list[tuple] | None:
    """Sort keys (smaller runs earlier) of ``tiles`` (``outer``, ``window_start``, ``core``)
    over a plan whose tile axes (outer then spatial) ``grid`` describes: slab of planes,
    strip of chunk columns, cell, tile, plane. None when no outer axis is chunked deeper than one
    index: then a plane's tiles meet one plane of each chunk, and the plan's order (plane by
    plane, row by row) already reuses each decoded chunk row before moving on."""
    n_outer = len(tiles[0].outer) if tiles else 0
    if len(grid.shape) != n_outer + len(image_shape):
        raise ValueError(f"the chunk grid must give one extent per tile axis "
                         f"({n_outer + len(image_shape)}), got {len(grid.shape)}")  # fmt: skip
    if not any(grid.shape[a] > 1 for a in range(n_outer)):
        return None
    width = strip_width(tiles, grid, window_shape, image_shape)
    keys = []
    for tile in tiles:
        slab = tuple(grid.index(a, i) for a, i in enumerate(tile.outer))
        cell = [grid.index(n_outer + a, c.start) for a, c in enumerate(tile.core)]
        # Within a cell, one tile's window over all planes of the slab, then the next: the
        # chunks under one window are all a read comes back to (a cache of a few chunks).
        keys.append((slab, cell[-1] // width, *cell, tuple(c.start for c in tile.core),
                     tile.outer))
    return keys


def strip_width(tiles: Sequence, grid: ChunkGrid, window_shape: Sequence[int],
                image_shape: Sequence[int]) -> int:
    """How many chunk columns (last axis) a strip spans: all of them when the chunks met by
    one row of cells fit in ``SAFETY`` of the held chunks, else the widest strip that fits
    (at least 1). Chunks left of and right of a strip are decoded again by its neighbour:
    narrow strips cost a little, rows too long for the cache cost a decode per plane."""
    n_outer = len(tiles[0].outer)
    plane = [t for t in tiles if t.outer == tiles[0].outer]
    boxes = [_chunk_box(t, grid, n_outer, window_shape, image_shape) for t in plane]
    cells = [tuple(grid.index(n_outer + a, c.start) for a, c in enumerate(t.core)) for t in plane]
    columns = max(c[-1] for c in cells) + 1
    if grid.held is None:
        return columns
    for width in range(columns, 0, -1):
        if _most_met(boxes, cells, width) <= SAFETY * grid.held:
            return width
    return 1


def _most_met(boxes, cells, width: int) -> int:
    """The most chunks (their bounding box) met by one row of cells of a strip ``width``
    columns wide."""
    hulls: dict[tuple, list] = {}
    for (lo, hi), cell in zip(boxes, cells):
        key = (cell[-1] // width, *cell[:-1])
        hull = hulls.setdefault(key, [list(lo), list(hi)])
        hull[0] = [min(a, b) for a, b in zip(hull[0], lo)]
        hull[1] = [max(a, b) for a, b in zip(hull[1], hi)]
    return max(int(np.prod([b - a + 1 for a, b in zip(*hull)])) for hull in hulls.values())


def _chunk_box(tile, grid: ChunkGrid, n_outer: int, window_shape, image_shape):
    """(first, last) chunk index per spatial axis of the pixels ``tile``'s window reads
    (mirrored where it passes the image's border, as ``tiling.read_window`` reads)."""
    lo, hi = [], []
    for a, (start, size, n) in enumerate(zip(tile.window_start, window_shape, image_shape)):
        positions = np.arange(start, start + size)
        if n > 1:
            period = 2 * (n - 1)
            folded = np.mod(positions, period)
            positions = np.where(folded >= n, period - folded, folded)
        else:
            positions = np.zeros(1, int)
        lo.append(grid.index(n_outer + a, positions.min()))
        hi.append(grid.index(n_outer + a, positions.max()))
    return lo, hi
