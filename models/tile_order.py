"""The order in which a plan's tiles run: what the user is looking at first.

In exact and valid plans every tile writes only its own core, so the order changes when a
region is ready, never what is written: a run ordered around a ``first`` region gives
exactly the result of the unordered run (blend plans sum overlapping tiles, so there the
order can change the last bit of a float). ``first`` is a region (a slice per axis of ``Tile.region``: the outer axes
such as Z slices or frames, then the spatial axes), typically the field of view on the
slice on screen.

Order: tiles meeting ``first`` on every axis (the visible part of the visible slice), then
the rest of that slice, then the other slices, nearest first; within each, tiles nearest
the centre of ``first`` first; ties keep the plan's order.

With a ``ChunkGrid`` (how the input is stored, ``models.chunk_order``) and no ``first``, the
tiles run chunk-deep slab by slab, cell by cell, so each chunk is decoded about once. With
both, the visible slice still runs first, in the order above (it meets every chunk of its
slab once more), then the others slab by slab, the slab of the visible slice and then
the nearest slabs first, each in the chunk order.
"""

from __future__ import annotations

from collections.abc import Sequence

from unet_studio.models.chunk_order import ChunkGrid, chunk_keys


def _bounds(region: slice) -> tuple[float, float]:
    start = 0 if region.start is None else region.start
    stop = float("inf") if region.stop is None else region.stop
    return start, stop


def _gap(core: slice, wanted: slice) -> float:
    """Distance (in pixels or slices) between two intervals; 0 when they meet."""
    start, stop = _bounds(core)
    w_start, w_stop = _bounds(wanted)
    if stop <= w_start:
        return w_start - stop + 1
    if w_stop <= start:
        return start - w_stop + 1
    return 0.0


def _centre(region: slice) -> float:
    start, stop = _bounds(region)
    return start if stop == float("inf") else (start + stop - 1) / 2


def tile_priority(region: Sequence[slice], first: Sequence[slice]) -> tuple:
    """Sort key of a tile whose written region is ``region`` (smaller runs earlier).

    Slice axes are those where ``first`` is a single index (the positions of the sliders):
    a tile on the visible slice outside the field of view still comes before any tile of
    another slice.
    """
    if len(region) != len(first):
        raise ValueError(f"first must give one slice per tile axis ({len(region)}), "
                         f"got {len(first)}")  # fmt: skip
    slice_axes = [a for a, s in enumerate(first) if _bounds(s)[1] - _bounds(s)[0] == 1]
    gaps = [_gap(r, f) for r, f in zip(region, first)]
    outside = any(g > 0 for g in gaps)
    slice_distance = sum(gaps[a] ** 2 for a in slice_axes)
    plane_distance = sum((_centre(r) - _centre(f)) ** 2
                         for a, (r, f) in enumerate(zip(region, first)) if a not in slice_axes)
    return outside, slice_distance, plane_distance


def order_tiles(tiles: Sequence, first: Sequence[slice] | None, chunks: ChunkGrid | None = None,
                *, window_shape: Sequence[int] = (), image_shape: Sequence[int] = ()) -> tuple:
    """``tiles`` (with a ``region``) sorted around ``first`` and/or by the input's ``chunks``
    (a grid over the tile axes; ``window_shape`` and ``image_shape``, spatial, say which
    chunks a tile reads); unchanged when both are None."""
    by_chunks = None if chunks is None or not tiles else chunk_keys(tiles, chunks, window_shape,
                                                                     image_shape)
    if first is None and by_chunks is None:
        return tuple(tiles)
    if first is None:
        keys = by_chunks
    elif by_chunks is None:
        keys = [tile_priority(t.region, tuple(first)) for t in tiles]
    else:
        keys = _visible_slice_then_chunks(tiles, tuple(first), by_chunks)
    order = sorted(range(len(tiles)), key=lambda i: (keys[i], i))
    return tuple(tiles[i] for i in order)


def _visible_slice_then_chunks(tiles, first, by_chunks) -> list[tuple]:
    """Keys: the slice on screen around ``first``, then slab by slab (nearest first) in the
    chunk order (``by_chunks``, whose first item is the slab index per outer axis)."""
    slab_of_first = None
    keys = []
    for tile, chunk_key in zip(tiles, by_chunks):
        priority = tile_priority(tile.region, first)
        if priority[1] == 0:  # on the visible slice
            slab_of_first = chunk_key[0]
            keys.append((0, 0, priority))
        else:
            keys.append((1, chunk_key))
    if slab_of_first is None:  # (first names no tile's slice: nothing runs ahead)
        return [key[1] if key[0] else key[2] for key in keys]
    return [key if key[0] == 0 else
            (1, sum((a - b) ** 2 for a, b in zip(key[1][0], slab_of_first)), key[1])
            for key in keys]
