"""Opening TIFF files (plain, ImageJ hyperstack, OME-TIFF) lazily with tifffile.

Only headers and metadata are parsed. Contiguous uncompressed pixel data become an
``np.memmap`` (the operating system pages them in on access); everything else (compressed,
tiled, striped) goes through tifffile's Zarr store, which decodes only the strips or tiles an
index touches. Physical pixel sizes: ``tiff_sizes``.
"""

from __future__ import annotations

import json
import logging
import struct
from pathlib import Path

import numpy as np

from unet_studio.app.errors import InputFileError
from unet_studio.app.io.axes import (
    map_file_axes,
)
from unet_studio.app.io.lazy import LazyArray
from unet_studio.app.io.stack import Stack
from unet_studio.app.io.tiff_sizes import physical_sizes
from unet_studio.app.io.tifflog import captured_tifffile_messages
from unet_studio.app.io.validate import (
    check_dtype,
    check_page_data,
    check_regular_file,
    check_shape,
    check_tiff_signature,
)

log = logging.getLogger(__name__)

# Private TIFF tag where unet-studio records what a file holds ({"kind": "labels", ...}).
UNET_STUDIO_TAG = 65100


def open_tiff(path: Path, *, series: int = 0, copy_on_write: bool = False) -> Stack:
    """Open series ``series`` of a TIFF file without reading pixels; ``copy_on_write``:
    memory maps are private and writable (see ``open_stack``)."""
    file_size = check_regular_file(path)
    check_tiff_signature(path)
    with captured_tifffile_messages() as captured:
        stack = _open_captured(path, series, file_size, copy_on_write)
    if captured.fatal:
        stack.close()
        raise InputFileError(path, f"is corrupt or truncated ({captured.fatal[0]})")
    if captured.messages:
        log.info("%s: tifffile: %s", path, "; ".join(captured.messages))
        stack.metadata["warnings"] = captured.messages
    return stack


def _open_captured(path: Path, series: int, file_size: int, copy_on_write: bool) -> Stack:
    import tifffile

    try:
        tif = tifffile.TiffFile(path)
    except Exception as error:  # tifffile raises many types for damaged headers
        raise InputFileError(path, f"is not a readable TIFF file ({error})") from error
    try:
        return _stack_from_tiff(path, tif, series, file_size, "c" if copy_on_write else "r")
    except InputFileError:
        tif.close()
        raise
    except struct.error as error:  # tifffile read a page header that the file's end cuts short
        tif.close()
        raise InputFileError(path, "is truncated or corrupt: a page header is cut short") from error
    except Exception as error:
        tif.close()
        raise InputFileError(path, f"is a damaged TIFF file ({type(error).__name__}: {error})") from error


def _stack_from_tiff(path: Path, tif, series_index: int, file_size: int, map_mode: str) -> Stack:
    if not tif.series:
        raise InputFileError(path, "contains no images")
    if not 0 <= series_index < len(tif.series):
        raise InputFileError(path, f"has {len(tif.series)} image series; there is no series "
                                   f"{series_index + 1} (counting from 1)")
    series = tif.series[series_index]
    shape = tuple(int(n) for n in series.shape)
    check_shape(path, shape)
    dtype = check_dtype(path, series.dtype)
    _check_series_pages(path, tif, series, file_size)
    axes, guessed = map_file_axes(path, series.axes, shape)
    data, mode = _level_array(path, tif, series, 0, dtype, file_size, map_mode)
    recorded = _recorded_axes(tif.pages.first, axes)
    if recorded is not None and len(series.levels) == 1:  # (ours: no pyramid)
        data, axes = _with_unit_axes(data, axes, recorded), recorded
    levels = (data, *(_level_array(path, tif, series, i, dtype, file_size, map_mode)[0]
                      for i in range(1, len(series.levels)))) if len(series.levels) > 1 else ()
    scale, units = physical_sizes(tif, series_index, axes)
    metadata = {
        "format": "ome-tiff" if tif.is_ome else "imagej" if tif.is_imagej else "tiff",
        "file_axes": series.axes, "axes_source": "guessed" if guessed else "file",
        "series_count": len(tif.series), "series": series_index, "lazy_mode": mode,
        "file_dtype": str(series.dtype), "rgb": "S" in series.axes,
        "compression": str(getattr(series.keyframe.compression, "name", series.keyframe.compression)).lower(),
        **_recorded_kind(tif, series_index),
    }
    return Stack(path=path, name=_stem(path), data=data, axes=axes, scale=scale, units=units,
                 lazy=True, metadata=metadata, levels=levels, _closers=(tif.close,))


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".ome.tiff", ".ome.tif", ".tiff", ".tif"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _check_series_pages(path: Path, tif, series, file_size: int) -> None:
    """Check the data locations of the first and last page: truncation shows at the end."""
    check_page_data(path, series.keyframe, file_size)
    count = len(series.pages)
    if count < 2:
        return
    try:
        last = series.pages[count - 1]
    except IndexError:  # the description promises more pages than the IFD chain holds
        raise InputFileError(path, _missing_pages_message(path, tif, series, count, file_size)) from None
    if last is not None and getattr(last, "dataoffsets", None) is not None:
        check_page_data(path, last, file_size)


def _missing_pages_message(path: Path, tif, series, count: int, file_size: int) -> str:
    """Why a series of ``count`` pages ends early: how many whole pages the file still holds.

    The file was cut between or inside pages (an interrupted copy or download): tifffile found
    fewer pages than the series' shape needs. The last page found may itself be cut short.
    """
    first = series.keyframe.index  # (read and checked already: at least one page is found)
    found = len(tif.pages) - first
    whole = found if _page_is_whole(path, tif, first + found - 1, file_size) else found - 1
    return f"is truncated: it holds {whole} of its {count} pages"


