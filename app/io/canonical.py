"""One axis order for every opened stack: ``T Z C Y X`` (RGB(A) colours last), lazily.

Files store their dimensions in any order (an OME-TIFF may hold ZTYX or CZTYX, an OME-Zarr
holds TCZYX), but what we write puts them in ImageJ's ``TZCYX`` order, and the engine gives
its results with T before Z. Were a stack presented in its storage order, labels written for
it would not lie over it when both are opened (napari lines layers up axis by axis), and
``finetune IMAGE LABELS`` would refuse the pair for a shape mismatch. So ``open_stack``
presents every stack in the canonical order, as a transposed *view*: a memory map stays a
memory map, a lazy array stays lazy (an index is permuted, read from the file in its own
order, and the block transposed), so nothing larger than RAM is ever copied.

The colours of an RGB(A) file (tifffile's ``S``) stay the last axis (``"ZYXC"``): that is
where napari and the Segment panel expect an RGB image's colours.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from unet_studio.app.io.axes import AXIS_LETTERS
from unet_studio.app.io.lazy import LazyArray
from unet_studio.app.io.stack import Stack


def canonical_axes(axes: str, *, colours_last: bool = False) -> str:
    """``axes`` in ``TZCYX`` order; with ``colours_last`` the C axis (RGB samples) after X."""
    order = AXIS_LETTERS.replace("C", "") + "C" if colours_last else AXIS_LETTERS
    return "".join(a for a in order if a in axes)


def has_colours_last(stack: Stack) -> bool:
    """Whether the C axis of ``stack`` holds the RGB(A) samples of its pixels."""
    return bool(stack.metadata.get("rgb")) and "C" in stack.axes


def transposed(data, order: tuple[int, ...], path):
    """``data`` with its axes in ``order`` (as ``np.transpose``), reading nothing; ``path``:
    the file named when a read fails."""
    if isinstance(data, np.ndarray):  # (a memory map's transpose is a memory map, no copy)
        return data.transpose(order)
    return LazyArray(_Transposed(data, order), getattr(data, "path", path), dtype=data.dtype)


def canonical_stack(stack: Stack) -> Stack:
    """``stack`` seen in the canonical order (itself when it is in that order already);
    ``metadata["stored_axes"]`` keeps the order the pixels have in the file."""
    wanted = canonical_axes(stack.axes, colours_last=has_colours_last(stack))
    if wanted == stack.axes:
        return stack
    order = tuple(stack.axes.index(a) for a in wanted)
    levels = tuple(transposed(level, order, stack.path) for level in stack.levels)
    data = levels[0] if levels else transposed(stack.data, order, stack.path)
    metadata = {**stack.metadata, "stored_axes": stack.axes}
    return dataclasses.replace(stack, data=data, axes=wanted, levels=levels, metadata=metadata,
                               scale={a: stack.scale[a] for a in wanted},
                               units={a: stack.units[a] for a in wanted if a in stack.units})


class _Transposed:
    """Source for LazyArray: another array-like with its axes permuted by ``order``. A key
    (one int or forward slice per axis, as LazyArray asks) is put in the source's order,
    read there, and the block transposed back."""

    def __init__(self, source, order: tuple[int, ...]):
        self._source, self._order = source, tuple(order)
        self.shape = tuple(source.shape[i] for i in self._order)
        self.dtype = np.dtype(source.dtype)

    def chunk_grid(self):
        """The source's chunks over these axes (tiles are then ordered chunk by chunk)."""
        grid = getattr(self._source, "chunk_grid", None)
        grid = grid() if callable(grid) else None
        return None if grid is None else grid.take(self._order)

    def __getitem__(self, key: tuple) -> np.ndarray:
        source_key = [slice(None)] * len(self._order)
        for position, axis in enumerate(self._order):
            source_key[axis] = key[position]
        block = np.asarray(self._source[tuple(source_key)])
        kept = [axis for axis in range(len(self._order)) if not _is_index(source_key[axis])]
        wanted = [axis for axis in self._order if axis in kept]
        return block.transpose([kept.index(axis) for axis in wanted])


def _is_index(key) -> bool:
    return isinstance(key, (int, np.integer))
