"""``open_stack``: one entry point for a TIFF, PNG or JPEG file, an OME-Zarr, a folder or a glob of TIFFs."""

from __future__ import annotations

from pathlib import Path

from unet_studio.app.errors import InputFileError
from unet_studio.app.io.canonical import canonical_stack
from unet_studio.app.io.stack import Stack
from unet_studio.app.io.validate import check_exists

_GLOB_CHARACTERS = "*?["
_ZARR_MARKERS = (".zattrs", ".zgroup", ".zarray", "zarr.json")


def is_glob(spec: str) -> bool:
    return any(c in spec for c in _GLOB_CHARACTERS)


def is_zarr(path: Path) -> bool:
    """A ``*.zarr`` path, or a folder holding Zarr metadata."""
    if path.suffix.lower() == ".zarr":
        return True
    return path.is_dir() and any((path / marker).exists() for marker in _ZARR_MARKERS)


def open_stack(path: str | Path, *, axes: str | None = None, series: int = 0,
               copy_on_write: bool = False) -> Stack:
    """Open an image stack lazily: parses metadata, reads no pixels.

    ``path``: a TIFF file (plain, ImageJ hyperstack, OME-TIFF), a PNG or JPEG image (read
    whole, ``app.io.raster``), an OME-Zarr (or plain Zarr array) folder, a folder of 2D
    TIFFs, or a glob such as ``"frames/*.tif"``. The stack comes in the canonical axis order
    ``TZCYX`` (RGB(A) colours last), a lazy transposed view of a file that stores another
    (``app.io.canonical``; ``metadata["stored_axes"]`` then says the file's). ``axes``
    overrides the axes the file states or that were guessed, one letter per dimension in the
    order the file stores them (e.g. ``"TYX"`` when a plain multi-page TIFF is a time series,
    guessed as ``"ZYX"``). ``series`` (from 0) picks an image
    of a multi-series TIFF or of an OME-Zarr in the bioformats2raw layout (``x.zarr/0/``,
    ``x.zarr/1/``, ...; ``Stack.metadata["series_count"]`` says how many there are). ``copy_on_write``: a TIFF
    whose pixels are memory-mapped is mapped privately and writable (labels to paint in
    napari, ``app.io.editable``): what is written stays in this process's memory and never
    reaches the file. Left False the map is shared and read-only, so that a long run over
    it can hand its pages back (``models.mapped``). Problems raise InputFileError naming the
    file and what is wrong.
    """
    spec = str(path)
    candidate = Path(spec).expanduser()
    if not candidate.exists() and is_glob(spec):
        from unet_studio.app.io.folder import open_glob

        stack = open_glob(spec)
        return _with_axes(stack, axes)
    check_exists(candidate)  # (an output a killed writer left aside is put back first)
    if is_zarr(candidate):
        from unet_studio.app.io.zarr_io import open_zarr

        stack = open_zarr(candidate, series=series)
    elif candidate.is_dir():
        from unet_studio.app.io.folder import open_folder

        stack = open_folder(candidate)
    else:
        stack = _open_file(candidate, series, copy_on_write)
    return _with_axes(stack, axes)


def _with_axes(stack: Stack, axes: str | None) -> Stack:
    """``stack`` with the axes the user gave (closed when they do not fit), canonical."""
    if axes:
        try:
            stack = stack.with_axes(axes)
        except InputFileError:
            stack.close()
            raise
    return canonical_stack(stack)


def _open_file(path: Path, series: int, copy_on_write: bool) -> Stack:
    """A TIFF file, or a PNG or JPEG image (by its name, or its content when named
    otherwise)."""
    from unet_studio.app.io.raster import open_raster, raster_format

    fmt = raster_format(path)
    if fmt is not None:
        return open_raster(path, fmt)
    from unet_studio.app.io.tiff import open_tiff

    return open_tiff(path, series=series, copy_on_write=copy_on_write)
