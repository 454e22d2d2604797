"""Taking out of the reviewed marks an edit made itself what the user marked or unmarked
explicitly afterwards (Qt-free; ``ReviewedRegions``).

An edit remembers the reviewed pixels it marked itself, so that its undo clears them and its
redo marks them again (``ReviewedRegions.take_back`` / ``put_back``). A later explicit mark
or unmark (a slice, a drawn region) is the user's own decision about those pixels: the undo
or redo of an earlier edit must leave it as it is (QA: delete, mark the slice, undo the
delete: the delete's 24 marks inside the slice were cleared again, and that hole saved). So
an explicit mark takes the pixels it touched out of every edit's remembered marks.
"""

from __future__ import annotations

import numpy as np


def touched_area(region, shape, mask=None) -> tuple[tuple[slice, ...], np.ndarray | None]:
    """(box: a unit-step slice per axis of ``shape``, a bool mask over the box or None: all
    of it) that an explicit mark of ``region`` (a slice, or an int: one index, per axis)
    touched; ``mask``: the pixels of the region marked (None: all), without the axes given
    one index."""
    single = [a for a, r in enumerate(region) if not isinstance(r, slice)]
    if mask is not None and single:  # (a mask of the plane: those axes given one index)
        mask = np.expand_dims(np.asarray(mask, dtype=bool), tuple(single))
    region = tuple(r if isinstance(r, slice) else slice(int(r), int(r) + 1) for r in region)
    if all(r.step in (None, 1) for r in region):
        box = tuple(slice(*r.indices(n)[:2]) for r, n in zip(region, shape))
        box = tuple(slice(s.start, max(s.start, s.stop)) for s in box)
        return box, None if mask is None else np.asarray(mask, dtype=bool)
    # (a strided region: its pixels found in a mask of the whole array; nothing marks so)
    whole = np.zeros(shape, bool)
    whole[region] = True if mask is None else mask
    found = np.nonzero(whole)
    if not found[0].size:
        return tuple(slice(0, 0) for _ in shape), None
    box = tuple(slice(int(i.min()), int(i.max()) + 1) for i in found)
    return box, whole[box]


def without_touched(entries: list, shape, box, touched) -> list:
    """``entries`` (``[(region, new)]``, as ``mark_footprint`` returned them: ``new`` a bool
    mask of the region's shape, or flat C-order indices into it) without the pixels of
    ``box`` (unit-step slices), of it those True in ``touched`` (None: all)."""
    return [(region, _without(region, new, shape, box, touched)) for region, new in entries]


def _without(region, new, shape, box, touched):
    region = tuple(slice(*r.indices(n)[:2]) for r, n in zip(region, shape))
    low = [max(r.start, b.start) for r, b in zip(region, box)]
    high = [min(r.stop, b.stop) for r, b in zip(region, box)]
    if any(h <= lo for lo, h in zip(low, high)):
        return new  # (no pixel in common)
    mine = tuple(slice(lo - r.start, h - r.start) for lo, h, r in zip(low, high, region))
    theirs = tuple(slice(lo - b.start, h - b.start) for lo, h, b in zip(low, high, box))
    if new.dtype == bool:
        if touched is None:
            new[mine] = False
        else:
            new[mine] &= ~touched[theirs]
        return new
    sizes = tuple(r.stop - r.start for r in region)
    where = np.unravel_index(new, sizes)
    inside = np.ones(new.shape, bool)
    for axis, span in enumerate(mine):
        inside &= (where[axis] >= span.start) & (where[axis] < span.stop)
    if touched is not None:
        at = tuple(w[inside] - s.start + t.start for w, s, t in zip(where, mine, theirs))
        inside[inside] = touched[at]
    return new[~inside]
