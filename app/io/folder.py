"""A folder or glob of TIFF files (typically one 2D image each) as one lazy stack.

Files are ordered naturally (``img2`` before ``img10``) and stacked along a new leading axis:
``Z`` (guessed, as ImageJ's "Image Sequence" does) unless the files already have a Z axis, then
``T``. Every file's header is checked on open; a file whose shape, dtype or axes differ from
the first one is reported by name. Pixels are read per file, only for the files an index needs.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path

import numpy as np

from unet_studio.app.errors import InputFileError
from unet_studio.app.io.lazy import LazyArray
from unet_studio.app.io.stack import Stack

TIFF_SUFFIXES = (".tif", ".tiff")


def natural_key(path: Path) -> list:
    """Sort key that orders embedded numbers by value: ``t2.tif`` < ``t10.tif``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def open_folder(folder: Path) -> Stack:
    """Every ``*.tif``/``*.tiff`` file directly inside ``folder``, as one stack."""
    files = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in TIFF_SUFFIXES
                    and not p.name.startswith(".")), key=natural_key)
    if not files:
        raise InputFileError(folder, "contains no .tif or .tiff files")
    return _open_series(folder, files)


def open_glob(pattern: str) -> Stack:
    """The files matching ``pattern`` (e.g. ``"frames/t*.tif"``), as one stack."""
    files = sorted((Path(p) for p in glob.glob(pattern) if Path(p).is_file()), key=natural_key)
    if not files:
        raise InputFileError(Path(pattern), "matches no files")
    return _open_series(Path(pattern), files)


class _FileSeries:
    """Array-like ``(N, *file shape)`` over N files with the same shape; reads per file."""

    def __init__(self, files: list[Path], shape: tuple[int, ...], dtype: np.dtype):
        self.files = files
        self.shape = (len(files), *shape)
        self.dtype = dtype

    def __getitem__(self, key: tuple) -> np.ndarray:
        from unet_studio.app.io.tiff import open_tiff

        first, rest = key[0], tuple(key[1:])
        indices = [first] if isinstance(first, (int, np.integer)) else range(len(self.files))[first]
        planes = []
        for index in indices:
            with open_tiff(self.files[index]) as single:
                planes.append(np.asarray(single.data[rest]))
        if isinstance(first, (int, np.integer)):
            return planes[0]
        if not planes:
            return np.empty((0, *self.shape[1:]), self.dtype)[(slice(None), *rest)]
        return np.stack(planes)


def _open_series(origin: Path, files: list[Path]) -> Stack:
    from unet_studio.app.io.tiff import open_tiff

    with open_tiff(files[0]) as first:
        reference = (first.shape, first.dtype, first.axes)
        template = first
    for path in files[1:]:
        with open_tiff(path) as other:
            found = (other.shape, other.dtype, other.axes)
        if found != reference:
            raise InputFileError(
                path, f"does not match the series started by {files[0].name}: shape "
                f"{found[0]} {found[1]} axes {found[2]} instead of {reference[0]} {reference[1]} "
                f"axes {reference[2]}")
    new_axis = "Z" if "Z" not in template.axes else "T"
    if new_axis in template.axes:
        raise InputFileError(origin, f"files already have axes {template.axes}; cannot stack them")
    source = _FileSeries(files, template.shape, template.dtype)
    axes = new_axis + template.axes
    scale = {new_axis: 1.0, **template.scale}
    units = {new_axis: "pixel", **template.units}
    metadata = {"format": "tiff-series", "files": [str(p) for p in files], "axes_source": "guessed",
                "file_axes": template.metadata.get("file_axes"), "lazy_mode": "per-file",
                "rgb": template.metadata.get("rgb", False)}
    name = origin.name if origin.is_dir() else origin.parent.name or origin.name
    return Stack(path=origin, name=name, data=LazyArray(source, origin), axes=axes,
                 scale=scale, units=units, lazy=True, metadata=metadata)
