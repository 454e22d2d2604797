"""Which planes of a memory-mapped array can hold anything but zeros, asked of its file.

A stack's labels too big for RAM live in a scratch file (``models.scratch``) whose space is
reserved but never written: the file system keeps it as holes (or unwritten extents), which
read as zeros. Reading them to learn that they are zeros cost a run on a 20 GB stack minutes
and 17 GiB of page cache. The file system answers the same question from its metadata:
``lseek(fd, pos, SEEK_DATA)`` gives the next byte at or after ``pos`` that is not a hole
(ENXIO: none), in microseconds. Pages written through a mapping and not yet on disk count as
data (the kernel checks its page cache), and so do zero pages it read ahead: the answer may
say "data" for zeros, never "hole" for data.

Linux only (``/proc/self/maps`` tells which file, at which offset, backs an address); where
anything is unknown (no file mapping, a private copy-on-write mapping, no SEEK_DATA, any
OSError) the answer is None and callers read the pixels as before.
"""

from __future__ import annotations

import errno
import mmap
import os

import numpy as np

# Set to "0" to never trust the file's holes (a file system that reports them wrongly).
HOLE_CHECK_ENV = "UNET_STUDIO_HOLE_CHECK"

_MAPS = "/proc/self/maps"
_FDS = "/proc/self/fd"


def data_planes(array) -> np.ndarray | None:
    """Per index along axis 0 of ``array``: False where all of that plane's bytes lie in holes
    of the file mapped under it (zeros: no need to read them), True where they may hold data.
    None when unknown (not a shared file mapping, no hole support, or any error): read."""
    if os.environ.get(HOLE_CHECK_ENV, "1").strip() == "0":
        return None
    if not isinstance(array, np.ndarray) or array.ndim == 0 or array.size == 0:
        return None
    if not hasattr(os, "SEEK_DATA") or not _mapped_shared(array):
        return None
    try:
        backing = _backing_file(_byte_bounds(array))
        if backing is None:
            return None
        fd, to_file = backing
        try:
            return _planes_with_data(array, fd, to_file)
        finally:
            os.close(fd)
    except OSError:
        return None


def known_empty(array) -> bool:
    """Is ``array`` known to hold zeros only, all of it in holes of its file? False when it
    may hold data or that is unknown. No pixel is read."""
    planes = data_planes(array)
    return planes is not None and not planes.any()


def _mapped_shared(array: np.ndarray) -> bool:
    """Does ``array`` (or what it views) own a file mapping whose writes reach the file? A
    copy-on-write memmap (mode "c") keeps its writes in memory: its file's holes say nothing."""
    owner = array
    while isinstance(owner, np.ndarray):
        if isinstance(owner, np.memmap) and getattr(owner, "mode", None) == "c":
            return False
        owner = owner.base
    return isinstance(owner, mmap.mmap)


def _byte_bounds(array: np.ndarray) -> tuple[int, int]:
    """The addresses of ``array``'s first and one past its last byte (any strides)."""
    start = array.__array_interface__["data"][0]
    low, high = _extent(array.shape, array.strides)
    return start + low, start + high + array.itemsize


def _extent(shape, strides) -> tuple[int, int]:
    """Offsets of the lowest and highest element from the first one, for these strides."""
    low = sum((n - 1) * s for n, s in zip(shape, strides) if s < 0)
    high = sum((n - 1) * s for n, s in zip(shape, strides) if s > 0)
    return low, high


def _backing_file(bounds: tuple[int, int]):
    """``(fd, to_file)`` for the shared file mapping that holds every address of ``bounds``:
    a new read-only descriptor of that file (the caller closes it) and ``to_file(address)``,
    the file position of an address. None when no single shared file mapping holds them."""
    low, high = bounds
    areas = []
    with open(_MAPS) as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            start, stop = (int(part, 16) for part in fields[0].split("-"))
            if stop > low and start < high:
                areas.append((start, stop, fields[1], int(fields[2], 16), fields[3], int(fields[4])))
    areas.sort()
    if not areas or areas[0][0] > low or areas[-1][1] < high:
        return None
    first_start, _, _, first_offset, device, inode = areas[0]
    reach = first_start
    for start, stop, perms, offset, dev, ino in areas:
        # (one file, shared, without gaps, its pages in file order: a mapping split in parts)
        if (start != reach or "s" not in perms or (dev, ino) != (device, inode) or inode == 0
                or offset - first_offset != start - first_start):
            return None
        reach = stop
    fd = _open_same_file(device, inode)
    if fd is None:
        return None
    return fd, lambda address: first_offset + (address - first_start)


def _open_same_file(device: str, inode: int) -> int | None:
    """A new read-only descriptor of the file ``device`` ("major:minor", hex) ``inode``, found
    among this process's open files (the mapping keeps one open, even when the file is
    deleted, as scratch files are). A new open file, not a dup: seeking it moves no one
    else's file position."""
    major, minor = (int(part, 16) for part in device.split(":"))
    wanted = (os.makedev(major, minor), inode)
    for name in os.listdir(_FDS):
        path = os.path.join(_FDS, name)
        try:  # (stat first: opening a pipe or a device found there could block or act)
            status = os.stat(path)
            if (status.st_dev, status.st_ino) != wanted:
                continue
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        try:  # (the number may have been closed and reused meanwhile: the file, checked)
            checked = os.fstat(fd)
            same = (checked.st_dev, checked.st_ino) == wanted
        except OSError:
            same = False
        if same:
            return fd
        os.close(fd)
    return None


def _planes_with_data(array: np.ndarray, fd: int, to_file) -> np.ndarray:
    """True per plane of ``array`` whose file bytes (``to_file``: address to file position)
    meet data. One lseek per plane with data, none for a plane before the next data known."""
    start = array.__array_interface__["data"][0]
    low, high = _extent(array.shape[1:], array.strides[1:])
    found = np.zeros(array.shape[0], bool)
    asked, answer = None, None  # (the last position asked and its next data: none between)
    for plane in range(array.shape[0]):
        first = to_file(start + plane * array.strides[0] + low)
        end = to_file(start + plane * array.strides[0] + high + array.itemsize)
        if asked is None or not asked <= first <= answer:
            asked, answer = first, _next_data(fd, first)
        found[plane] = answer < end
    return found


def _next_data(fd: int, position: int) -> float:
    """The file position of the first data byte at or after ``position``; inf when none."""
    try:
        return os.lseek(fd, position, os.SEEK_DATA)
    except OSError as error:
        if error.errno == errno.ENXIO:
            return float("inf")
        raise