def _page_is_whole(path: Path, tif, index: int, file_size: int) -> bool:
    """Page ``index``'s header reads and its pixel data lie inside the file."""
    try:
        check_page_data(path, tif.pages[index], file_size)
    except Exception:  # (tifffile raises many types for a header cut short)
        return False
    return True


def _level_array(path: Path, tif, series, level: int, dtype: np.dtype, file_size: int,
                 map_mode: str = "r"):
    """(lazy array, "memmap" | "chunked") for one pyramid level of ``series``; ``map_mode``:
    numpy's memmap mode, "r" (shared, read-only) or "c" (private, copy-on-write)."""
    source = series.levels[level]
    if source.dataoffset is not None and source.keyframe.is_memmappable:
        file_dtype = np.dtype(source.dtype).newbyteorder(tif.byteorder)
        end = source.dataoffset + int(np.prod(source.shape)) * file_dtype.itemsize
        if end > file_size:
            raise InputFileError(path, f"is truncated: its pixels need {end} bytes, the file has {file_size}")
        mapped = np.memmap(path, dtype=file_dtype, mode=map_mode, offset=source.dataoffset, shape=source.shape)
        if file_dtype == dtype:
            return mapped, "memmap"
        return LazyArray(mapped, path, dtype=dtype), "memmap"
    return LazyArray(_TiffZarrSource(series, level), path, dtype=dtype), "chunked"


# Levels up to this size are decoded whole on each read instead of through Zarr.
_DECODE_WHOLE_BELOW = 8 * 2**20


class _TiffZarrSource:
    """tifffile's Zarr view of one pyramid level, created on the first read.

    Creating it costs milliseconds (zarr's event loop), which would dominate opening a folder
    of many files; shape and dtype are known from the TIFF header without it.
    """

    def __init__(self, series, level: int):
        self._series = series
        self._level = level
        self.shape = tuple(int(n) for n in series.levels[level].shape)
        self.dtype = np.dtype(series.levels[level].dtype)
        self._array = None

    def __getitem__(self, key) -> np.ndarray:
        with captured_tifffile_messages() as captured:
            data = self._read(key)
        if captured.fatal:
            raise ValueError(captured.fatal[0])
        return data

    def _read(self, key) -> np.ndarray:
        level = self._series.levels[self._level]
        if level.nbytes <= _DECODE_WHOLE_BELOW:  # small: one tifffile call beats zarr's overhead
            return level.asarray()[key]
        if self._array is None:
            import zarr

            self._array = zarr.open_array(self._series.aszarr(level=self._level), mode="r")
        return self._array[key]


def _recorded_axes(page, axes: str) -> str | None:
    """The axes our writer recorded, where the file's metadata lost some of length 1
    (e.g. ``"TYX"`` for one time point read back as ``"YX"``); None otherwise."""
    tag = page.tags.get(UNET_STUDIO_TAG) if page is not None else None
    try:
        recorded = json.loads(tag.value).get("axes") if tag is not None else None
    except (TypeError, ValueError, AttributeError):
        return None
    if not isinstance(recorded, str) or len(recorded) <= len(axes) or len(set(recorded)) != len(recorded):
        return None
    return recorded if [a for a in recorded if a in axes] == list(axes) else None


def _with_unit_axes(data, axes: str, recorded: str):
    """``data`` (axes ``axes``) seen with the length-1 axes of ``recorded`` put back."""
    full = tuple(data.shape[axes.index(a)] if a in axes else 1 for a in recorded)
    if isinstance(data, np.ndarray):
        return data.reshape(full)
    return LazyArray(_UnitAxesSource(data, full, [i for i, a in enumerate(recorded) if a not in axes]),
                     data.path, dtype=data.dtype)  # fmt: skip


class _UnitAxesSource:
    """A source read with keys over more axes: those of length 1 at ``unit`` are dropped
    from the key (``LazyArray`` shapes what comes back)."""

    def __init__(self, source, shape: tuple[int, ...], unit: list[int]):
        self._source, self.shape, self._unit = source, shape, set(unit)
        self.dtype = source.dtype

    def __getitem__(self, key) -> np.ndarray:
        return np.asarray(self._source[tuple(k for i, k in enumerate(key) if i not in self._unit)])


def _recorded_kind(tif, series_index: int) -> dict:
    """The kind and class names our tag records; without the tag (a file re-saved by
    Bio-Formats keeps the OME-XML, not private tags), a class map's names from its OME-XML
    annotation (``app.io.ome_classes``), as labels."""
    from unet_studio.app.io.ome_classes import ome_class_names

    recorded = _unet_studio_tag(tif.pages.first)
    if recorded or not tif.is_ome:
        return recorded
    names = ome_class_names(tif.ome_metadata, series_index)
    if names is None or np.dtype(tif.series[series_index].dtype).kind not in "iub":
        return {}
    return {"kind": "labels", "class_names": names}


def _unet_studio_tag(page) -> dict:
    """What our tag records: the kind, and a class map's class names (``app.class_map``)."""
    tag = page.tags.get(UNET_STUDIO_TAG) if page is not None else None
    if tag is None:
        return {}
    try:
        recorded = json.loads(tag.value)
    except (TypeError, ValueError):
        return {}
    if not isinstance(recorded, dict) or "kind" not in recorded:
        return {}
    names = recorded_class_names(recorded)
    return {"kind": recorded["kind"], **({"class_names": names} if names else {})}


def recorded_class_names(recorded: dict) -> list[str] | None:
    """The ``class_names`` our writer recorded (in a TIFF tag or Zarr attributes), when they
    are a list of names; None otherwise (objects, or an unreadable entry: left unnamed)."""
    names = recorded.get("class_names")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        return None
    return list(names)
