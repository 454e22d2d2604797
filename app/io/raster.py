"""PNG and JPEG images: grey, RGB or RGBA planes, as brightfield and H&E images are often
saved. napari opens them with its own reader (an RGB layer); ``unet-studio predict`` reads
them here so that the same file segments the same way on the command line.

They are read whole with imageio (a dependency of napari and scikit-image): their codecs
cannot read part of an image, and such files are a few megapixels at most. An RGB(A) image
keeps its colours as a last C axis (``"YXC"``, ``metadata["rgb"]``), as an RGB TIFF does;
a grey image with alpha keeps its grey values (alpha is no signal).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from unet_studio.app.errors import InputFileError
from unet_studio.app.io.axes import default_scale_and_units
from unet_studio.app.io.stack import Stack
from unet_studio.app.io.validate import check_dtype, check_regular_file

RASTER_SUFFIXES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}
# First bytes of each format: a PNG saved or renamed as .tif is still a PNG.
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"))
_CODEC_SUFFIXES = {"png": ".png", "jpeg": ".jpg"}

log = logging.getLogger(__name__)


def raster_format(path: Path) -> str | None:
    """"png" or "jpeg" from the file's name, else from its first bytes (a PNG renamed .tif
    is read as the PNG it is); None for anything else (a TIFF)."""
    by_name = RASTER_SUFFIXES.get(path.suffix.lower())
    if by_name is not None:
        return by_name
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError:  # (the TIFF opener says what is wrong with the file)
        return None
    by_content = next((fmt for magic, fmt in _SIGNATURES if head.startswith(magic)), None)
    if by_content is not None:
        log.info("%s: a %s image under another name; read as %s", path, by_content.upper(),
                 by_content.upper())
    return by_content


def open_raster(path: Path, fmt: str) -> Stack:
    """The pixels of a PNG or JPEG file (read now: ``lazy`` is False)."""
    check_regular_file(path)
    try:
        import imageio.v3 as iio

        # (by its format, not its name: imageio picks a codec by suffix)
        data = np.asarray(iio.imread(path, extension=_CODEC_SUFFIXES[fmt]))
    except Exception as error:  # (imageio raises many types for damaged files)
        raise InputFileError(path, f"is not a readable {fmt.upper()} image ({error})") from error
    data = np.asarray(data, dtype=check_dtype(path, data.dtype))
    if data.ndim == 3 and data.shape[-1] in (1, 2):  # grey, grey + alpha
        data = data[..., 0]
    if data.ndim == 2:
        axes = "YX"
    elif data.ndim == 3 and data.shape[-1] in (3, 4):
        axes = "YXC"
    else:
        raise InputFileError(path, f"holds an image of shape {data.shape}; a {fmt.upper()} "
                                   "image of one plane (grey, RGB or RGBA) was expected")
    data.setflags(write=False)  # (like a TIFF's memory map: to_numpy copies)
    scale, units = default_scale_and_units(axes)
    metadata = {"format": fmt, "file_axes": axes, "axes_source": "file", "series_count": 1,
                "series": 0, "rgb": axes == "YXC", "file_dtype": str(data.dtype)}
    return Stack(path=path, name=path.stem, data=data, axes=axes, scale=scale, units=units,
                 lazy=False, metadata=metadata)
