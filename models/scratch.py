"""Working arrays that may be larger than the memory should hold: in RAM when small, else
in an anonymous temporary file (memory-mapped), so that a stack larger than RAM can be
labelled. The kernel pages such a file in and out as it is used; it is deleted when the
array goes away (on POSIX at once, as the file is unlinked when made).

Two things keep such a file from failing late. Its disk space is reserved when it is made
(:func:`reserve_space`): a memory-mapped file that cannot get a block when a page is first
written kills the process with SIGBUS, with nothing said and nothing saved; reserved, a full
disk is a clear error before any work. And it goes to a disk-backed folder: where the
system's temporary folder is a RAM file system (tmpfs, as on several Linux distributions),
``/var/tmp`` is used instead, since a file in RAM cannot hold more than RAM.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import numpy as np

from unet_studio.models.size_text import size_text

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


MEMORY_FILE_SYSTEMS = ("tmpfs", "ramfs")
DISK_TEMP_FOLDER = "/var/tmp"  # disk-backed by convention (FHS), kept across reboots


class DiskSpaceError(OSError):
    """Not enough free space for a file the work needs (says where, how much, what to do)."""


def scratch_zeros(shape: tuple[int, ...], dtype, *, ram_bytes: int | None = None) -> np.ndarray:
    """Zeros of ``shape``: a plain array up to ``ram_limit()`` bytes (or ``ram_bytes``, when
    lower: an array kept aside while other work needs the memory), else a memory-mapped
    temporary file in :func:`scratch_folder`, its disk space reserved."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    limit = ram_limit() if ram_bytes is None else min(ram_bytes, ram_limit())
    if nbytes <= limit or nbytes == 0:
        return np.zeros(shape, dtype)
    folder = scratch_folder()
    handle = tempfile.TemporaryFile(prefix="unet-studio-scratch-", dir=folder)
    try:
        reserve_space(handle.fileno(), nbytes, folder, "a working array",
                      hint=f"or set {SCRATCH_DIR_ENV} to a folder on a larger disk")
    except BaseException:
        handle.close()
        raise
    return np.memmap(handle, dtype=dtype, mode="w+", shape=tuple(shape))


def scratch_folder() -> Path:
    """Where working files go: ``UNET_STUDIO_SCRATCH_DIR``, else the temporary folder
    unless it lives in RAM, else ``/var/tmp``."""
    chosen = os.environ.get(SCRATCH_DIR_ENV)
    if chosen:
        if not Path(chosen).is_dir():
            raise ValueError(f"{SCRATCH_DIR_ENV} must name an existing folder, got {chosen!r}")
        return Path(chosen)
    folder = Path(tempfile.gettempdir())
    disk = Path(DISK_TEMP_FOLDER)
    if (file_system_type(folder) in MEMORY_FILE_SYSTEMS and disk.is_dir()
            and os.access(disk, os.W_OK) and file_system_type(disk) not in MEMORY_FILE_SYSTEMS):
        return disk
    return folder


def file_system_type(path, mounts: str | None = None) -> str | None:
    """The type of the file system holding ``path`` ("ext4", "tmpfs", ...) from the Linux
    mount table (``mounts``: its text, for tests); None where there is none."""
    if mounts is None:
        try:
            mounts = Path("/proc/self/mounts").read_text()
        except OSError:
            return None
    target = os.path.realpath(path)
    best, kind = "", None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return kind


def reserve_space(fd: int, nbytes: int, folder, what: str, hint: str = "") -> None:
    """Allocate ``nbytes`` of disk to the open file ``fd`` now (``posix_fallocate``), so that
    writing through a memory map of it later cannot run out of space; where the file system
    cannot reserve, at least check its free space. DiskSpaceError when there is not enough."""
    def short_of_space() -> DiskSpaceError:
        free = _free_bytes(folder)
        have = "" if free is None else f", {size_text(free)} free"
        advice = f"free some space{' ' + hint if hint else ''}"
        return DiskSpaceError(errno.ENOSPC, f"not enough disk space in {folder} for {what} "
                                            f"({size_text(nbytes)}{have}); {advice}")

    allocate = getattr(os, "posix_fallocate", None)
    if allocate is not None:
        try:
            allocate(fd, 0, nbytes)
            return
        except OSError as error:
            if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise short_of_space() from None
            if error.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise
    free = _free_bytes(folder)
    if free is not None and free < nbytes:
        raise short_of_space()


def _free_bytes(folder) -> int | None:
    try:
        stats = os.statvfs(folder)
    except (OSError, AttributeError):
        return None
    return stats.f_bavail * stats.f_frsize


def is_scratch_file(array) -> bool:
    """Does ``array`` live in a temporary file (made by :func:`scratch_zeros`)?"""
    return isinstance(array, np.memmap)
