"""The planes a streamed run wrote, so that a cancel puts back those and no others.

Putting the whole region back wrote a 20 GB stack's worth of backup (or zeros) over labels
the run had touched a few planes of: a cancel after two minutes took a minute and a half,
and turned the holes of a scratch file into 20 GB of written zeros. The run's writes go
through ``LiveLabelsDestination.__setitem__``, which notes each key here first.
"""

from __future__ import annotations

import operator


class WrittenPlanes:
    """The indices along axis 0 of a region of ``shape`` that writes reached, as sorted
    disjoint ranges (a run's tiles, adjacent or overlapping, merge into few; a preview
    plane written first stays apart from the planes written after it). Empty until
    :meth:`note` is told a write."""

    def __init__(self, shape: tuple[int, ...]):
        self.shape = tuple(shape)
        self.ranges: tuple[tuple[int, int], ...] = ()  # [start, stop) each, sorted, apart

    def note(self, key) -> None:
        """A write to ``region[key]`` is about to happen. Noted before the write, so that a
        reader on another thread that sees the pixels written sees them noted too."""
        start, stop = planes_of(key, self.shape)
        if stop <= start:
            return
        apart = []
        for low, high in self.ranges:
            if high < start or low > stop:
                apart.append((low, high))
            else:  # (touching or overlapping: one range)
                start, stop = min(start, low), max(stop, high)
        # (one assignment: a reader on another thread sees the old ranges or the new)
        self.ranges = tuple(sorted([*apart, (start, stop)]))

    def note_everything(self) -> None:
        """Every plane may have been written (by other means than a noted key)."""
        self.note(Ellipsis)

    def within(self, part: slice) -> list[slice]:
        """The written planes of ``part`` (a slice of step 1 along axis 0 of the region), as
        slices within ``part``; none when none of them was written."""
        if not self.shape:
            return [slice(None)] if self.ranges else []
        first, end, _ = part.indices(self.shape[0])
        found = []
        for low, high in self.ranges:
            low, high = max(first, low), min(end, high)
            if high > low:
                found.append(slice(low - first, high - first))
        return found


def planes_of(key, shape: tuple[int, ...]) -> tuple[int, int]:
    """The range ``[start, stop)`` of indices along axis 0 of an array of ``shape`` that
    ``array[key]`` covers: exact for a slice or an integer there, else all of axis 0 (an
    index array, a mask, a new axis, an ellipsis: rare here, and never too few)."""
    if not shape:
        return 0, 1
    size = shape[0]
    first = key[0] if isinstance(key, tuple) and key else key
    if isinstance(key, tuple) and not key:
        return 0, size
    if isinstance(first, slice):
        steps = range(*first.indices(size))
        return (min(steps), max(steps) + 1) if steps else (0, 0)
    if isinstance(first, bool) or first is None or first is Ellipsis:
        return 0, size
    try:
        index = operator.index(first)
    except TypeError:
        return 0, size
    if not -size <= index < size:
        return 0, size  # (numpy will refuse it: nothing narrower to say)
    index %= size
    return index, index + 1
