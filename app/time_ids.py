"""Ids over time where a prediction meets labels it did not write (Qt-free).

The engine gives an object the same id from one time point to the next as it segments a
series (``models.time_links``). Two cases it cannot see: one time point segmented again
on its own (its neighbours hold the ids), and reviewed objects kept through a new run of
the whole series (they hold the ids of the run that made them, or the user's). Here the
new objects take those ids, so colours and tables follow an object across the run's edge.
"""

from __future__ import annotations

import numpy as np

from unet_studio.models.time_links import matched_ids


def _at(region: tuple[slice, ...], axis: int, t: int) -> tuple[slice, ...]:
    """``region`` with time point ``t`` on ``axis``."""
    return (*region[:axis], slice(t, t + 1), *region[axis + 1:])


def continue_neighbour_ids(labels: np.ndarray, target: tuple[slice, ...], kept, axis: int) -> None:
    """``labels[target]`` is one time point just segmented: its new objects (outside
    ``kept``, the reviewed pixels of ``target`` or None) that overlap an object of the time
    point before (else after), where that one has labels, take that object's id. Ids that
    kept objects of this time point hold are not given again."""
    frames = labels.shape[axis]
    start, _, _ = target[axis].indices(frames)
    neighbour = None
    for other in (start - 1, start + 1):
        if 0 <= other < frames and labels[_at(target, axis, other)].any():
            neighbour = labels[_at(target, axis, other)]
            break
    if neighbour is None:
        return
    frame = labels[target]  # (a view: renamed in place)
    new = frame if kept is None else np.where(kept, 0, frame)
    taken = set() if kept is None else set(np.unique(frame[kept]).tolist())
    matches = {a: b for a, b in matched_ids(neighbour, new).items() if b not in taken}
    _rename(frame, matches, kept)


def adopt_kept_ids(labels: np.ndarray, target: tuple[slice, ...], kept: np.ndarray,
                   axis: int) -> None:
    """A whole series was segmented around reviewed pixels (``kept``, over ``target``):
    each new object next to a kept object in time (the time point before or after, by
    overlap) gives that object's id to its whole track (the engine's id, in every time
    point), so the track goes on through the reviewed time point under the kept id. A
    track takes one kept id, and a kept id goes to one track."""
    region = labels[target]
    frames = region.shape[axis]
    renames: dict[int, int] = {}
    given: set[int] = set()
    whole = (slice(None),) * region.ndim
    for t in range(frames):
        here = _at(whole, axis, t)
        kept_here = kept[here]
        if not kept_here.any():
            continue
        kept_objects = np.where(kept_here, region[here], 0)
        for other in (t - 1, t + 1):
            if not 0 <= other < frames:
                continue
            there = _at(whole, axis, other)
            new = np.where(kept[there], 0, region[there])
            for track, kept_id in matched_ids(kept_objects, new).items():
                if track not in renames and kept_id not in given:
                    renames[track] = kept_id
                    given.add(kept_id)
    for t in range(frames):  # a time point at a time: no whole-stack temporaries
        here = _at(whole, axis, t)
        _rename(region[here], renames, kept[here])


def _rename(block: np.ndarray, renames: dict[int, int], kept) -> None:
    """Ids of ``block`` renamed by ``renames`` (in place), outside ``kept``."""
    if not renames:
        return
    top = int(block.max()) if block.size else 0
    lookup = np.arange(max(top, max(renames)) + 1, dtype=block.dtype)
    for old, new in renames.items():
        lookup[old] = new
    renamed = lookup[block]
    np.copyto(block, renamed, where=True if kept is None else ~kept)
