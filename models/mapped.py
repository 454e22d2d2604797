"""Keeping memory-mapped inputs and outputs from filling the process's resident memory.

Reading a stack through ``np.memmap`` maps every page it touches into the process, and
writing an output memmap keeps dirty pages resident: streaming a 4 GB stack would end with
gigabytes of resident pages although each tile is needed once. Every so often the tiler tells
the kernel it no longer needs the mapping (``MADV_DONTNEED``); the data stay in the file and
the page cache, and the process's RSS drops.
"""

from __future__ import annotations

import logging
import mmap

import numpy as np

log = logging.getLogger(__name__)

RELEASE_EVERY_BYTES = 256 * 2**20


def is_shared_memmap(array) -> bool:
    """Is ``array`` a ``np.memmap`` of a shared file mapping (whose pages can be released)?"""
    return isinstance(array, np.memmap) and getattr(array, "mode", "c") not in ("c", "copyonwrite")


def release_pages(array) -> bool:
    """Drop the resident pages of ``array`` if it is a shared (not copy-on-write) ``np.memmap``.

    For a shared file mapping this loses nothing: written pages stay in the page cache and
    reach the file as usual; the next access maps them again.
    """
    if not is_shared_memmap(array):
        return False
    mapping = getattr(array, "_mmap", None)  # numpy keeps the mmap object of the base here
    advise = getattr(mmap, "MADV_DONTNEED", None)
    if mapping is None or advise is None or not hasattr(mapping, "madvise"):
        return False
    try:
        mapping.madvise(advise)
    except (OSError, ValueError) as error:  # a closed mapping: nothing left to release
        log.debug("could not release mapped pages: %s", error)
        return False
    return True


class PageReleaser:
    """Calls ``release_pages`` on ``arrays`` after every ``every_bytes`` of tiles processed."""

    def __init__(self, *arrays, every_bytes: int = RELEASE_EVERY_BYTES):
        self.arrays = [a for a in arrays if is_shared_memmap(a)]
        self.every_bytes = every_bytes
        self.pending = 0

    def add(self, array) -> None:
        """Release ``array``'s pages too (a working array made later, e.g. in a scratch file)."""
        if is_shared_memmap(array):
            self.arrays.append(array)

    def tick(self, nbytes: int) -> None:
        if not self.arrays:
            return
        self.pending += nbytes
        if self.pending >= self.every_bytes:
            self.release()

    def release(self) -> None:
        for array in self.arrays:
            release_pages(array)
        self.pending = 0


def copy_in_slabs(target, source, prefix: tuple = (), *, slab_bytes: int = 64 << 20) -> None:
    """``target[(*prefix, ...)] = source`` a slab of leading-axis planes at a time (``prefix``:
    leading indices of ``target``, e.g. a time point), handing back the
    mapped pages of both as it goes: one assignment of a memory-mapped whole stack into
    another (the labels of a stack into a streamed output file) would first make every page
    of both resident. ``target`` may be anything that takes slices (a Zarr array)."""
    source_shape = tuple(source.shape)
    if not source_shape:
        target[(*prefix, Ellipsis)] = source
        return
    plane = max(1, int(np.prod(source_shape[1:], dtype=np.int64)) * np.dtype(source.dtype).itemsize)
    step = max(1, slab_bytes // plane)
    pages = PageReleaser(target, source)
    for start in range(0, source_shape[0], step):
        target[(*prefix, slice(start, start + step))] = source[start:start + step]
        pages.release()
