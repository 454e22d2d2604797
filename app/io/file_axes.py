"""The axes a TIFF file names, read from its metadata alone (no pixels), for arrays that
came from it by another way (napari's built-in reader gives an array, no axis names).

Guessing from the number of dimensions turns a 3-frame time series (TYX) or a 3-channel
image (CYX) into a Z stack, and labels made for it are then saved as a volume; the file
usually says what its dimensions are (ImageJ hyperstack, OME, tifffile's shaped metadata).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

log = logging.getLogger(__name__)

_TIFF_SUFFIXES = (".tif", ".tiff")


def tiff_axes(path, shape: tuple[int, ...]) -> str | None:
    """Axes over ``"TZCYX"`` (RGB(A) colours as ``C``) of the first image of TIFF ``path``
    in the order the file stores them, when its metadata names every dimension and the
    image has ``shape``; None otherwise (not a TIFF, unreadable, axes not stated, another
    shape: an array made from the file some other way)."""
    if not path or not str(path).lower().endswith(_TIFF_SUFFIXES):
        return None
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    found = _stated_axes(str(path), stat.st_mtime_ns, stat.st_size)
    if found is None or found[1] != tuple(int(n) for n in shape):
        return None
    return found[0]


@functools.lru_cache(maxsize=64)
def _stated_axes(path: str, mtime_ns: int, size: int) -> tuple[str, tuple[int, ...]] | None:
    """(axes, shape) of the file's first series; cached per version of the file (panels ask
    on every refresh). ``mtime_ns`` and ``size`` only key the cache."""
    import tifffile

    from unet_studio.app.io.axes import map_file_axes
    from unet_studio.app.io.tifflog import captured_tifffile_messages

    try:
        with captured_tifffile_messages(), tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            shape = tuple(int(n) for n in series.shape)
            axes, guessed = map_file_axes(Path(path), series.axes, shape)
    except Exception as error:  # (any damage: then the axes are guessed, as before)
        log.debug("%s: no axes from its metadata (%s)", path, error)
        return None
    return None if guessed else (axes, shape)
