"""Atomic file writes: a temp file in the same folder, flushed, then ``os.replace``.

A reader therefore sees the old file or the new one, never a half-written one, even when the
process is killed mid-write. Temp names start with ``.tmp-`` so that a store can sweep
leftovers from a killed writer (:func:`remove_stale_temps`). Nothing here pickles.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from unet_studio.models.files import TEMP_PREFIX, atomic_write_bytes, remove_stale_temps

__all__ = ["TEMP_PREFIX", "atomic_write_bytes", "atomic_write_json", "load_npz", "npz_bytes",
           "remove_stale_temps"]

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
