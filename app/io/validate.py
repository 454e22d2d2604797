"""Bad-input detection: every check raises :class:`InputFileError` naming the file and problem.

Checks run on metadata only (file size, magic bytes, declared shapes and dtypes, where the
pixel data lie), so opening stays free of pixel reads. Decisions documented here:

- ``bool`` images are accepted and read as ``uint8`` (0/1), the usual mask convention.
- complex, structured and other non-numeric dtypes are refused.
- NaN/Inf in float images cannot be seen without reading pixels. Segmentation finds them in
  its pass over the pixels for the intensity percentiles (``models.normalize``: left out of
  the percentiles, NaN and -Inf segmented as background, +Inf as bright), and
  ``app.predict_files`` warns naming the file and the count, or refuses an image with no
  finite value at all. :func:`replace_nonfinite` serves whole images read into memory
  (``read_input``): NaN and -Inf become the lowest finite value, +Inf the highest.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from unet_studio.app.errors import InputFileError
from unet_studio.app.io.atomic import abandoned_siblings, put_back_abandoned

log = logging.getLogger(__name__)

_TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_OTHER_FORMATS = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"PK\x03\x04", "a ZIP archive"),
    (b"\x89HDF", "an HDF5 file"), (b"ZISRAWFILE", "a Zeiss CZI file"), (b"GIF8", "a GIF image"),
    (b"BM", "a BMP image"), (b"%PDF", "a PDF document"), (b"\x93NUMPY", "a NumPy .npy file"),
)
# Largest plausible ratio of decoded to encoded bytes for codecs whose worst case is bounded
# (deflate tops out near 1032:1, LZW near 1400:1, PackBits at 64:1), with a margin. A page
# that claims more was mangled (e.g. a corrupted width), and reading it would only allocate
# memory to fill with zeros.
_BOUNDED_CODECS = {5: 4096, 8: 4096, 32946: 4096, 32773: 128}
_SUPPORTED_KINDS = "uifb"


def check_exists(path: Path) -> None:
    """InputFileError unless ``path`` exists. An output missing because its writer was
    killed while replacing it (``atomic.commit``: the previous one renamed aside, the new
    one not yet in) is put back first, the way the next write of it would; when it cannot
    be, the message names the hidden sibling that holds it."""
    if path.exists():
        return
    set_aside = put_back_abandoned(path)
    if set_aside is not None:
        log.warning("%s: put back from %s, where a write killed while replacing it had left it",
                    path, set_aside.name)
        return
    kept = [sibling for sibling, kind in abandoned_siblings(path) if kind == "old"]
    if kept:
        raise InputFileError(path, f"does not exist: a write killed while replacing it left the "
                                   f"previous one beside it as {kept[0].name}, which could not be "
                                   f"renamed back; rename it to {path.name} to open it")
    raise InputFileError(path, "does not exist")


def check_regular_file(path: Path) -> int:
    """The file exists, is a file and is not empty; returns its size in bytes."""
    check_exists(path)
    if not path.is_file():
        raise InputFileError(path, "is not a file")
    size = path.stat().st_size
    if size == 0:
        raise InputFileError(path, "is empty (0 bytes)")
    return size


def check_tiff_signature(path: Path) -> None:
    """Refuse files whose first bytes are not a TIFF header, naming the format if known."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as error:
        raise InputFileError(path, f"cannot be read ({error.strerror or error})") from error
    if head[:4] in _TIFF_MAGICS:
        return
    if len(head) < 8:
        raise InputFileError(path, f"is too short to be a TIFF file ({len(head)} bytes)")
    for magic, name in _OTHER_FORMATS:
        if head.startswith(magic):
            raise InputFileError(path, f"is not a TIFF file: it is {name}")
    raise InputFileError(path, f"is not a TIFF file (it starts with {head[:8]!r})")


