"""Decoded chunks of a compressed, chunked array kept for the next reads (a bounded LRU).

Why: a 2D network reads one plane (or one tile of a plane) at a time, but an OME-Zarr
written with 16-plane chunks (``zarr_write.chunk_shape``) must decode all 16 planes of a
chunk to give one of them. Read straight through Zarr, every chunk is decoded again for
each of its planes and for each tile (and halo) that meets it: a prediction over such a
file took twice as long as over one with 1-plane chunks. :class:`CachedChunks` reads whole
chunks, keeps the decoded ones in a :class:`ChunkCache` whose size in bytes is bounded,
and cuts every request out of them; a chunk is then decoded about once per pass as long
as the cache holds the chunks the reads come back to. A plane's tiles meet every chunk
of its slab of planes (16 x 4096 x 4096 uint16 is 512 MiB, more than the cache), so a
prediction orders its tiles chunk by chunk instead (``chunk_grid``, which the engine's
``models.chunk_order`` takes), needing a few chunks held, not a slab. The cache is
shared by the levels of one opened image and emptied when the image is closed. Reads
larger than half the cache, and strided reads (percentile sampling), go straight to the
array: they would only push out what the tiles need.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

import numpy as np

from unet_studio.models.chunk_order import ChunkGrid

CACHE_ENV = "UNET_STUDIO_CHUNK_CACHE_MB"  # per opened image; 0 turns the cache off
DEFAULT_CACHE_BYTES = 256 * 2**20


def cache_bytes_from_environment() -> int:
    """The cache size: ``UNET_STUDIO_CHUNK_CACHE_MB`` (MiB) or 256 MiB."""
    value = os.environ.get(CACHE_ENV)
    if not value:
        return DEFAULT_CACHE_BYTES
    try:
        megabytes = float(value)
    except ValueError:
        raise ValueError(f"{CACHE_ENV} must be a number of MiB, got {value!r}") from None
    if not megabytes >= 0:
        raise ValueError(f"{CACHE_ENV} must be 0 or more MiB, got {value!r}")
    return int(megabytes * 2**20)


class ChunkCache:
    """Least-recently-used decoded chunks, at most ``max_bytes`` in all; thread-safe (the
    viewer and a prediction worker may read the same image at once)."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES):
        self.max_bytes = int(max_bytes)
        self.nbytes = 0  # bytes of the chunks held now
        self.hits = 0
        self.misses = 0
        self._chunks: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._chunks)

    def get(self, key: Hashable, load: Callable[[], np.ndarray]) -> np.ndarray:
        """The chunk under ``key``, decoded by ``load()`` when not held (read-only)."""
        with self._lock:
            chunk = self._chunks.get(key)
            if chunk is not None:
                self._chunks.move_to_end(key)
                self.hits += 1
                return chunk
            self.misses += 1
        # Decoded outside the lock: another thread's read of another chunk need not wait.
        chunk = np.asarray(load())
        chunk.flags.writeable = False  # handed out to many readers: nobody may change it
        if chunk.nbytes <= self.max_bytes:
            self._keep(key, chunk)
        return chunk

    def _keep(self, key: Hashable, chunk: np.ndarray) -> None:
        with self._lock:
            if key in self._chunks:  # decoded by two threads at once: keep one
                return
            self._chunks[key] = chunk
            self.nbytes += chunk.nbytes
            while self.nbytes > self.max_bytes:
                _, dropped = self._chunks.popitem(last=False)
                self.nbytes -= dropped.nbytes

    def clear(self) -> None:
        with self._lock:
            self._chunks.clear()
            self.nbytes = 0


