"""``unet-studio info FILE...``: what a stack holds, from its metadata alone (no pixels read)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from unet_studio.models.size_text import size_text

HELP = "show shape, axes, dtype, pixel sizes and size on disk of image files, without reading pixels"

_LAZY_MODES = {
    "memmap": "yes (memory-mapped)",
    "chunked": "yes (chunks decoded on access)",
    "per-file": "yes (one file per plane, read on access)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="TIFF / OME-TIFF / OME-Zarr / PNG / JPEG file, a folder of TIFFs, or a "
                             "quoted glob")
    parser.add_argument("--axes", default=None,
                        help="axes to assume instead of the file's, e.g. TYX (letters from TZCYX)")
    parser.add_argument("--series", type=int, default=None, metavar="N",
                        help="which image of a multi-series TIFF or of a bioformats2raw OME-Zarr "
                             "to describe, counting from 1 (1 = the first, as 'predict' counts)")


def run(args: argparse.Namespace) -> int:
    from unet_studio.app.errors import InputFileError, UserError

    series = getattr(args, "series", None)
    if series is not None and series < 1:
        raise UserError(f"--series counts from 1 (the first image of a file), got {series}")
    failed = 0
    for index, name in enumerate(args.files):
        try:
            text = describe(name, axes=args.axes, series=None if series is None else series - 1)
        except InputFileError as error:
            if len(args.files) == 1:
                raise
            print(f"unet-studio: error: {error}", file=sys.stderr)
            failed += 1
            continue
        print(("\n" if index else "") + text)
    return 2 if failed else 0


def describe(name: str | Path, *, axes: str | None = None, series: int | None = None) -> str:
    """A few lines about one stack, computed from metadata only. ``series`` (from 0): the
    image of a multi-series file to describe (None: the first)."""
    from unet_studio.app.io import open_stack

    with open_stack(name, axes=axes, series=series or 0) as stack:
        meta = stack.metadata
        lines = [
            str(stack.path),
            f"  format:       {meta.get('format', '?')}",
            f"  shape:        {' x '.join(str(n) for n in stack.shape)}",
            f"  axes:         {stack.axes}{_axes_note(meta, stack.axes)}",
            f"  dtype:        {stack.dtype}{_dtype_note(meta, stack)}",
            f"  pixel sizes:  {_pixel_sizes(stack)}",
            f"  size on disk: {_sizes(stack)}",
            f"  opens lazily: {_LAZY_MODES.get(meta.get('lazy_mode'), 'yes' if stack.lazy else 'no')}",
        ]
        if stack.levels:
            shapes = ", ".join("x".join(str(n) for n in level.shape) for level in stack.levels)
            lines.append(f"  pyramid:      {len(stack.levels)} levels ({shapes})")
        if meta.get("kind"):
            lines.append(f"  content:      {_content(meta)} (written by unet-studio)")
        if meta.get("series_count", 1) > 1:
            lines.append(f"  series:       {_series(meta, chosen=series is not None)}")
        if meta.get("format") == "tiff-series":
            lines.append(f"  files:        {len(meta['files'])}")
        return "\n".join(lines)


def _series(meta: dict, *, chosen: bool) -> str:
    """Which image of a multi-series file is described, and how to see another."""
    shown = f"{meta['series'] + 1} of {meta['series_count']}"
    return f"{shown} (chosen with --series)" if chosen else f"{shown} (first shown; --series N for another)"


def _content(meta: dict) -> str:
    """What our writer recorded: the kind, and for a class map (labels whose values are a
    semantic model's classes, not objects) its classes in value order."""
    names = meta.get("class_names")
    if meta["kind"] == "labels" and names:
        values = ", ".join(f"{value} {name}" for value, name in enumerate(names))
        return f"class map of {len(names)} classes: {values}"
    return meta["kind"]


def _axes_note(meta: dict, axes: str) -> str:
    notes = []
    source = meta.get("axes_source")
    if source == "guessed":
        notes.append("guessed: the file does not name them; use --axes to set them")
    elif source == "user":
        notes.append("set by --axes")
    stored = meta.get("stored_axes")
    if stored and stored != axes:  # (every stack is shown, segmented and written T Z C Y X)
        notes.append(f"stored {stored} in the file")
    return f"  ({'; '.join(notes)})" if notes else ""


def _dtype_note(meta: dict, stack) -> str:
    file_dtype = meta.get("file_dtype")
    if file_dtype == "bool":
        return "  (1-bit mask in the file, read as 0/1)"
    notes = []
    # (samples per pixel: colours only when there are 3 or 4 of them; none once --axes read
    # them as another axis)
    if meta.get("rgb") and "C" in stack.sizes:
        samples = stack.sizes.get("C", 0)
        notes.append("RGB(A) colours as channels C" if samples in (3, 4)
                     else f"{samples} samples per pixel as channels C")
    return f"  ({'; '.join(notes)})" if notes else ""


def _sizes(stack) -> str:
    """The file's size and the stack's pixels uncompressed; for a multi-series file, which
    is which (the file holds every series, the pixels are the shown series')."""
    on_disk = size_text(size_on_disk(stack))
    pixels = size_text(stack.data.size * stack.dtype.itemsize)
    count = stack.metadata.get("series_count", 1)
    if count > 1:
        shown = stack.metadata.get("series", 0) + 1
        return (f"{on_disk} (the whole file, {count} series; series {shown} uncompressed "
                f"{pixels})")
    return f"{on_disk} (uncompressed {pixels})"


def _pixel_sizes(stack) -> str:
    parts = []
    for axis in stack.axes:
        unit = stack.units.get(axis)
        if axis == "C" or unit is None:
            continue
        if unit == "pixel":
            parts.append(f"{axis} unknown")
        else:
            symbol = "s" if unit == "second" else "µm"
            parts.append(f"{axis} {stack.scale[axis]:.6g} {symbol}")
    return ", ".join(parts)


def size_on_disk(stack) -> int:
    """Bytes used by the stack's file, folder or series of files."""
    files = stack.metadata.get("files")
    if files:
        return sum(os.path.getsize(f) for f in files)
    path = Path(stack.path)
    if path.is_dir():
        return sum(os.path.getsize(os.path.join(root, f)) for root, _, names in os.walk(path) for f in names)
    return path.stat().st_size

