"""OME-Zarr output, written chunk by chunk (lazy inputs are read one chunk at a time)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from unet_studio.app.io.write import canonical_order, write_atomically
from unet_studio.app.io.zarr_io import (
    NGFF_AXIS_ORDER,
    add_pyramid,
    create_ome_zarr,
    default_pyramid_levels,
    zarr_stem,
)


def iter_regions(shape: tuple[int, ...], chunks: tuple[int, ...]) -> Iterator[tuple[slice, ...]]:
    """Chunk-aligned regions covering an array of ``shape``."""
    starts = [range(0, n, c) for n, c in zip(shape, chunks)]
    for corner in itertools.product(*starts):
        yield tuple(slice(s, min(s + c, n)) for s, c, n in zip(corner, chunks, shape))


def write_zarr(path: Path, data, *, axes: str, scale: dict, units: dict, kind: str,
               dtype: np.dtype, convert: Callable, pyramid_levels: int | None) -> Path:
    """OME-Zarr 0.4 of ``data`` (named by ``axes``) in ``TCZYX`` order, with a pyramid."""
    file_axes = canonical_order(axes, NGFF_AXIS_ORDER)
    order = [axes.index(a) for a in file_axes]
    shape = tuple(data.shape[i] for i in order)
    levels = pyramid_levels or default_pyramid_levels(shape[-2:])

    def write_into(temporary: Path) -> None:
        group, array = create_ome_zarr(temporary, shape, dtype, axes=file_axes, scale=scale,
                                       units=units, kind=kind, name=zarr_stem(path))
        for region in iter_regions(shape, array.chunks):
            source_key = tuple(region[file_axes.index(a)] for a in axes)
            array[region] = convert(np.asarray(data[source_key]).transpose(order))
        add_pyramid(group, file_axes, scale, units, levels)

    return write_atomically(path, write_into)
