"""Continuous saving of one live label array (corrections or a prediction) of a project.

The viewer owns the live array. After each change the caller reports where it changed
(:meth:`LiveArraySaver.record_edit`, :meth:`LiveArraySaver.mark_dirty`); the saver copies
only the chunks involved (a few MB at most for a 2D edit, i.e. a millisecond or two) and
hands them to the autosave thread, which compresses and writes them atomically. Pending
chunks of one array are merged (a newer copy of a chunk replaces an older one), and a failed
write is put back under any newer copies so that nothing is lost or rolled back.

While a Segment run streams provisional tiles into a live array, its saves read what the
run's Cancel would leave instead (:func:`save_through`): a kill mid-run (a crash, a power
cut) then leaves none of the unfinished run's tiles in the project as the user's labels.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

import numpy as np

from unet_studio.app.autosave import AutosaveWriter
from unet_studio.app.chunk_store import (
    LAZY_SNAPSHOT_BYTES,
    ChunkKey,
    ChunkStore,
    all_chunk_keys,
    chunk_keys_in_region,
    chunk_shape_for,
    snapshot_bytes,
    snapshot_chunks,
)
from unet_studio.app.label_edit import LabelEdit
from unet_studio.app.project_merge import ChangedPixels, DiskState, merge_saved_chunks

# Live arrays whose saves read through another source (``save_through``): (the array, the
# source's reading method), both held weakly: a run dropped without ending its stand-in
# keeps neither its labels nor its backup alive, and its entry lapses.
_SOURCES: list[tuple[weakref.ref, weakref.WeakMethod]] = []
_SOURCES_LOCK = threading.Lock()

BoxReader = Callable[[tuple[slice, ...]], np.ndarray]


def save_through(array: np.ndarray, read: BoxReader) -> None:
    """From now on every save of ``array`` (a live array, by any LiveArraySaver, lazy
    snapshots queued before now included) writes ``read(box)`` for a box it saves (a slice
    per axis; a copy of the values to save there) instead of ``array[box]``: a run
    streaming provisional labels into it has its saves hold what its Cancel would leave
    (``LiveLabelsDestination.saved_values``). ``read``: a bound method (held weakly)."""
    with _SOURCES_LOCK:
        _SOURCES[:] = [(a, r) for a, r in _live_sources() if a() is not array]
        _SOURCES.append((weakref.ref(array), weakref.WeakMethod(read)))


def save_as_is(array: np.ndarray, read: BoxReader) -> None:
    """Saves of ``array`` read it again, unless another reader than ``read`` took over
    (undoes :func:`save_through`)."""
    with _SOURCES_LOCK:
        _SOURCES[:] = [(a, r) for a, r in _live_sources() if not (a() is array and r() == read)]


def _live_sources() -> list[tuple[weakref.ref, weakref.WeakMethod]]:
    """The entries of ``_SOURCES`` whose array and source are both alive (under its lock)."""
    return [(a, r) for a, r in _SOURCES if a() is not None and r() is not None]


def _source_of(array: np.ndarray) -> BoxReader | None:
    with _SOURCES_LOCK:
        for held, read in _SOURCES:
            if held() is array:
                return read()
    return None


class _SavedArray:
    """What the saves of a live array read, a box at a time (``snapshot_chunks``): the array
    itself, or its source (:func:`save_through`), looked up at each read, so that a lazy
    snapshot queued before a run started or ended reads what is saved then."""

    def __init__(self, array: np.ndarray):
        self.array, self.shape, self.dtype = array, array.shape, array.dtype

    def __getitem__(self, box: tuple[slice, ...]) -> np.ndarray:
        read = _source_of(self.array)
        return self.array[box] if read is None else read(box)


class _Pending:
    """Chunk snapshots waiting to be written, for one array shape and dtype."""

    def __init__(self, shape, dtype, complete: bool):
        self.shape, self.dtype, self.complete = tuple(shape), np.dtype(dtype), complete
        self.blocks: dict[ChunkKey, np.ndarray] = {}

    def absorb_older(self, older: _Pending) -> None:
        """Put an older, unwritten state underneath this one."""
        if (older.shape, older.dtype) != (self.shape, self.dtype):
            return  # a full replacement with another geometry supersedes it
        self.blocks = {**older.blocks, **self.blocks}
        self.complete = self.complete or older.complete


class LiveArraySaver:
    """Saves one live array to a :class:`ChunkStore` through an :class:`AutosaveWriter`."""

    def __init__(self, store: ChunkStore, writer: AutosaveWriter, key):
        self.store = store
        self.array: np.ndarray | None = None
        self._writer = writer
        self._key = key
        self._lock = threading.Lock()
        self._pending: _Pending | None = None
        # While the project is read-only (another window writes it): what the store held
        # when read here, and the pixels changed here since (see ``merge_saved``).
        self._tracking = False
        self._seen: DiskState | None = None
        self._changes: ChangedPixels | None = None

    def track_changes(self) -> None:
        """Note from now on which pixels change here and what the store held when read, so
        that :meth:`merge_saved` can keep the other window's saves (a read-only opening)."""
        self._tracking = True

    def restore(self) -> tuple[np.ndarray | None, list[str]]:
        """Read the saved array (None if never saved) and adopt it as the live array."""
        if self._tracking:  # (noted before reading: a write in between is merged again)
            self._seen = DiskState.of(self.store)
        array, problems = self.store.read()
        self.array = array
        self._changed(())
        return array, problems

    def attach(self, array: np.ndarray, *, save: bool = True) -> None:
        """Adopt ``array`` as the live array; ``save``: snapshot and save all of it (a new
        prediction, new labels). Costs one copy of the array on the caller's thread (an
        array over ``LAZY_SNAPSHOT_BYTES`` is copied chunk by chunk by the writer instead,
        as are the chunks of any change over it: see ``_queue``)."""
        if self._tracking and self._seen is None:
            self._seen = DiskState.of(self.store)
        self.array = array
        if save or not self._store_matches(array):
            self._changed(None)
            self._queue(all_chunk_keys(array.shape), complete=True)
        else:
            self._changed(())

    def record_edit(self, edit: LabelEdit) -> None:
        """The live array just received ``edit``: save the chunks it touched."""
        if edit.is_empty:
            return
        if self._changes is not None:
            self._changes.add_pixels(edit.indices)
        self._queue_region(edit.bbox)

    def mark_dirty(self, region: tuple[slice, ...] | None = None) -> None:
        """The live array changed inside ``region`` (None: anywhere): save those chunks."""
        self._changed(region)
        self._queue_region(region)

    def merge_saved(self) -> list[tuple[slice, ...]]:
        """The project stopped being read-only: bring what the other window saved meanwhile
        into the live array, except the pixels changed here, and save the merged chunks
        changed here (not the copies taken before). Returns the regions of the live array
        that changed. Stops tracking changes."""
        seen, changes, self._seen, self._changes = self._seen, self._changes, None, None
        self._tracking = False
        if self.array is None:
            return []
        merged = merge_saved_chunks(self.store, seen, self.array, changes)
        if merged:
            with self._lock:
                pending = self._pending
                keys = [] if pending is None or pending.complete else list(pending.blocks)
            if keys:  # (then a newer copy of each chunk replaces the one pending)
                self._queue(keys, complete=False)
        return merged

    def _changed(self, region) -> None:
        """Note a change of the live array inside ``region`` (None: all of it; ``()``:
        nothing, a new live array) while tracking (see :meth:`track_changes`)."""
        array = self.array
        if not self._tracking or array is None:
            return
        if self._changes is None or self._changes.shape != array.shape:
            self._changes = ChangedPixels(array.shape)
        if region != ():
            self._changes.add_region(region)

    def _queue_region(self, region: tuple[slice, ...] | None) -> None:
        array = self._require_array()
        if region is None:
            keys = all_chunk_keys(array.shape)
        else:
            keys = chunk_keys_in_region(tuple(region), chunk_shape_for(array.shape), array.shape)
        self._queue(keys, complete=region is None)

    def _store_matches(self, array: np.ndarray) -> bool:
        try:
            manifest = self.store.manifest()
        except (OSError, ValueError):  # (damaged: saving all of the array replaces it)
            return False
        return (
            manifest is not None
            and tuple(manifest["shape"]) == array.shape
            and manifest["dtype"] == array.dtype.str
        )

    def _require_array(self) -> np.ndarray:
        if self.array is None:
            raise RuntimeError("no live array attached; call attach() or restore() first")
        return self.array

    def _queue(self, keys, complete: bool) -> None:
        """Queue a save of chunks ``keys``: copied now, or over ``LAZY_SNAPSHOT_BYTES`` by
        the writer when it writes them (``snapshot_chunks``). Every change of the live
        array comes here after it is made, so a chunk the writer reads mid-change is queued
        again and written again after that read: the saved array ends as the live one."""
        array = self._require_array()
        lazy = snapshot_bytes(array.shape, array.dtype, keys) > LAZY_SNAPSHOT_BYTES
        blocks = snapshot_chunks(_SavedArray(array), keys, lazy=lazy)
        with self._lock:
            newer = _Pending(array.shape, array.dtype, complete)
            newer.blocks = blocks
            if self._pending is not None:
                newer.absorb_older(self._pending)
            self._pending = newer
        self._writer.submit(self._key, self._write_pending)

    def resubmit(self) -> None:
        """Hand pending chunks to the writer again (kept back by a read-only opening)."""
        with self._lock:
            waiting = self._pending is not None
        if waiting:
            self._writer.submit(self._key, self._write_pending)

    def _write_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is None:
            return
        try:
            if pending.complete:
                self.store.write_generation(pending.shape, pending.dtype, pending.blocks)
            else:
                self.store.write_chunks(pending.shape, pending.dtype, pending.blocks)
        except BaseException:
            with self._lock:
                if self._pending is None:
                    self._pending = pending
                else:
                    self._pending.absorb_older(pending)
            raise
