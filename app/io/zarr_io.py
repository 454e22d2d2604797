"""OME-Zarr (NGFF 0.4 and 0.5) reading, and OME-Zarr 0.4 writing.

A multiscale image opens with level 0 (full resolution) as ``Stack.data`` for computation and
every level in ``Stack.levels`` for display. A plain Zarr array opens with guessed axes.
Written images follow NGFF 0.4 (Zarr format 2, the most widely read): axes ordered
``T, C, Z, Y, X``, Blosc/zstd chunks, a pyramid of stride-2 (nearest) YX levels for display.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from unet_studio.app.errors import InputFileError
from unet_studio.app.io.axes import (
    UNIT_MICROMETER,
    UNIT_PIXEL,
    UNIT_SECOND,
    default_scale_and_units,
    guess_axes,
    length_in_um,
    time_in_s,
)
from unet_studio.app.io.lazy import LazyArray
from unet_studio.app.io.stack import Stack
from unet_studio.app.io.validate import check_dtype, check_shape

NGFF_AXIS_ORDER = "TCZYX"
_AXIS_TYPES = {"T": "time", "C": "channel", "Z": "space", "Y": "space", "X": "space"}


def open_zarr(path: Path) -> Stack:
    """Open an OME-Zarr image (or a plain Zarr array) lazily."""
    import zarr

    if not path.exists():
        raise InputFileError(path, "does not exist")
    try:
        node = zarr.open(str(path), mode="r")
    except Exception as error:
        raise InputFileError(path, f"is not a readable Zarr store ({error})") from error
    if isinstance(node, zarr.Array):
        return _plain_array_stack(path, node)
    multiscales = _multiscales(dict(node.attrs))
    if not multiscales:
        raise InputFileError(path, "is a Zarr group without OME-Zarr 'multiscales' metadata")
    try:
        return _multiscale_stack(path, node, multiscales[0])
    except InputFileError:
        raise
    except Exception as error:  # malformed metadata: missing keys, wrong types
        raise InputFileError(path, f"has invalid OME-Zarr metadata ({type(error).__name__}: {error})") from error


def _multiscales(attrs: dict) -> list:
    """NGFF 0.4 keeps ``multiscales`` at the top level, 0.5 under ``ome``."""
    return attrs.get("multiscales") or (attrs.get("ome") or {}).get("multiscales") or []


def _plain_array_stack(path: Path, array) -> Stack:
    shape = tuple(array.shape)
    check_shape(path, shape)
    dtype = check_dtype(path, array.dtype)
    axes = guess_axes(path, len(shape))
    scale, units = default_scale_and_units(axes)
    metadata = {"format": "zarr", "axes_source": "guessed", "lazy_mode": "chunked"}
    return Stack(path=path, name=path.stem, data=LazyArray(array, path, dtype=dtype), axes=axes,
                 scale=scale, units=units, lazy=True, metadata=metadata)


def _multiscale_stack(path: Path, group, multiscale: dict) -> Stack:
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
        levels.append(LazyArray(array, path, dtype=check_dtype(path, array.dtype)))
    if not levels:
        raise InputFileError(path, "has OME-Zarr metadata listing no datasets")
    factors = _level0_scale(multiscale, len(axes))
    scale, units = default_scale_and_units(axes)
    for axis, factor, unit in zip(axes, factors, units_given):
        value = time_in_s(factor, unit) if axis == "T" else length_in_um(factor, unit)
        if axis != "C" and unit and value is not None:
            scale[axis], units[axis] = value, UNIT_SECOND if axis == "T" else UNIT_MICROMETER
    kind = (dict(group.attrs).get("unet_studio") or {}).get("kind")
    source = "file" if multiscale.get("axes") is not None else "guessed"
    metadata = {"format": "ome-zarr", "file_axes": axes, "axes_source": source, "lazy_mode": "chunked",
                "level_shapes": [tuple(level.shape) for level in levels],
                **({"kind": kind} if kind else {})}
    return Stack(path=path, name=multiscale.get("name") or zarr_stem(path), data=levels[0],
                 axes=axes, scale=scale, units=units, lazy=True, metadata=metadata,
                 levels=tuple(levels) if len(levels) > 1 else ())


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


# -- writing ------------------------------------------------------------------------------------
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


def create_ome_zarr(path: Path, shape: tuple[int, ...], dtype, *, axes: str, scale: dict,
                    units: dict, kind: str, name: str | None = None):
    """A new OME-Zarr group at ``path`` with an empty level 0 array; returns (group, array)."""
    import numcodecs
    import zarr

    dtype = np.dtype(dtype)
    group = zarr.open_group(str(path), mode="w", zarr_format=2)
    array = group.create_array(
        "0", shape=shape, dtype=dtype, chunks=chunk_shape(axes, shape, dtype.itemsize), fill_value=0,
        compressors=numcodecs.Blosc(cname="zstd", clevel=5, shuffle=numcodecs.Blosc.BITSHUFFLE),
        chunk_key_encoding={"name": "v2", "separator": "/"})
    group.attrs["multiscales"] = [multiscale_metadata(name or zarr_stem(path), axes, scale, units, 1)]
    group.attrs["unet_studio"] = {"kind": kind}
    return group, array


def add_pyramid(group, axes: str, scale: dict, units: dict, n_levels: int) -> None:
    """Write levels 1..n-1 from level 0 by stride-2 YX subsampling (display only), plane by plane."""
    import numcodecs

    previous = group["0"]
    for level in range(1, n_levels):
        shape = tuple((n + 1) // 2 if a in "YX" else n for a, n in zip(axes, previous.shape))
        current = group.create_array(
            str(level), shape=shape, dtype=previous.dtype, fill_value=0,
            chunks=chunk_shape(axes, shape, previous.dtype.itemsize),
            compressors=numcodecs.Blosc(cname="zstd", clevel=5, shuffle=numcodecs.Blosc.BITSHUFFLE),
            chunk_key_encoding={"name": "v2", "separator": "/"})
        outer = [n for a, n in zip(axes, previous.shape) if a not in "YX"]
        for index in np.ndindex(*outer):
            key = _plane_key(axes, index)
            current[key] = np.asarray(previous[key])[..., ::2, ::2]
        previous = current
    name = group.attrs["multiscales"][0]["name"]
    group.attrs["multiscales"] = [multiscale_metadata(name, axes, scale, units, n_levels)]


def _plane_key(axes: str, outer_index: tuple[int, ...]) -> tuple:
    """Index selecting one YX plane (Y, X kept in storage order; YX must be the last two)."""
    values = iter(outer_index)
    return tuple(slice(None) if a in "YX" else next(values) for a in axes)
