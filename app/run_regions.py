"""The region of an image's labels a Segment run covered, as its "predict" history entry
records it (Qt-free).

A run may cover the whole image, or only the slice or time point on screen (the Segment
panel's "Run on"). What a review mark teaches depends on whether a run predicted the
region marked (``hand_only_hint``), so the entry says which: ``"region"`` is a
``[start, stop]`` pair per axis of the labels (the image's axes without C), or null when
the run covered all of them. A run over a series stopped with "Stop, keep done" writes one
entry per run of consecutive time points it kept, with ``"stopped": true``. Entries written
before runs recorded a region, and any region that does not fit the labels (another rank,
not pairs of integers), count as the whole image: an old project reads as it did (the image
predicted).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Box = tuple[slice, ...]  # a slice with start and stop per axis of the labels


def region_entry(target: Sequence[slice], shape: Sequence[int]) -> list[list[int]] | None:
    """What a "predict" entry records of a run that filled ``target`` (a slice per axis) of
    labels of ``shape``: ``[[start, stop], ...]``, None when that is all of them."""
    pairs = [list(part.indices(size)[:2]) for part, size in zip(target, shape)]
    if all(start <= 0 and stop >= size for (start, stop), size in zip(pairs, shape)):
        return None
    return pairs


def kept_region_entries(target: Sequence[slice], shape: Sequence[int], axis: int,
                        kept: Iterable[int]) -> list[list[list[int]] | None]:
    """What the "predict" entries of a run over a series stopped with "Stop, keep done"
    record: the region of each run of consecutive time points ``kept`` (counted from the
    start of ``target`` along the T ``axis`` of labels of ``shape``), in time order. One
    entry per run, not one per time point: an hour's time-lapse wrote hundreds of lines."""
    return [region_entry(narrowed_in_time(target, axis, shape[axis], first, stop), shape)
            for first, stop in time_runs(sorted(kept))]


def time_runs(points: Sequence[int]) -> list[tuple[int, int]]:
    """``points`` (sorted) as runs of consecutive time points, ``(first, stop)`` each."""
    runs: list[list[int]] = []
    for t in points:
        if runs and runs[-1][1] == t:
            runs[-1][1] = t + 1
        else:
            runs.append([t, t + 1])
    return [(first, stop) for first, stop in runs]


def narrowed_in_time(target: Sequence[slice], axis: int, size: int, first: int,
                     stop: int) -> Box:
    """``target`` with only its time points ``first``..``stop`` (counted from its start
    along ``axis``, of ``size``)."""
    points = range(*target[axis].indices(size))[first:stop]
    part = slice(points.start, points.stop, points.step)
    return (*target[:axis], part, *target[axis + 1:])


def run_boxes(history: Iterable[dict], image_id: str, shape: Sequence[int]) -> list[Box]:
    """The regions of labels of ``shape`` that the "predict" runs on ``image_id`` in
    ``history`` (a project's entries) covered, oldest first; the whole image for an entry
    without a region (or one that does not fit)."""
    whole = tuple(slice(0, size) for size in shape)
    return [_box(entry.get("region"), shape) or whole for entry in history
            if entry.get("action") == "predict" and entry.get("image") == image_id]


def covers_all(box: Box, shape: Sequence[int]) -> bool:
    return all(part.start <= 0 and part.stop >= size for part, size in zip(box, shape))


def overlaps(box: Box, other: Box) -> bool:
    """Do two boxes (the same rank) share a pixel?"""
    return all(max(a.start, b.start) < min(a.stop, b.stop) for a, b in zip(box, other))


def _box(region, shape: Sequence[int]) -> Box | None:
    """``region`` as read from an entry, as slices clipped to ``shape``; None when there is
    none or it does not fit (the caller reads it as the whole image)."""
    if not isinstance(region, list) or len(region) != len(shape):
        return None
    box = []
    for pair, size in zip(region, shape):
        if (not isinstance(pair, list) or len(pair) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair)):
            return None
        box.append(slice(*slice(*pair).indices(size)[:2]))
    return tuple(box)
