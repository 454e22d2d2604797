"""Ids of label blocks renamed through one {old id: new id} map (Qt-free).

Label ids are whatever the user's labels hold: an id painted high, or labels imported from
another tool (int32 up to 2**31 - 1, uint32, uint64). A table of every id up to the largest
renamed one renames a block in one pass where ids are small, and holds gigabytes where one
is large (1.5e9 ids: 5.6 GiB of int32 for a block of a hundred pixels). Past a size bounded
by the pixels to rename, the renamed ids are found by a sorted search instead.
"""

from __future__ import annotations

import numpy as np

TABLE_IDS = 1 << 24  # ids in a lookup table at most (64 MiB of int32)


class IdRenames:
    """{old id: new id} made ready for blocks of ``dtype``, to apply to many of them (the
    table, where there is one, is built once). ``pixels``: about how many pixels it will
    rename in all; a table much longer than that costs more than the search it saves."""

    def __init__(self, renames: dict[int, int], dtype, pixels: int):
        dtype = np.dtype(dtype)
        olds = sorted(renames)
        self.old = np.asarray(olds, dtype)  # (sorted: for searchsorted)
        self.new = np.asarray([renames[i] for i in olds], dtype)
        self.top = int(olds[-1]) if olds else 0
        self.table = None
        if olds and self.top < min(TABLE_IDS, 4 * pixels + (1 << 16)):
            self.table = np.arange(self.top + 1, dtype=dtype)
            self.table[self.old] = self.new

    def __bool__(self) -> bool:
        return bool(self.old.size)

    def applied(self, ids: np.ndarray) -> np.ndarray:
        """A renamed copy of ``ids`` (any shape, ``dtype``); ids not renamed stay."""
        if self.table is None:
            hit = np.isin(ids, self.old)
            renamed = ids.copy()
            renamed[hit] = self.new[np.searchsorted(self.old, ids[hit])]
            return renamed
        renamed = self.table[np.clip(ids, 0, self.top)]
        outside = (ids > self.top) | (ids < 0)  # (no table entry: not renamed)
        renamed[outside] = ids[outside]
        return renamed
