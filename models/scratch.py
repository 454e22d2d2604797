"""Working arrays that may be larger than the memory should hold: in RAM when small, else
in an anonymous temporary file (memory-mapped), so that a stack larger than RAM can be
labelled. The kernel pages such a file in and out as it is used; it is deleted when the
array goes away (on POSIX at once, as the file is unlinked when made).
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

# Above this many bytes a working array goes to a temporary file (environment variable in MiB).
RAM_LIMIT_ENV = "UNET_STUDIO_SCRATCH_RAM_MB"
DEFAULT_RAM_LIMIT = 1 << 30
# Where such files go (default: the system's temporary folder).
SCRATCH_DIR_ENV = "UNET_STUDIO_SCRATCH_DIR"


def ram_limit() -> int:
    """Bytes a working array may take in RAM (``UNET_STUDIO_SCRATCH_RAM_MB``, default 1 GiB)."""
    value = os.environ.get(RAM_LIMIT_ENV)
    if not value:
        return DEFAULT_RAM_LIMIT
    try:
        return int(float(value) * (1 << 20))
    except ValueError:
        raise ValueError(f"{RAM_LIMIT_ENV} must be a number of MiB, got {value!r}") from None


def scratch_zeros(shape: tuple[int, ...], dtype) -> np.ndarray:
    """Zeros of ``shape``: a plain array up to ``ram_limit()`` bytes, else a memory-mapped
    temporary file (a file of zeros costs no disk until written)."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes <= ram_limit() or nbytes == 0:
        return np.zeros(shape, dtype)
    folder = os.environ.get(SCRATCH_DIR_ENV) or None
    handle = tempfile.TemporaryFile(prefix="unet-studio-scratch-", dir=folder)
    return np.memmap(handle, dtype=dtype, mode="w+", shape=tuple(shape))


def is_scratch_file(array) -> bool:
    """Does ``array`` live in a temporary file (made by :func:`scratch_zeros`)?"""
    return isinstance(array, np.memmap)