def check_dtype(path: Path, dtype) -> np.dtype:
    """The dtype pixels are delivered as: refuse unsupported dtypes, map ``bool`` to ``uint8``."""
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        raise InputFileError(
            path, f"has complex pixels ({dtype}), which cannot be segmented; "
            "save the magnitude or the real part as float32")
    if dtype.kind not in _SUPPORTED_KINDS or dtype.fields is not None:
        raise InputFileError(path, f"has unsupported pixel type {dtype}")
    return np.dtype(np.uint8) if dtype.kind == "b" else dtype.newbyteorder("=")


def check_shape(path: Path, shape: tuple[int, ...]) -> None:
    """Refuse arrays with a zero-sized (or negative) axis."""
    if any(int(n) <= 0 for n in shape):
        raise InputFileError(path, f"has a zero-sized axis (shape {tuple(shape)}); it holds no pixels")


def check_page_data(path: Path, page, file_size: int) -> None:
    """Pixel data of a TIFF page (or frame) must lie inside the file and fit its size."""
    layout = getattr(page, "keyframe", None) or page  # a TiffFrame shares its keyframe's layout
    offsets = np.asarray(page.dataoffsets, dtype=np.int64)
    counts = np.asarray(page.databytecounts, dtype=np.int64)
    expected_chunks = int(np.prod(layout.chunked, dtype=np.int64))
    if offsets.size == 0 or counts.size != offsets.size or expected_chunks != offsets.size:
        raise InputFileError(
            path, f"is corrupt: page {page.index} of size {layout.shape} needs {expected_chunks} "
            f"strips or tiles but lists {offsets.size} offsets and {counts.size} byte counts")
    if (offsets < 0).any() or (counts < 0).any():
        raise InputFileError(path, f"is corrupt: page {page.index} has negative data offsets")
    end = int((offsets + counts).max())
    if end > file_size:
        raise InputFileError(
            path, f"is truncated: page {page.index} needs {end} bytes but the file has {file_size}")
    encoded = int(counts.sum())
    if layout.compression == 1 and layout.bitspersample >= 8 and encoded < layout.nbytes:
        raise InputFileError(
            path, f"is corrupt or truncated: page {page.index} holds {encoded} bytes of pixels, "
            f"its size {layout.shape} needs {layout.nbytes}")
    ratio = _BOUNDED_CODECS.get(int(layout.compression))
    if ratio is not None and layout.nbytes > ratio * encoded + (1 << 20):
        raise InputFileError(
            path, f"is corrupt: page {page.index} claims {layout.shape} pixels but holds only "
            f"{encoded} compressed bytes")


def available_memory() -> int | None:
    """Bytes of memory available to allocate now (Linux ``MemAvailable``), None if unknown."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits_in_memory(path: Path, nbytes: int) -> None:
    """Refuse to read ``nbytes`` into memory when that is more than is available."""
    available = available_memory()
    if available is not None and nbytes > 0.9 * available:
        raise InputFileError(
            path, f"is too large to load into memory ({nbytes / 2**30:.1f} GiB needed, "
            f"{available / 2**30:.1f} GiB available); process it in parts (tiles, slices)")


def replace_nonfinite(data: np.ndarray, path: Path) -> tuple[np.ndarray, int]:
    """Replace NaN/Inf in a float image; returns (data, number replaced). Integers pass through.

    NaN and -Inf become the lowest finite value and +Inf the highest, so they cannot shift the
    percentile normalisation. ``data`` is modified in place when it is writeable.
    """
    if data.dtype.kind != "f":
        return data, 0
    finite = np.isfinite(data)
    count = int(data.size - np.count_nonzero(finite))
    if count == 0:
        return data, 0
    if count == data.size:
        raise InputFileError(path, "has no finite pixel value (all NaN or Inf)")
    low, high = data[finite].min(), data[finite].max()
    if not data.flags.writeable:
        data = data.copy()
    data[np.isnan(data) | np.isneginf(data)] = low
    data[np.isposinf(data)] = high
    log.warning("%s: replaced %d NaN/Inf pixel values with the finite range [%s, %s]",
                path, count, low, high)
    return data, count
