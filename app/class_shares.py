"""Each class's share of a class map (a semantic model's labels: value i is class i), as a
run says what it found ("background 71%, mitochondria 9%, membrane 20%") instead of object
counts, which mean nothing for classes. Qt-free: the CLI's "wrote" line uses it, and the
Segment panel's Done line follows the same rule (``app.qt.segment_classes``)."""

from __future__ import annotations

import numpy as np


def count_classes(data, classes: int) -> tuple[int, ...]:
    """The pixels of each class value 0..``classes``-1 in ``data`` (an integer array, in
    memory, memory-mapped or a Zarr array; values past the classes are left out), read block
    by block along the first axis so that a streamed output larger than RAM stays on disk."""
    from unet_studio.models.mapped import release_pages

    counts = np.zeros(classes + 1, np.int64)
    if data.size == 0:
        return tuple(int(n) for n in counts[:classes])
    plane = int(np.prod(data.shape[1:], dtype=np.int64)) * data.dtype.itemsize
    step = max(1, 2**26 // max(1, plane))
    for start in range(0, data.shape[0], step):
        block = np.asarray(data[start:start + step]).ravel()
        counts += np.bincount(np.clip(block, 0, classes).astype(np.intp), minlength=classes + 1)
        release_pages(data)
    return tuple(int(n) for n in counts[:classes])


def class_shares_text(counts, total: int, names) -> str:
    """"background 71%, mitochondria 9%, membrane 20%": each class's ``counts`` out of
    ``total`` pixels, named by ``names``."""
    return ", ".join(f"{name} {percent(count, total)}" for name, count in zip(names, counts))


def percent(count: int, total: int) -> str:
    """'12%', or '<1%' for a class present in a few pixels (not '0%': it is there)."""
    share = 100 * count / max(total, 1)
    return "<1%" if 0 < share < 1 else f"{share:.0f}%"
