"""Whether an image's axes were guessed, for the Segment panel to say so as ``unet-studio
predict`` does: a plain multi-page TIFF of a time-lapse is read as a Z stack, and segmented
as one volume without a word. Qt-free.

Two guesses: by the file, when the image's file does not name its axes (it is opened as
our reader opens it, metadata only, ``open_stack``, and its axes were guessed when the
reader guessed them and the image has those axes: our reader's layers carry them, a
channel layer without C, and napari's own reader falls back on the same guess); and by the
dimensions, when the image has no file (an array added from a script or napari's console,
a pasted layer) and names no axes itself (the host's ``image_named_axes``): a 3D array is
taken for ZYX though it may be TYX or CYX. A 2D one (YX, or YXC in colour) is no guess.
Axes the user set (other letters) are no guess.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

log = logging.getLogger(__name__)

FILE = "file"  # the image's file does not name its axes
DIMENSIONS = "dimensions"  # an array without a file: axes assumed from its number of dimensions


def axes_guess(host, image) -> str | None:
    """How the axes of ``image`` (a HostImage) were guessed: FILE, DIMENSIONS, or None when
    they are named (by its file, its layer, or the user)."""
    source = host.image_source(image.name) if hasattr(host, "image_source") else None
    if source:
        return FILE if file_axes_guessed(source, image.axes) else None
    named = getattr(host, "image_named_axes", None)  # (a host that cannot tell: no guess)
    if callable(named) and named(image.name) is None and _ambiguous(image.axes):
        return DIMENSIONS
    return None


def _ambiguous(axes: str) -> bool:
    """Whether axes assumed by the number of dimensions could be others: 3 or more besides
    colours (ZYX or TYX or CYX ...); one plane (YX, YXC) is what it is."""
    return len(axes.upper().replace("C", "")) >= 3


def file_axes_guessed(path, axes: str) -> bool:
    """Whether the file at ``path`` does not name its axes and was read as ``axes`` (or, a
    channel layer of it, as ``axes`` and C)."""
    try:
        stat = Path(path).stat()
    except OSError:
        return False
    guess = _guessed_axes(str(path), stat.st_mtime_ns, stat.st_size)
    return guess is not None and axes.upper() in (guess, guess.replace("C", ""))


@functools.lru_cache(maxsize=64)
def _guessed_axes(path: str, mtime_ns: int, size: int) -> str | None:
    """The axes our reader guesses for ``path``, None when the file names them (or cannot be
    read: the reader says why when it opens it). Cached per version of the file: the panel
    asks at every change of the layers. ``mtime_ns`` and ``size`` only key the cache."""
    from unet_studio.app.io import open_stack
    from unet_studio.app.io.raster import raster_format

    if Path(path).is_file() and raster_format(Path(path)) is not None:
        return None  # (a PNG or JPEG is a plane or colours: nothing guessed, nothing read)
    try:
        with open_stack(path) as stack:
            guessed = stack.metadata.get("axes_source") == "guessed"
            return stack.axes if guessed else None
    except Exception as error:  # (any damage: nothing to tell here)
        log.debug("%s: axes not checked (%s)", path, error)
        return None
