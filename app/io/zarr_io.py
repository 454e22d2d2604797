"""OME-Zarr (NGFF 0.4 and 0.5) reading; writing is ``zarr_write``.

A multiscale image opens with level 0 (full resolution) as ``Stack.data`` for computation and
every level in ``Stack.levels`` for display. A plain Zarr array opens with guessed axes.
A bioformats2raw layout (``x.zarr/`` holding images ``0/``, ``1/``, ... and ``OME/``
metadata) opens its first image, or the one ``series`` names. Pixels are read through a
bounded cache of decoded chunks (``chunk_cache``), shared by the levels of the image.
"""

from __future__ import annotations

import logging
from pathlib import Path

from unet_studio.app.errors import InputFileError
from unet_studio.app.io.axes import (
    UNIT_MICROMETER,
    UNIT_SECOND,
    default_scale_and_units,
    guess_axes,
    length_in_um,
    time_in_s,
)
from unet_studio.app.io.chunk_cache import CachedChunks, ChunkCache, cache_bytes_from_environment
from unet_studio.app.io.lazy import LazyArray
from unet_studio.app.io.stack import Stack
from unet_studio.app.io.tiff import recorded_class_names
from unet_studio.app.io.validate import check_dtype, check_shape

NGFF_AXIS_ORDER = "TCZYX"
BIOFORMATS2RAW_LAYOUT = "bioformats2raw.layout"

log = logging.getLogger(__name__)


def open_zarr(path: Path, *, series: int = 0) -> Stack:
    """Open an OME-Zarr image (or a plain Zarr array) lazily; ``series`` (from 0) picks an
    image of a bioformats2raw layout (other Zarrs hold one)."""
    import zarr

    if not path.exists():
        raise InputFileError(path, "does not exist")
    try:
        node = zarr.open(str(path), mode="r")
    except Exception as error:
        raise InputFileError(path, f"is not a readable Zarr store ({error})") from error
    cache = ChunkCache(cache_bytes_from_environment())
    if isinstance(node, zarr.Array):
        return _plain_array_stack(path, node, cache)
    try:
        group, series_metadata = _image_group(path, node, series)
    except InputFileError:
        raise
    except Exception as error:  # a listed series that is missing, or not a group
        raise InputFileError(path, f"has an unreadable bioformats2raw layout ({type(error).__name__}: "
                                   f"{error})") from error
    multiscales = _multiscales(dict(group.attrs))
    if not multiscales:
        where = f" (series {series + 1}, group {group.path!r})" if series_metadata else ""
        raise InputFileError(path, f"is a Zarr group without OME-Zarr 'multiscales' metadata{where}")
    try:
        stack = _multiscale_stack(path, group, multiscales[0], cache)
    except InputFileError:
        raise
    except Exception as error:  # malformed metadata: missing keys, wrong types
        raise InputFileError(path, f"has invalid OME-Zarr metadata ({type(error).__name__}: {error})") from error
    stack.metadata.update(series_metadata)
    return stack


def _ome_attributes(attrs: dict) -> dict:
    """NGFF 0.4 keeps its keys at the top level of a group's attributes, 0.5 under ``ome``
    (the top level wins where a file has both, as it always did here)."""
    return {**(attrs.get("ome") or {}), **attrs}


def _image_group(path: Path, root, series: int):
    """(group holding the image, metadata naming the series taken): ``root`` itself, or for
    a bioformats2raw layout its ``series``-th image."""
    attributes = _ome_attributes(dict(root.attrs))
    layout = attributes.get(BIOFORMATS2RAW_LAYOUT)
    if layout is None:
        return root, {}
    if layout != 3:
        raise InputFileError(path, f"has {BIOFORMATS2RAW_LAYOUT} {layout}; version 3 is supported")
    if "plate" in attributes:
        raise InputFileError(path, "is a plate (high-content screening); open one of its wells' "
                                   "images instead, e.g. PLATE.zarr/A/1/0")
    paths = _series_paths(root)
    if not paths:
        raise InputFileError(path, "is a bioformats2raw layout holding no image (no group 0)")
    if not 0 <= series < len(paths):
        raise InputFileError(path, f"has {len(paths)} image series; there is no series "
                                   f"{series + 1} (counting from 1)")
    if len(paths) > 1:
        log.info("%s holds %d image series; opened series %d (group %r)", path, len(paths),
                 series + 1, paths[series])
    metadata = {"layout": "bioformats2raw", "series_count": len(paths), "series": series,
                "series_path": paths[series]}
    return root[paths[series]], metadata


def _series_paths(root) -> list[str]:
    """The image groups of a bioformats2raw layout in series order: those the ``OME`` group
    lists (``series``), else ``0``, ``1``, ... as far as they go (the spec's two ways)."""
    groups = set(root.group_keys())  # (names only: opening each of many series costs reads)
    listed = _ome_attributes(dict(root["OME"].attrs)).get("series") if "OME" in groups else None
    if listed:
        return [str(name) for name in listed]
    paths = []
    while str(len(paths)) in groups:
        paths.append(str(len(paths)))
    return paths


