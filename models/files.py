"""Atomic file writes shared by the engine and the app: temp file in the same folder, then
``os.replace``, so a reader sees the old file or the new one, never a half-written one, even
when the process is killed mid-write.

Temp names start with ``.tmp-`` so that a store can sweep what a killed writer left behind
(:func:`remove_stale_temps`). Nothing here pickles.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

TEMP_PREFIX = ".tmp-"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[Path], object], *, fsync: bool = True) -> Path:
    """``write(temp_path)`` then rename over ``path``; the temp file is removed on failure.

    ``fsync`` makes the new file survive a power cut, not just a killed process.
    """
    with atomic_writing(path, fsync=fsync) as temp:
        write(temp)
    return Path(path)


@contextmanager
def atomic_writing(path: str | Path, *, fsync: bool = True) -> Iterator[Path]:
    """A temp file next to ``path`` to write in the ``with`` block (a file written bit by bit,
    as a long measurement runs); renamed over ``path`` when the block ends, removed when it
    fails or is left early (a generator closed mid-way: a cancelled run)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
    os.close(fd)
    temp = Path(temp_name)
    try:
        yield temp
        # mkstemp creates 0600; give the file the permissions a plain open() would.
        os.chmod(temp, 0o666 & ~_umask())
        if fsync:
            with open(temp, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes, *, fsync: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda temp: temp.write_bytes(data), fsync=fsync)


def remove_stale_temps(folder: str | Path, *, recursive: bool = True) -> int:
    """Delete temp files a killed writer left in ``folder``; returns how many."""
    folder = Path(folder)
    pattern = f"{TEMP_PREFIX}*"
    found = folder.rglob(pattern) if recursive else folder.glob(pattern)
    count = 0
    for temp in found:
        if temp.is_file():
            temp.unlink(missing_ok=True)
            count += 1
    return count
