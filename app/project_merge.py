"""Two windows on one project: a read-only opening (``project_lock``) keeps its changes in
memory while the other window saves its own; when that window closes and this one becomes
the writer, the two are merged instead of this window's copy overwriting the other's saves.

- Label arrays (corrections, predictions): the pixels changed here while read-only keep
  this window's values (:class:`ChangedPixels` notes them per chunk, only chunks touched);
  every other pixel takes what is on disk now. Only chunks whose files changed on disk since
  this window read them (:class:`DiskState`) are read, so catching up costs the chunks
  involved, not the stack.
- Reviewed marks: the union of both windows' marks (:func:`merge_reviewed`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unet_studio.app.chunk_store import (
    CHUNK_SUFFIX,
    ChunkKey,
    ChunkStore,
    all_chunk_keys,
    chunk_keys_in_region,
    chunk_region,
    chunk_shape_for,
    decode_chunk,
)
from unet_studio.app.reviewed import ReviewedRegions

log = logging.getLogger(__name__)

FileSignature = tuple[int, int, int]  # (inode, size, mtime ns): atomic writes change it


def file_signature(path: Path) -> FileSignature | None:
    """What tells whether ``path`` was written since (None: no such file)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


class ChangedPixels:
    """The pixels of a label array of ``shape`` that this window changed, per chunk of the
    project's chunk store: a bool mask per chunk touched (``WHOLE`` for a chunk changed
    throughout), or ``everything`` (a new array: a Segment run, new labels)."""

    WHOLE = "whole"

    def __init__(self, shape: tuple[int, ...]):
        self.shape = tuple(shape)
        self.chunks = chunk_shape_for(self.shape)
        self.everything = False
        self._masks: dict[ChunkKey, np.ndarray | str] = {}

    def of_chunk(self, key: ChunkKey) -> np.ndarray | str | None:
        """``WHOLE``, a bool mask of the chunk, or None (nothing changed in it)."""
        return self.WHOLE if self.everything else self._masks.get(key)

    def add_all(self) -> None:
        self.everything = True
        self._masks.clear()

    def add_region(self, region: tuple[slice, ...] | None) -> None:
        """A change anywhere inside ``region`` (None: the whole array)."""
        if region is None:
            self.add_all()
            return
        if self.everything:
            return
        for key in chunk_keys_in_region(tuple(region), self.chunks, self.shape):
            box = chunk_region(key, self.chunks, self.shape)
            local = tuple(slice(max(r.indices(n)[0], b.start) - b.start,
                                min(r.indices(n)[1], b.stop) - b.start)
                          for r, b, n in zip(region, box, self.shape))
            if all(s.start == 0 and s.stop == b.stop - b.start for s, b in zip(local, box)):
                self._masks[key] = self.WHOLE
            else:
                mask = self._mask(key, box)
                if mask is not None:
                    mask[local] = True

    def add_pixels(self, indices: tuple[np.ndarray, ...]) -> None:
        """The pixels at ``indices`` (one int array per axis, as a ``LabelEdit`` has them)."""
        if self.everything or not len(indices[0]):
            return
        chunk_index = [np.asarray(i) // c for i, c in zip(indices, self.chunks)]
        grid = tuple(-(-n // c) for n, c in zip(self.shape, self.chunks))
        ids = np.ravel_multi_index(chunk_index, grid)
        if np.prod(grid) <= 1 << 16:  # (a stable sort of 16-bit numbers is a radix sort: O(N))
            ids = ids.astype(np.uint16)
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        starts = np.concatenate(([0], np.flatnonzero(ids[1:] != ids[:-1]) + 1, [len(ids)]))
        for start, stop in zip(starts[:-1], starts[1:]):
            key = tuple(int(k) for k in np.unravel_index(int(ids[start]), grid))
            box = chunk_region(key, self.chunks, self.shape)
            mask = self._mask(key, box)
            if mask is not None:
                picked = order[start:stop]
                mask[tuple(np.asarray(i)[picked] - b.start for i, b in zip(indices, box))] = True

    def _mask(self, key: ChunkKey, box: tuple[slice, ...]) -> np.ndarray | None:
        """The chunk's mask to mark in (None: changed throughout already)."""
        mask = self._masks.get(key)
        if mask is self.WHOLE:
            return None
        if mask is None:
            mask = self._masks[key] = np.zeros([b.stop - b.start for b in box], dtype=bool)
        return mask


@dataclass(frozen=True)
class DiskState:
    """What a chunk store held when this window read it: its geometry and generation, and
    the signature of each chunk file (missing: background)."""

    generation: str | None
    shape: tuple[int, ...] | None
    dtype: str | None
    files: dict[str, FileSignature]

    @classmethod
    def of(cls, store: ChunkStore) -> DiskState | None:
        """The store's state now (None: unreadable, so nothing can be told from it)."""
        try:
            manifest = store.manifest()
        except (OSError, ValueError):
            return None
        if manifest is None:
            return cls(None, None, None, {})
        files = {}
        for path in (store.directory / manifest["generation"]).glob(f"*{CHUNK_SUFFIX}"):
            signature = file_signature(path)
            if signature is not None:
                files[path.name] = signature
        return cls(manifest["generation"], tuple(manifest["shape"]), manifest["dtype"], files)

    def keys_changed_to(self, now: DiskState) -> list[ChunkKey]:
        """Chunks whose saved pixels may differ in ``now``: the files written or removed
        since, or every chunk after a new generation (a new array was saved)."""
        if (self.generation, self.shape, self.dtype) != (now.generation, now.shape, now.dtype):
            return all_chunk_keys(now.shape)
        names = {name for name in self.files.keys() | now.files.keys()
                 if self.files.get(name) != now.files.get(name)}
        return [tuple(int(k) for k in name[: -len(CHUNK_SUFFIX)].split(".")) for name in names]


def merge_saved_chunks(store: ChunkStore, seen: DiskState | None, array: np.ndarray,
                       changes: ChangedPixels | None) -> list[tuple[slice, ...]]:
    """Bring what was saved to ``store`` since ``seen`` into the live ``array`` in place,
    except the pixels this window changed meanwhile (``changes``). Returns the regions of
    ``array`` that changed. Nothing happens when the store's array has another shape or
    dtype (this window's array then replaces it, as it would have before)."""
    if seen is None or (changes is not None and changes.everything):
        return []
    now = DiskState.of(store)
    if now is None or now.generation is None or now == seen:
        return []
    if (now.shape, now.dtype) != (array.shape, array.dtype.str):
        log.info("%s: saved with another shape meanwhile; this window's array replaces it",
                 store.directory)
        return []
    chunks = chunk_shape_for(array.shape)
    merged = []
    for key in seen.keys_changed_to(now):
        mine = None if changes is None else changes.of_chunk(key)
        if mine is ChangedPixels.WHOLE:
            continue
        region = chunk_region(key, chunks, array.shape)
        path = store.directory / now.generation / (".".join(map(str, key)) + CHUNK_SUFFIX)
        try:
            block = decode_chunk(path.read_bytes()) if path.exists() else None
        except (OSError, ValueError) as error:  # (damaged: this window's pixels stay)
            log.warning("%s: not merged (%s)", path, error)
            continue
        if block is None:
            block = np.zeros(array[region].shape, array.dtype)
        if block.shape != array[region].shape:
            log.warning("%s: not merged (a chunk of shape %s)", path, block.shape)
            continue
        block = block.astype(array.dtype, copy=False)
        if mine is not None:
            block[mine] = array[region][mine]
        if not np.array_equal(block, array[region]):
            array[region] = block
            merged.append(region)
    return merged


def merge_reviewed(regions: ReviewedRegions, path: Path, *, changed_here: bool) -> bool:
    """Bring the reviewed marks saved at ``path`` (by the other window) into ``regions``:
    their union when marks were changed here too (``changed_here``), else the saved marks
    as they are. A mark removed here while read-only comes back when the other window has
    it: the union cannot tell a removal here from a mark added there, and a mark too many
    (the user sees it and can remove it) costs less than one of theirs lost. Returns
    whether ``regions`` changed."""
    try:
        saved = ReviewedRegions.load(path)
    except ValueError as error:  # (unreadable: this window's marks are saved over it)
        log.warning("reviewed marks not merged: %s", error)
        return False
    if saved.shape != regions.shape:
        return False
    for name in ("reviewed", "changed"):
        theirs = getattr(saved, f"_{name}")
        if changed_here:
            if theirs is not None:
                mine = regions._writable(name)  # (the masks themselves: undo marks point in)
                np.logical_or(mine, theirs, out=mine)
        else:
            setattr(regions, f"_{name}", theirs)
    regions.version += 1
    return True
