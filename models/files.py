"""Atomic file writes shared by the engine and the app: temp file in the same folder, then
``os.replace``, so a reader sees the old file or the new one, never a half-written one, even
when the process is killed mid-write.

Temp names start with ``.tmp-`` so that a store can sweep what a killed writer left behind
(:func:`remove_stale_temps`). Nothing here pickles.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

TEMP_PREFIX = ".tmp-"
# Room for an output's name inside a temporary name: ext4, XFS, btrfs, APFS and NTFS refuse a
# name over 255 bytes (or characters), so a temporary name that embeds an accepted output
# name whole and adds a prefix, a process id and a random part could be refused.
EMBEDDED_NAME_BYTES = 200
_SUFFIX_BYTES = 32  # the longest output suffix kept on a temporary file's name


def bounded_name(name: str, max_bytes: int = EMBEDDED_NAME_BYTES) -> str:
    """``name`` when its UTF-8 takes at most ``max_bytes``; otherwise its start (whole
    characters) and ``~`` and 8 hex digits of a hash of the whole name. Deterministic, so
    that sweeping the leftovers of one output finds the names its killed writers made."""
    encoded = name.encode("utf-8", "surrogateescape")
    if len(encoded) <= max_bytes:
        return name
    digest = hashlib.sha1(encoded).hexdigest()[:8]
    start = encoded[: max_bytes - len(digest) - 1].decode("utf-8", "ignore")
    return f"{start}~{digest}"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def usual_folder_mode(folder: str | Path) -> None:
    """Give a folder made by ``tempfile.mkdtemp`` (mode 0700: only its owner can list it)
    the mode a plain ``mkdir`` would, before it is renamed into place: a model or export
    in a lab share must be readable by the colleagues it is meant for."""
    os.chmod(folder, 0o777 & ~_umask())


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
    # (the suffix only when short: "a.<250 characters>" has a suffix as long as the name)
    suffix = path.suffix if len(path.suffix.encode("utf-8", "surrogateescape")) <= _SUFFIX_BYTES else ""
    fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=suffix, dir=path.parent)
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
        try:
            temp.unlink(missing_ok=True)
        except OSError:  # (a folder gone read-only: the first error is what to tell)
            pass
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
