"""A dask-free lazy array: a view on on-disk pixels that reads only what is indexed.

``LazyArray`` wraps any *source* with ``shape``, ``dtype`` and numpy-style basic indexing (a zarr
array over a TIFF, a series of files, a memory map). Indexing it returns a numpy array holding
just the requested pixels; ``view(key)`` returns another lazy array without reading anything
(used to pick channels, time points and Z ranges). Every failure while reading is reported as
:class:`InputFileError` naming the file, so a corrupt file never surfaces as a traceback.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from unet_studio.app.errors import InputFileError
from unet_studio.app.io.validate import check_fits_in_memory

# Reads above this size are first checked against the memory available (a mangled header can
# claim gigapixels); small reads, such as inference tiles, skip the check.
_CHECK_MEMORY_ABOVE = 64 * 2**20


def _normalise_key(key, ndim: int) -> tuple | None:
    """Expand ``key`` to one int/slice per axis; None when it is not basic indexing."""
    if not isinstance(key, tuple):
        key = (key,)
    if any(k is None or isinstance(k, (list, np.ndarray)) for k in key):
        return None
    if any(not isinstance(k, (int, np.integer, slice, type(Ellipsis))) for k in key):
        return None
    ellipses = sum(k is Ellipsis for k in key)
    if ellipses > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if ellipses:
        at = next(i for i, k in enumerate(key) if k is Ellipsis)
        fill = (slice(None),) * (ndim - len(key) + 1)
        key = key[:at] + fill + key[at + 1:]
    if len(key) > ndim:
        raise IndexError(f"too many indices: array is {ndim}-dimensional, {len(key)} were indexed")
    return key + (slice(None),) * (ndim - len(key))


def _range_to_slice(indices: range) -> slice:
    if not len(indices):
        return slice(0, 0)
    return slice(indices.start, indices.start + len(indices) * indices.step, indices.step)


class LazyArray:
    """Read-on-index view of a source array; shape ``(*kept axes of source)``."""

    def __init__(self, source, path: str | Path, *, selection: tuple | None = None, dtype=None):
        self._source = source
        self._path = Path(path)
        self._selection = selection or tuple(range(n) for n in source.shape)
        self._dtype = np.dtype(dtype if dtype is not None else source.dtype)

    # -- array-like attributes napari and numpy look for ------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(s) for s in self._selection if isinstance(s, range))

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self._dtype.itemsize

    @property
    def path(self) -> Path:
        return self._path

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"LazyArray(shape={self.shape}, dtype={self.dtype}, path={str(self._path)!r})"

    def chunk_grid(self):
        """The source's chunks over this view's axes (a ``models.chunk_order.ChunkGrid``, the
        offset of a view starting inside a chunk included), or None when the source has
        none or the view steps along an axis (strided, flipped): the engine orders its tiles
        by them (``app.predict_files``)."""
        from unet_studio.models.chunk_order import ChunkGrid

        grid = getattr(self._source, "chunk_grid", None)
        grid = grid() if callable(grid) else None
        if grid is None:
            return None
        shape, offset = [], []
        for axis, chosen in enumerate(self._selection):
            if isinstance(chosen, int):
                continue
            if chosen.step != 1 and len(chosen) > 1:
                return None
            shape.append(grid.shape[axis])
            offset.append(grid.offset[axis] + chosen.start)
        return ChunkGrid(tuple(shape), tuple(offset), grid.held)

    # -- views and reads -----------------------------------------------------------------------
    def view(self, key) -> LazyArray:
        """A lazy sub-array for basic indexing ``key`` (ints and slices); reads nothing."""
        normalised = _normalise_key(key, self.ndim)
        if normalised is None:
            raise TypeError("LazyArray.view takes ints, slices and '...' only")
        kept = iter(normalised)
        selection = []
        for axis in self._selection:
            if isinstance(axis, range):
                axis = axis[next(kept)]  # range[int] -> int, range[slice] -> range
            selection.append(axis)
        return LazyArray(self._source, self._path, selection=tuple(selection), dtype=self._dtype)

    def astype(self, dtype) -> LazyArray:
        """A lazy view converting to ``dtype`` on read."""
        return LazyArray(self._source, self._path, selection=self._selection, dtype=dtype)

    def __getitem__(self, key) -> np.ndarray:
        if _normalise_key(key, self.ndim) is None:
            return np.asarray(self)[key]  # fancy indexing: rare, read the view then index
        return self.view(key)._read()

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        data = self._read()
        return data if dtype is None else data.astype(dtype, copy=False)

    def to_numpy(self) -> np.ndarray:
        return self._read()

    def _read(self) -> np.ndarray:
        if self.nbytes > _CHECK_MEMORY_ABOVE:
            check_fits_in_memory(self._path, self.nbytes)
        source_key, flips, kept = [], [], 0
        for axis in self._selection:
            if isinstance(axis, int):
                source_key.append(axis)
                continue
            if axis.step < 0 and len(axis):  # sources take forward steps only: read, then flip
                axis = axis[::-1]
                flips.append(kept)
            source_key.append(_range_to_slice(axis))
            kept += 1
        try:
            data = np.asarray(self._source[tuple(source_key)])
            for axis in flips:
                data = np.flip(data, axis)
            if data.size != self.size:
                raise ValueError(f"the file gave {data.size} values for shape {self.shape}")
            return data.astype(self._dtype, copy=False).reshape(self.shape)
        except InputFileError:
            raise
        except MemoryError as error:
            raise InputFileError(self._path, f"not enough memory to read {self.shape}: {error}") from error
        except Exception as error:  # a decoder or file error: the file is damaged
            raise InputFileError(self._path, f"cannot read pixels ({type(error).__name__}: {error})") from error