class CachedChunks:
    """A chunked array (``shape``, ``dtype``, ``chunks``, numpy-style indexing, e.g. a Zarr
    array) read chunk by chunk through ``cache``; ``name`` keeps its chunks apart from
    those of other arrays sharing the cache (the levels of a pyramid)."""

    def __init__(self, array, cache: ChunkCache, name: Hashable = 0):
        self.array, self.cache, self.name = array, cache, name
        self.shape = tuple(int(n) for n in array.shape)
        self.dtype = np.dtype(array.dtype)
        self.chunks = tuple(int(c) for c in array.chunks)

    def chunk_grid(self) -> ChunkGrid | None:
        """Its chunks and how many decoded ones the cache holds, for the engine's tile order
        (``models.chunk_order``); None when the cache keeps none (off, or chunks too big)."""
        held = self.cache.max_bytes // (math.prod(self.chunks) * self.dtype.itemsize or 1)
        return ChunkGrid(self.chunks, held=held) if held > 0 else None

    def __getitem__(self, key) -> np.ndarray:
        bounds = _unit_step_bounds(key, self.shape)
        if bounds is None or self._too_big_to_cache(bounds):
            return np.asarray(self.array[key])
        starts, stops, dropped = bounds
        out = np.empty([b - a for a, b in zip(starts, stops)], self.dtype)
        if out.size:
            for index in self._chunk_indices(starts, stops):
                self._copy_chunk_part(index, starts, stops, out)
        return out[tuple(0 if drop else slice(None) for drop in dropped)]

    def _too_big_to_cache(self, bounds) -> bool:
        starts, stops, _ = bounds
        nbytes = math.prod(b - a for a, b in zip(starts, stops)) * self.dtype.itemsize
        return self.cache.max_bytes == 0 or nbytes > self.cache.max_bytes // 2

    def _chunk_indices(self, starts, stops):
        """Grid indices of the chunks meeting the box ``[starts, stops)``."""
        ranges = [range(a // c, -(-b // c)) for a, b, c in zip(starts, stops, self.chunks)]
        return itertools.product(*ranges)

    def _copy_chunk_part(self, index, starts, stops, out: np.ndarray) -> None:
        """Copy the part of chunk ``index`` inside ``[starts, stops)`` into ``out``."""
        origin = [i * c for i, c in zip(index, self.chunks)]
        region = tuple(slice(o, min(o + c, n)) for o, c, n in zip(origin, self.chunks, self.shape))
        chunk = self.cache.get((self.name, index), lambda: self.array[region])
        inside = tuple(slice(max(a, o), min(b, o + c))
                       for a, b, o, c in zip(starts, stops, origin, self.chunks))
        out[tuple(slice(s.start - a, s.stop - a) for s, a in zip(inside, starts))] = \
            chunk[tuple(slice(s.start - o, s.stop - o) for s, o in zip(inside, origin))]


def _unit_step_bounds(key, shape: tuple[int, ...]):
    """``(starts, stops, dropped axes)`` of a key of one int or unit-step slice per axis
    (what ``LazyArray`` passes; missing trailing axes are whole); None for anything else
    (read directly)."""
    key = key if isinstance(key, tuple) else (key,)
    if len(key) > len(shape):
        return None
    key = key + (slice(None),) * (len(shape) - len(key))
    axes = [_axis_bounds(k, n) for k, n in zip(key, shape)]
    if any(axis is None for axis in axes):
        return None
    starts, stops, dropped = (list(values) for values in zip(*axes)) if axes else ([], [], [])
    return starts, stops, dropped


def _axis_bounds(k, n: int) -> tuple[int, int, bool] | None:
    """(start, stop, is an int) of one axis's index; None unless an int or a unit step."""
    if isinstance(k, (bool, np.bool_)):  # (a boolean mask to numpy, not an index)
        return None
    if isinstance(k, (int, np.integer)):
        index = int(k) + n if k < 0 else int(k)
        # Out of range: None, so that the array raises its own error.
        return (index, index + 1, True) if 0 <= index < n else None
    if isinstance(k, slice):
        start, stop, step = k.indices(n)
        return (start, max(start, stop), False) if step == 1 else None
    return None
