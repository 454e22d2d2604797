"""Atomic file writes: a temp file in the same folder, flushed, then ``os.replace``.

A reader therefore sees the old file or the new one, never a half-written one, even when the
process is killed mid-write. Temp names start with ``.tmp-`` so that a store can sweep
leftovers from a killed writer (:func:`remove_stale_temps`). Nothing here pickles.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

TEMP_PREFIX = ".tmp-"


def atomic_write_bytes(path: str | Path, data: bytes, *, fsync: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically. ``fsync`` makes it survive a power cut too,
    not just a killed process."""
    path = Path(path)
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            if fsync:
                os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_json(path: str | Path, obj, *, fsync: bool = True) -> Path:
    """Write ``obj`` as indented UTF-8 JSON, atomically."""
    text = json.dumps(obj, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    return atomic_write_bytes(path, text.encode("utf-8"), fsync=fsync)


def npz_bytes(arrays: dict[str, np.ndarray], *, compress: bool = True) -> bytes:
    """The bytes of an ``.npz`` holding ``arrays`` (no object arrays: loading never pickles)."""
    buffer = io.BytesIO()
    for name, array in arrays.items():
        if np.asarray(array).dtype.hasobject:
            raise TypeError(f"array {name!r} has object dtype; refusing to write a pickle")
    (np.savez_compressed if compress else np.savez)(buffer, **arrays)
    return buffer.getvalue()


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` file, read eagerly, never unpickling."""
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def remove_stale_temps(folder: str | Path) -> int:
    """Delete temp files a killed writer left in ``folder`` (recursively); returns how many."""
    count = 0
    for temp in Path(folder).rglob(f"{TEMP_PREFIX}*"):
        if temp.is_file():
            temp.unlink(missing_ok=True)
            count += 1
    return count
