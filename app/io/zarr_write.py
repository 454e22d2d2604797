"""OME-Zarr 0.4 writing, every chunk compressed and written once.

Written images follow NGFF 0.4 (Zarr format 2, the most widely read): axes ordered
``T, C, Z, Y, X``, Blosc/zstd chunks, a pyramid of stride-2 (nearest) YX levels for display.

Levels are filled slab by slab (:func:`iter_slabs`): whole chunks, the full chunk depth of
the other axes and a band of chunk rows and columns, at most ``SLAB_BYTES``. Writing part of
a chunk makes Zarr read, decode, merge and compress the chunk again for each part, which is
what made a tiled prediction into a .zarr 2.8x slower than into a .tif, and reading a level
plane by plane decodes each 16-plane chunk 16 times.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from unet_studio.app.io.atomic import run_interruptibly
from unet_studio.app.io.axes import UNIT_PIXEL
from unet_studio.app.io.write import canonical_order, write_atomically
from unet_studio.app.io.zarr_io import NGFF_AXIS_ORDER, zarr_stem

log = logging.getLogger(__name__)

SLAB_BYTES = 64 * 2**20
# How long a failed write waits for Zarr's writes still in flight (a hung network disk must
# not hang the error for ever: then the error is raised with the writes still running).
SETTLE_SECONDS = 30.0
NGFF_VERSION = "0.4"
_AXIS_TYPES = {"T": "time", "C": "channel", "Z": "space", "Y": "space", "X": "space"}
# Kinds written with NGFF ``image-label`` metadata: other readers (ome-zarr-py and through it
# napari-ome-zarr) take a group as labels only by that key, never by our own "kind".
LABEL_KINDS = ("labels", "mask")
# Channel colours of ``omero`` (hex RGB), in the order our napari reader colours channels.
_CHANNEL_COLORS = ("FF00FF", "00FF00", "00FFFF", "FFFF00", "0000FF", "FF0000")


def default_pyramid_levels(shape_yx: tuple[int, int]) -> int:
    """One level, plus halvings of YX until the largest side is at most 1024 pixels."""
    largest = max(shape_yx)
    return 1 if largest <= 1024 else 1 + math.ceil(math.log2(largest / 1024))


def chunk_shape(axes: str, shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    """Chunks of about 1-4 MB: one T/C index, up to 16 Z planes, up to 256 (or 512) in YX."""
    side = 512 if itemsize <= 2 else 256
    limits = {"T": 1, "C": 1, "Z": 16, "Y": side, "X": side}
    return tuple(min(n, limits[a]) for a, n in zip(axes, shape))


def multiscale_metadata(name: str, axes: str, scale: dict, units: dict, n_levels: int) -> dict:
    """NGFF 0.4 ``multiscales[0]`` for arrays ``"0".."n-1"``, each halving Y and X."""
    axes_meta = []
    for axis in axes:
        entry = {"name": axis.lower(), "type": _AXIS_TYPES[axis]}
        if units.get(axis) not in (None, UNIT_PIXEL) and axis != "C":
            entry["unit"] = units[axis]
        axes_meta.append(entry)
    datasets = []
    for level in range(n_levels):
        factors = [float(scale.get(a, 1.0)) * (2**level if a in "YX" else 1) for a in axes]
        datasets.append({"path": str(level),
                         "coordinateTransformations": [{"type": "scale", "scale": factors}]})
    return {"version": "0.4", "name": name, "axes": axes_meta, "datasets": datasets}


def label_metadata(class_names: list[str] | None = None) -> dict:
    """NGFF 0.4 ``image-label`` of a labels or mask group. No ``source``: the spec's is a
    relative path to an OME-Zarr image group, and our labels are mostly made from TIFFs.
    A class map's ``class_names`` become its ``properties`` (``label-value`` and ``name``
    per class) and ``colors`` (ours, ``app.class_map``), which other viewers show."""
    if not class_names:
        return {"version": NGFF_VERSION}
    from unet_studio.app.class_map import class_colour

    return {"version": NGFF_VERSION,
            "colors": [{"label-value": value, "rgba": [round(255 * c) for c in class_colour(value)]}
                       for value in range(len(class_names))],
            "properties": [{"label-value": value, "name": str(name)}
                           for value, name in enumerate(class_names)]}


def omero_metadata(channel_names: list[str], dtype: np.dtype, kind: str) -> dict:
    """NGFF 0.4 ``omero`` naming each channel (``label``), with the ``window`` and
    ``color`` the spec requires: the full range of an integer ``dtype``, or 0-1 for floats
    (probabilities, the only float images written with names)."""
    dtype = np.dtype(dtype)
    low, high = (0.0, 1.0) if dtype.kind == "f" or kind == "probabilities" else (
        float(np.iinfo(dtype).min), float(np.iinfo(dtype).max))
    window = {"min": low, "max": high, "start": low, "end": high}
    channels = [{"label": str(name), "color": _CHANNEL_COLORS[i % len(_CHANNEL_COLORS)],
                 "window": dict(window), "active": True} for i, name in enumerate(channel_names)]
    return {"channels": channels}


def _check_channel_names(channel_names, axes: str, shape: tuple[int, ...]) -> None:
    count = shape[axes.index("C")] if "C" in axes else 1
    if len(channel_names) != count:
        raise ValueError(f"{len(channel_names)} channel names for {count} channel(s): "
                         f"{list(channel_names)}")


def _create_level(group, name: str, shape: tuple[int, ...], dtype: np.dtype, axes: str):
    import numcodecs

    return group.create_array(
        name, shape=shape, dtype=dtype, chunks=chunk_shape(axes, shape, dtype.itemsize), fill_value=0,
        compressors=numcodecs.Blosc(cname="zstd", clevel=5, shuffle=numcodecs.Blosc.BITSHUFFLE),
        chunk_key_encoding={"name": "v2", "separator": "/"})


def settle_zarr_writes(timeout: float = SETTLE_SECONDS) -> None:
    """Wait until no write started by Zarr is still running, and take their errors.

    Why: Zarr writes the files of one call (``.zarray`` and ``.zattrs``, a slab's chunks)
    together on its own event loop and raises the first error at once, while the others go
    on. Removing the output's temporary folder then raced with them: a late ``.zattrs`` made
    the folder again (a hidden ``.X.zarr.p<pid>.<hex>.part`` left behind), and the writes that
    failed too printed "Future exception was never retrieved" tracebacks. Called after an
    error, before the temporary folder is removed; their errors are only logged (the first
    one is the error raised)."""
    from zarr.core import sync as zarr_sync

    loop = zarr_sync.loop[0]
    if loop is None or not loop.is_running():
        return

    async def settle() -> None:
        current = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks() if task is not current]
        # (``return_exceptions``: each task's error is retrieved here, never printed at exit)
        for outcome in await asyncio.gather(*pending, return_exceptions=True):
            if isinstance(outcome, BaseException):
                log.debug("a Zarr write in flight failed too: %r", outcome)

    try:
        asyncio.run_coroutine_threadsafe(settle(), loop).result(timeout)
    except Exception as error:  # (a timeout, a loop closing: the first error is what matters)
        log.debug("Zarr writes not settled: %r", error)


def create_ome_zarr(path: Path, shape: tuple[int, ...], dtype, *, axes: str, scale: dict,
                    units: dict, kind: str, name: str | None = None,
                    channel_names: list[str] | None = None, class_names: list[str] | None = None):
    """A new OME-Zarr group at ``path`` with an empty level 0 array; returns (group, array).

    Labels and masks carry NGFF ``image-label`` (so other readers show them as labels);
    ``channel_names`` (one per index of ``C``) become ``omero.channels[i].label``; a class
    map's ``class_names`` go into our ``unet_studio`` attributes (read back as
    ``Stack.metadata["class_names"]``) and the ``image-label`` (``label_metadata``)."""
    import zarr

    if channel_names is not None:
        _check_channel_names(channel_names, axes, shape)
    group = zarr.open_group(str(path), mode="w", zarr_format=2)
    array = _create_level(group, "0", shape, np.dtype(dtype), axes)
    attributes = {
        "multiscales": [multiscale_metadata(name or zarr_stem(path), axes, scale, units, 1)],
        "unet_studio": {"kind": kind, **({"class_names": list(class_names)} if class_names else {})}}
    if kind in LABEL_KINDS:
        attributes["image-label"] = label_metadata(class_names)
    if channel_names is not None:
        attributes["omero"] = omero_metadata(channel_names, dtype, kind)
    group.attrs.put(attributes)  # (one write of the new group's metadata)
    return group, array


def iter_slabs(shape: tuple[int, ...], chunks: tuple[int, ...], axes: str, itemsize: int,
               max_bytes: int = SLAB_BYTES) -> Iterator[tuple[slice, ...]]:
    """Chunk-aligned regions covering an array of ``shape`` (named by ``axes``): one chunk
    along T, C and Z, and as many whole chunks along X, then Y, as fit in ``max_bytes``."""
    extent = list(chunks)
    budget = max(1, max_bytes // (math.prod(chunks) * itemsize))  # whole chunks in one slab
    for axis in "XY":
        if axis in axes:
            i = axes.index(axis)
            count = min(-(-shape[i] // chunks[i]), budget)
            extent[i] = count * chunks[i]
            budget = max(1, budget // count)
    starts = [range(0, n, e) for n, e in zip(shape, extent)]
    for corner in itertools.product(*starts):
        yield tuple(slice(s, min(s + e, n)) for s, e, n in zip(corner, extent, shape))


def fill_level(target, source, axes: str, factor: int = 1,
               after_slab: Callable[[int], None] | None = None) -> None:
    """``target[...] = source[..., ::factor, ::factor]`` (Y and X strided), slab by slab.

    ``source``: array-like with ``axes`` (a memory map, a Zarr level); ``after_slab(nbytes)``
    is called after each slab (to hand back the memory-mapped pages just read)."""
    for region in iter_slabs(tuple(target.shape), tuple(target.chunks), axes, target.dtype.itemsize):
        key = tuple(slice(r.start * factor, min(r.stop * factor, n), factor) if a in "YX" else r
                    for a, r, n in zip(axes, region, source.shape))
        slab = np.asarray(source[key])
        target[region] = slab
        if after_slab is not None:
            after_slab(slab.nbytes)


def add_pyramid(group, axes: str, scale: dict, units: dict, n_levels: int, *, source=None,
                after_slab: Callable[[int], None] | None = None) -> None:
    """Write levels 1..n-1 by stride-2 YX subsampling (display only), slab by slab.

    Each level comes from the one before (decoding each of its chunks once), or, when
    ``source`` (level 0's pixels, uncompressed, with ``axes``) is given, straight from it
    with a stride of 2**level: the same pixels, and nothing to decode.
    """
    previous = group["0"]
    for level in range(1, n_levels):
        shape = tuple((n + 1) // 2 if a in "YX" else n for a, n in zip(axes, previous.shape))
        current = _create_level(group, str(level), shape, previous.dtype, axes)
        if source is None:
            fill_level(current, previous, axes, 2, after_slab)
        else:
            fill_level(current, source, axes, 2**level, after_slab)
        previous = current
    name = group.attrs["multiscales"][0]["name"]
    group.attrs["multiscales"] = [multiscale_metadata(name, axes, scale, units, n_levels)]


def write_zarr(path: Path, data, *, axes: str, scale: dict, units: dict, kind: str,
               dtype: np.dtype, convert: Callable, pyramid_levels: int | None,
               channel_names: list[str] | None = None, class_names: list[str] | None = None) -> Path:
    """OME-Zarr 0.4 of ``data`` (named by ``axes``) in ``TCZYX`` order, with a pyramid;
    ``channel_names``, ``class_names``: see ``create_ome_zarr``."""
    file_axes = canonical_order(axes, NGFF_AXIS_ORDER)
    order = [axes.index(a) for a in file_axes]
    shape = tuple(data.shape[i] for i in order)
    levels = pyramid_levels or default_pyramid_levels(shape[-2:])

    def write_levels(temporary: Path, check: Callable[[], None]) -> None:
        group, array = create_ome_zarr(temporary, shape, dtype, axes=file_axes, scale=scale,
                                       units=units, kind=kind, name=zarr_stem(path),
                                       channel_names=channel_names, class_names=class_names)
        for region in iter_slabs(shape, array.chunks, file_axes, np.dtype(dtype).itemsize):
            source_key = tuple(region[file_axes.index(a)] for a in axes)
            array[region] = convert(np.asarray(data[source_key]).transpose(order))
            check()
        add_pyramid(group, file_axes, scale, units, levels, after_slab=lambda _: check())

    def write_into(temporary: Path) -> None:
        try:
            run_interruptibly(lambda check: write_levels(temporary, check))
        except BaseException:  # (before ``write_atomically`` removes the temporary folder)
            settle_zarr_writes()
            raise

    return write_atomically(path, write_into)