def _multiscales(attrs: dict) -> list:
    return _ome_attributes(attrs).get("multiscales") or []


def _plain_array_stack(path: Path, array, cache: ChunkCache) -> Stack:
    shape = tuple(array.shape)
    check_shape(path, shape)
    dtype = check_dtype(path, array.dtype)
    axes = guess_axes(path, len(shape))
    scale, units = default_scale_and_units(axes)
    metadata = {"format": "zarr", "axes_source": "guessed", "lazy_mode": "chunked"}
    data = LazyArray(CachedChunks(array, cache), path, dtype=dtype)
    return Stack(path=path, name=path.stem, data=data, axes=axes, scale=scale, units=units,
                 lazy=True, metadata=metadata, _closers=(cache.clear,))


def _multiscale_stack(path: Path, group, multiscale: dict, cache: ChunkCache) -> Stack:
    listed = multiscale.get("axes")
    if listed is None:  # NGFF 0.1-0.2 name no axes: their arrays are (t, c, z, y, x), trailing
        first = multiscale.get("datasets") or [{}]
        ndim = group[first[0]["path"]].ndim if "path" in first[0] else 0
        listed = list("tczyx"[5 - ndim:]) if 2 <= ndim <= 5 else []
    names = [(a["name"] if isinstance(a, dict) else a).upper() for a in listed]
    units_given = [a.get("unit") if isinstance(a, dict) else None for a in listed]
    axes = "".join(names)
    if sorted(axes) != sorted(set(axes)) or set(axes) - set(NGFF_AXIS_ORDER):
        raise InputFileError(path, f"has OME-Zarr axes {names}; supported are t, c, z, y, x")
    levels = []
    for dataset in multiscale["datasets"]:
        array = group[dataset["path"]]
        if array.ndim != len(axes):
            raise InputFileError(path, f"level {dataset['path']!r} has {array.ndim} dimensions, axes {axes}")
        check_shape(path, tuple(array.shape))
        chunked = CachedChunks(array, cache, name=len(levels))
        levels.append(LazyArray(chunked, path, dtype=check_dtype(path, array.dtype)))
    if not levels:
        raise InputFileError(path, "has OME-Zarr metadata listing no datasets")
    factors = _level0_scale(multiscale, len(axes))
    scale, units = default_scale_and_units(axes)
    for axis, factor, unit in zip(axes, factors, units_given):
        value = time_in_s(factor, unit) if axis == "T" else length_in_um(factor, unit)
        if axis != "C" and unit and value is not None:
            scale[axis], units[axis] = value, UNIT_SECOND if axis == "T" else UNIT_MICROMETER
    attributes = dict(group.attrs)
    kind = _kind(attributes, levels[0].dtype)
    names = recorded_class_names(attributes.get("unet_studio") or {}) if kind else None
    source = "file" if multiscale.get("axes") is not None else "guessed"
    metadata = {"format": "ome-zarr", "file_axes": axes, "axes_source": source, "lazy_mode": "chunked",
                "level_shapes": [tuple(level.shape) for level in levels],
                **({"kind": kind} if kind else {}), **({"class_names": names} if names else {})}
    return Stack(path=path, name=multiscale.get("name") or zarr_stem(path), data=levels[0],
                 axes=axes, scale=scale, units=units, lazy=True, metadata=metadata,
                 levels=tuple(levels) if len(levels) > 1 else (), _closers=(cache.clear,))


def _kind(attrs: dict, dtype) -> str | None:
    """What the image is: the kind we wrote, else "labels" for any NGFF label image (its
    ``image-label`` metadata: ome-zarr-py's labels, an image's ``labels/NAME`` group) of
    integers, as the spec requires and napari's labels need."""
    kind = (attrs.get("unet_studio") or {}).get("kind")
    if kind is None and "image-label" in _ome_attributes(attrs) and dtype.kind in "iub":
        return "labels"
    return kind


def zarr_stem(path: Path) -> str:
    name = path.name[:-5] if path.name.lower().endswith(".zarr") else path.name
    return name[:-4] if name.lower().endswith(".ome") else name


def _level0_scale(multiscale: dict, ndim: int) -> list[float]:
    """Level 0's scale, times the multiscale-wide scale when there is one."""
    factors = [1.0] * ndim
    transforms = list(multiscale["datasets"][0].get("coordinateTransformations", []))
    transforms += list(multiscale.get("coordinateTransformations", []))
    for transform in transforms:
        if transform.get("type") == "scale" and len(transform.get("scale", ())) == ndim:
            factors = [f * float(s) for f, s in zip(factors, transform["scale"])]
    return factors
