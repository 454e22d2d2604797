"""Pixels napari can paint: what a labels file opens as, writable (Qt- and napari-free).

The reader hands napari image stacks lazily (a read-only memory map, or a ``LazyArray`` that
decodes the planes shown), which napari's Labels layer cannot write to: its brush raised
"'LazyArray' object does not support item assignment" and a read-only map fails as soon as
the layer is drawn. Labels are there to be corrected, so a labels file opens as

1. an ordinary array in memory when it takes under a quarter of the memory available;
2. else, for an uncompressed TIFF, a private (copy-on-write) memory map of the file: the
   pages stay on disk until painted, and painting never changes the file;
3. else a working file (``models.scratch``) it is copied into, plane by plane, so that
   memory stays bounded while the whole stack can be painted;
4. else (no room on disk either) as it opened, read-only, with a note saying so and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unet_studio.app.io.validate import available_memory
from unet_studio.models.size_text import size_text

MEMORY_SHARE = 4  # labels go to memory when they take under 1/MEMORY_SHARE of what is free
READ_SLAB_BYTES = 64 * 2**20  # a memory map read into memory: its pages handed back this often


@dataclass(frozen=True)
class Editable:
    """``data``: the array for napari; ``note``: why it is still read-only (None when it is
    writable), a sentence naming the file."""

    data: object
    note: str | None = None


def fits_in_memory(nbytes: int) -> bool:
    """Whether ``nbytes`` may be held in memory (under a quarter of what is available; when
    that is not known, within the working-array limit of ``models.scratch``)."""
    from unet_studio.models.scratch import ram_limit

    available = available_memory()
    return nbytes <= (ram_limit() if available is None else available // MEMORY_SHARE)


def is_read_only_map(data) -> bool:
    """A read-only memory map of a file (an uncompressed TIFF), which ``open_stack`` with
    ``copy_on_write`` maps writable instead."""
    return isinstance(data, np.memmap) and not data.flags.writeable


def editable_labels(data, path: str | Path) -> Editable:
    """``data`` (an opened labels stack's array, or a channel view of it; shape as given) as
    an array napari can paint, by the first of the ways in the module's docstring that
    works. ``path``: the file, named in the note."""
    if isinstance(data, np.ndarray) and data.flags.writeable:
        return Editable(data)  # (in memory already, or a copy-on-write map)
    dtype = np.dtype(data.dtype)
    nbytes = int(np.prod(data.shape, dtype=np.int64)) * dtype.itemsize
    if fits_in_memory(nbytes):
        return Editable(_read_whole(data))
    try:
        return Editable(_copied_to_working_file(data))
    except (OSError, ValueError, MemoryError) as error:  # (a full disk, a scratch folder unset)
        reason = getattr(error, "strerror", None) or str(error)  # (an OSError's: no errno)
        available = available_memory()
        memory = "" if available is None else f", {size_text(available)} of memory available"
        return Editable(data, f"{path} is open read-only, so its labels cannot be painted: "
                              f"they take {size_text(nbytes)}{memory}, and copying them to a "
                              f"working file failed ({reason}). Free memory or disk space and "
                              f"open it again (or save it uncompressed, which is painted in "
                              f"place without changing the file).")


def _read_whole(data) -> np.ndarray:
    """All of ``data`` in memory, writable (a lazy array's read is fresh, but may be a
    cached chunk, which is read-only). A memory map is copied a slab at a time, its mapped
    pages handed back after each: ``np.array`` of it kept every page of the file mapped
    beside the copy, twice the file in resident memory (3.8 GB for a 1.5 GiB class map)."""
    if isinstance(data, np.ndarray):  # (a view of a read-only memory map)
        from unet_studio.models.mapped import copy_in_slabs

        whole = np.empty(data.shape, data.dtype)
        copy_in_slabs(whole, data, slab_bytes=READ_SLAB_BYTES)
        return whole
    pixels = np.asarray(data)
    return pixels if pixels.flags.writeable else pixels.copy()


def _copied_to_working_file(data) -> np.ndarray:
    """``data`` copied into a memory-mapped working file, a slab of planes at a time (the
    file's space reserved first: DiskSpaceError, an OSError, when there is no room)."""
    from unet_studio.models.mapped import copy_in_slabs
    from unet_studio.models.scratch import scratch_zeros

    target = scratch_zeros(tuple(data.shape), data.dtype, ram_bytes=0)  # (0: always a file)
    copy_in_slabs(target, data)
    return target
