"""Whether an image's axes were guessed (its file does not name them), for the Segment
panel to say so as ``unet-studio predict`` does: a plain multi-page TIFF of a time-lapse is
read as a Z stack, and segmented as one volume without a word. Qt-free.

A host that knows may answer itself (``image_axes_guessed(name)``); otherwise the image's
file is opened as our reader opens it (metadata only, ``open_stack``) and its axes were
guessed when the reader guessed them and the image has those axes: our reader's layers
carry them (a channel layer without C), and napari's own reader falls back on the same
guess by the number of dimensions (``plugins.napari_tools.layer_axes``). Axes the user set
(other letters) are no guess.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def axes_guessed(host, image) -> bool:
    """Whether ``image`` (a HostImage) has axes that its file does not name."""
    asked = getattr(host, "image_axes_guessed", None)
    if callable(asked):
        return bool(asked(image.name))
    source = host.image_source(image.name) if hasattr(host, "image_source") else None
    return bool(source) and file_axes_guessed(source, image.axes)


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
