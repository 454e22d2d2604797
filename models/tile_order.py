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
"""

from __future__ import annotations

from collections.abc import Sequence


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


def order_tiles(tiles: Sequence, first: Sequence[slice] | None) -> tuple:
    """``tiles`` (with a ``region``) sorted around ``first``; unchanged when it is None."""
    if first is None:
        return tuple(tiles)
    first = tuple(first)
    keyed = sorted(enumerate(tiles), key=lambda item: (tile_priority(item[1].region, first),
                                                       item[0]))
    return tuple(tile for _, tile in keyed)
