"""``write_stack``: labels, masks, probabilities and images as compressed TIFF or OME-Zarr.

The suffix picks the format: ``.zarr`` -> OME-Zarr 0.4 (chunked, with a display pyramid; for
big outputs); ``.ome.tif``/``.ome.tiff`` -> OME-TIFF; ``.tif``/``.tiff`` -> ImageJ hyperstack
(Fiji opens it with axes and calibration) when its dtype allows (uint8, uint16, int16, float32;
< 4 GB), else OME-TIFF under the same name. ImageJ stores axes in ``TZCYX`` order and
OME-Zarr in ``TCZYX`` order, so data are transposed to that order when written; OME-TIFF keeps
the given order when Y and X come last. TIFFs written here are zlib-compressed up to 1 GiB of
pixels, a bigger one is left uncompressed and says so, as a streamed output of ``open_output``
(``app.io.output.stays_uncompressed``: zlib takes many seconds a GiB). The
scale (and units) of ``source`` are copied unless given. Output goes to a temporary sibling
renamed into place.

Kinds: "labels" -> unsigned integers (uint8/uint16 kept; other integers to the smallest of
uint16/uint32 that holds them); "mask" -> uint8 0/1; "probabilities" -> float32;
"image" -> dtype kept (bool -> uint8).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from unet_studio.app.atomic import naming_output
from unet_studio.app.errors import InputFileError
from unet_studio.app.io.atomic import (
    commit,
    ensure_parent_folder,
    refuse_overwriting_source,
    remove_quietly,
    temporary_sibling,
)
from unet_studio.app.io.axes import (
    AXIS_LETTERS,
    UNIT_MICROMETER,
    UNIT_PIXEL,
    UNIT_SECOND,
    parse_user_axes,
)
from unet_studio.app.io.tiff import UNET_STUDIO_TAG

KINDS = ("labels", "mask", "probabilities", "image")
CLASS_MAP_KINDS = ("labels", "mask")  # (kinds whose values may be classes)
IMAGEJ_DTYPES = tuple(np.dtype(t) for t in ("uint8", "uint16", "int16", "float32"))
BIGTIFF_BYTES = 2**32 - 2**25

log = logging.getLogger(__name__)


def output_format(path: Path) -> str:
    """"zarr", "ome" or "tiff" from the file name."""
    name = path.name.lower()
    if name.endswith(".zarr"):
        return "zarr"
    if name.endswith((".ome.tif", ".ome.tiff")):
        return "ome"
    if name.endswith((".tif", ".tiff")):
        return "tiff"
    raise InputFileError(path, "has an unsupported suffix; write .tif, .tiff, .ome.tif, .ome.tiff or .zarr")


def write_stack(path: str | Path, data, *, axes: str, scale: dict | None = None, kind: str = "labels",
                source: str | Path | None = None, units: dict | None = None,
                pyramid_levels: int | None = None, channel_names: list[str] | None = None,
                class_names: list[str] | None = None,
                on_uncompressed: Callable[[str], None] | None = None) -> Path:
    """Write ``data`` (numpy or lazy array, dimensions named by ``axes``) to ``path``; returns it.

    ``scale``: axis -> micrometres (seconds for T); taken from ``source`` when None.
    ``units``: axis -> unit, "pixel" meaning unknown (defaults: micrometer/second for axes in
    ``scale``). ``pyramid_levels`` (Zarr only): levels including full resolution; None picks
    enough halvings to bring the largest side to 1024. ``channel_names``: what each index
    of ``C`` is (probabilities: the model's classes, ``predict_files.probability_names``),
    written as the predict path's streamed outputs write them (OME ``Channel Name``,
    OME-Zarr ``omero`` channel labels, ImageJ plane labels) so that other readers name the
    channels; ValueError when they are not one per channel. ``class_names`` (labels of a
    class map: value ``i`` is class ``class_names[i]``, ``app.class_map``) are recorded with
    the kind (read back as ``Stack.metadata["class_names"]``) and where other readers look
    (``class_map_info``). A TIFF of more than ``output.COMPRESS_BELOW`` bytes of pixels is
    written uncompressed; ``on_uncompressed`` is then called with a sentence saying so (also
    logged). Refuses to overwrite ``source``.
    """
    from unet_studio.app.io.tiff_write import write_tiff
    from unet_studio.app.io.zarr_write import write_zarr

    path = Path(path)
    fmt = output_format(path)
    check_kind(kind)
    class_names = checked_class_names(class_names, kind)
    refuse_overwriting_source(path, source)
    axes = parse_user_axes(path, axes, tuple(data.shape))
    if 0 in tuple(data.shape):  # (a file other programs cannot read, or a crash deep in a writer)
        raise ValueError(f"{path.name}: nothing to write, the stack is empty (shape {tuple(data.shape)})")
    scale, units = resolve_scale(axes, scale, units, source)
    dtype, convert = output_dtype(data, kind)
    ensure_parent_folder(path)
    if fmt == "zarr":
        return write_zarr(path, data, axes=axes, scale=scale, units=units, kind=kind, dtype=dtype,
                          convert=convert, pyramid_levels=pyramid_levels,
                          channel_names=channel_names, class_names=class_names)
    compression = _tiff_compression(path, int(np.prod(data.shape, dtype=np.int64)) * dtype.itemsize,
                                    on_uncompressed)
    return write_tiff(path, data, axes=axes, scale=scale, units=units, kind=kind, dtype=dtype,
                      convert=convert, ome=fmt == "ome", channel_names=channel_names,
                      class_names=class_names, compression=compression)


def _tiff_compression(path: Path, nbytes: int, on_uncompressed) -> str | None:
    """"zlib", or None for a TIFF of ``nbytes`` the rule of ``open_output`` leaves
    uncompressed (``stays_uncompressed``: 1.5 GiB of labels took 14.5 s of zlib, on the GUI
    thread when napari saves them), said through ``on_uncompressed`` and the log."""
    from unet_studio.app.io.output import stays_uncompressed, uncompressed_reason

    if not stays_uncompressed(path, nbytes):
        return "zlib"
    note = (f"{path.name} {uncompressed_reason(nbytes)}: save it as .zarr for a compressed "
            "file, or compress this TIFF afterwards")
    log.info("%s", note)
    if on_uncompressed is not None:
        on_uncompressed(note)
    return None


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")


def checked_class_names(class_names, kind: str) -> list[str] | None:
    """``class_names`` as a list of strings (None or empty: None, objects); ValueError for
    a kind whose values are no classes (an image's, probabilities')."""
    if not class_names:
        return None
    if kind not in CLASS_MAP_KINDS:
        raise ValueError(f"class names are for labels or masks, not {kind}")
    return [str(name) for name in class_names]


def class_map_info(class_names: list[str]) -> str:
    """What each value of a class map is, as text for people and other programs (ImageJ's
    Image > Show Info): "unet-studio class map\n0: background\n1: mitochondria"."""
    return "\n".join(["unet-studio class map",
                      *(f"{value}: {name}" for value, name in enumerate(class_names))])


def resolve_scale(axes: str, scale: dict | None, units: dict | None,
                  source: str | Path | None) -> tuple[dict, dict]:
    """(scale, units) for ``axes``: given ones, else those of ``source``, else unknown."""
    if scale is None and source is not None:
        scale, units = _source_scale(source)
    scale = dict(scale or {})
    resolved_scale, resolved_units = {}, {}
    for axis in axes:
        value = float(scale.get(axis, 1.0))
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"scale of axis {axis} must be a positive number; got {value}")
        resolved_scale[axis] = value
        if axis == "C":
            continue
        if units is not None and axis in units:
            resolved_units[axis] = units[axis]
        else:
            known = UNIT_SECOND if axis == "T" else UNIT_MICROMETER
            resolved_units[axis] = known if axis in scale else UNIT_PIXEL
    return resolved_scale, resolved_units


def _source_scale(source: str | Path) -> tuple[dict, dict | None]:
    from unet_studio.app.io.opening import open_stack

    try:
        with open_stack(source) as opened:
            return dict(opened.scale), dict(opened.units)
    except InputFileError:
        return {}, None


def output_dtype(data, kind: str):
    """(dtype written, per-block conversion) for ``kind``; ValueError for unusable data."""
    dtype = np.dtype(data.dtype)
    if dtype.kind == "c":
        raise ValueError(f"cannot write complex data ({dtype}); write its magnitude or real part")
    if kind == "mask":
        return np.dtype(np.uint8), lambda block: (np.asarray(block) != 0).astype(np.uint8)
    if kind == "probabilities":
        target = np.dtype(np.float32)
    elif kind == "image":
        target = np.dtype(np.uint8) if dtype.kind == "b" else dtype.newbyteorder("=")
    else:
        target = _labels_dtype(data, dtype)
    return target, lambda block: np.asarray(block).astype(target, copy=False)


def _labels_dtype(data, dtype: np.dtype) -> np.dtype:
    if dtype.kind == "b" or dtype in (np.dtype(np.uint8), np.dtype(np.uint16)):
        return np.dtype(np.uint8) if dtype.kind == "b" else dtype.newbyteorder("=")
    if dtype.kind not in "ui":
        raise ValueError(f"labels must be integers; got {dtype}")
    low, high = value_range(data)
    if low < 0:
        raise ValueError(f"labels must be non-negative; found {low}")
    if high <= np.iinfo(np.uint16).max:
        return np.dtype(np.uint16)
    if high <= np.iinfo(np.uint32).max:
        return np.dtype(np.uint32)
    raise ValueError(f"label {high} does not fit in uint32")


def value_range(data) -> tuple[int, int]:
    """(min, max) of an integer array, read block by block along the first axis; the pages
    of a memory-mapped ``data`` are handed back after each block (a streamed output larger
    than RAM would otherwise end up resident)."""
    from unet_studio.models.mapped import release_pages

    step = max(1, int(2**26 // max(1, np.prod(data.shape[1:], dtype=np.int64) * data.dtype.itemsize)))
    low, high = None, None
    for start in range(0, data.shape[0], step):
        block = np.asarray(data[start:start + step])
        low = block.min() if low is None else min(low, block.min())
        high = block.max() if high is None else max(high, block.max())
        release_pages(data)
    return int(low), int(high)


def canonical_order(axes: str, order: str = AXIS_LETTERS) -> str:
    """``axes`` rearranged in ``order`` (e.g. "XCZY" -> "ZCYX" for ImageJ's TZCYX)."""
    return "".join(a for a in order if a in axes)


def unet_studio_tag(kind: str, axes: str | None = None,
                    class_names: list[str] | None = None) -> tuple:
    """tifffile extratag recording what the file holds (read back as Stack.metadata["kind"]),
    its axes (ImageJ and OME metadata do not keep an axis of length 1 apart from a missing
    one: one time point of a series would read back as an image) and, for a class map,
    its class names (Stack.metadata["class_names"])."""
    recorded = {"kind": kind, "writer": "unet-studio", **({"axes": axes} if axes else {}),
                **({"class_names": list(class_names)} if class_names else {})}
    return (UNET_STUDIO_TAG, "s", 0, json.dumps(recorded), True)


def write_atomically(path: Path, write_into) -> Path:
    """Call ``write_into(temporary_path)``, then rename it to ``path``; clean up on failure.
    An error writing it is a WriteError naming ``path`` (``naming_output``)."""
    temporary = temporary_sibling(path)
    try:
        with naming_errors(path, temporary):
            write_into(temporary)
            return commit(temporary, path)
    except BaseException:
        remove_quietly(temporary)
        raise


@contextmanager
def naming_errors(path: Path, temporary: Path) -> Iterator[None]:
    """Within it, an OSError about writing ``path`` (through ``temporary``, its hidden
    ``.part`` sibling, a file or a folder) is raised as a WriteError naming ``path``: the
    user chose that name, and the hidden one told them nothing (the GUI's Save and the CLI
    show the message as it is). Others (an input read on the way) are raised unchanged."""
    try:
        yield
    except OSError as error:
        named = naming_output(error, path, temporary)
        if named is error:
            raise
        raise named from error  # (the temporary's name stays in a traceback, for a bug report)
