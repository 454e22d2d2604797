"""Ids over time where a prediction meets labels it did not write (Qt-free).

The engine gives an object the same id from one time point to the next as it segments a
series (``models.time_links``). Two cases it cannot see: one time point segmented again
on its own (its neighbours hold the ids), and reviewed objects kept through a new run of
the whole series (they hold the ids of the run that made them, or the user's). Here the
new objects take those ids, so colours and tables follow an object across the run's edge.
"""

from __future__ import annotations

import numpy as np

from unet_studio.app.id_renames import IdRenames
from unet_studio.models.id_pairs import distinct_pairs
from unet_studio.models.time_links import MAX_GAP, TimeLinker, matched_ids


def _at(region: tuple[slice, ...], axis: int, t: int) -> tuple[slice, ...]:
    """``region`` with time point ``t`` on ``axis``."""
    return (*region[:axis], slice(t, t + 1), *region[axis + 1:])


def continue_neighbour_ids(labels: np.ndarray, target: tuple[slice, ...], kept, axis: int,
                           before=None, *, over_time: bool = False) -> None:  # fmt: skip
    """``labels[target]`` is one time point (or plane) just segmented: a new object that
    is the same object as one shown there before (``before``: this time point's labels
    before the run, the shape of ``labels[target]``, or None; IoU above 0.5) keeps that
    object's id, its track's, where this time point was linked to its neighbours (``_same_ids_if_linked``:
    paired anew with them, the same objects of a Hoechst series' time points 0, 3 and 4
    got swapped or new ids, and a track the user cut was joined again). The other new objects (outside ``kept``,
    the reviewed pixels of ``target`` or None) take the ids of the
    objects they pair with (``matched_ids``: overlap, then position) in the time point
    before, then in the one after (a track through this time point keeps its id; one that
    starts here goes on under its id); an object still left over takes the id of the object
    it mostly lies in in ``before``, the track it was part of. ``over_time`` (``axis`` is
    time): the tracks of the time points before are followed first as the engine follows
    them (``_tracked_ids``: their own motion, and objects missed for a time point or two).
    Ids that kept objects of this time point hold are not given again, nor any id twice."""
    frames = labels.shape[axis]
    start, _, _ = target[axis].indices(frames)
    frame = labels[target]  # (a view: renamed in place)
    new = frame if kept is None else np.where(kept, 0, frame)
    given = set() if kept is None else set(np.unique(frame[kept]).tolist())
    neighbours = [labels[_at(target, axis, t)] for t in (start - 1, start + 1) if 0 <= t < frames]
    matches = {} if before is None else _same_ids_if_linked(np.asarray(before), new, neighbours, given)
    if over_time:
        matches.update(_tracked_ids(labels, target, new, axis, given, set(matches)))
    for partner in neighbours:
        if not partner.any():
            continue
        for now, then in matched_ids(partner, new).items():
            if now not in matches and then not in given:
                matches[now] = then
                given.add(then)
    if before is not None:
        matches.update(_covering_ids(np.asarray(before), new, set(matches), given))
    _rename(frame, IdRenames(matches, frame.dtype, frame.size), kept)


def _same_ids_if_linked(before: np.ndarray, new: np.ndarray, neighbours: list[np.ndarray],
                        given: set[int]) -> dict[int, int]:  # fmt: skip
    """{object of ``new``: the id of the object of ``before`` it is the same object as (IoU
    above 0.5: one to one), not in ``given``} where ``before`` was linked to ``neighbours``
    (the time points or planes around): most of its objects paired with theirs
    (``matched_ids``) hold the same id. Else {}: a time point numbered apart from its
    neighbours, by a run that did not link it, is linked to them anew. (In a linked time
    point a track that ends there keeps its id: paired anew, it took a track starting in
    the next one.) ``given`` is updated."""
    pairs = [pair for plane in neighbours if plane.any()
             for pair in matched_ids(plane, before).items()]
    if not pairs or 2 * sum(mine == theirs for mine, theirs in pairs) < len(pairs):
        return {}
    inside = (new > 0) & (before > 0)
    if not inside.any():
        return {}
    nows, thens, counts = _overlaps(new[inside], before[inside])
    new_sizes = dict(zip(*np.unique(new[new > 0], return_counts=True)))
    old_sizes = dict(zip(*np.unique(before[before > 0], return_counts=True)))
    found = {now: then for now, then, count in zip(nows, thens, counts.tolist())
             if 2 * count > new_sizes[now] + old_sizes[then] - count and then not in given}
    given.update(found.values())
    return found


def _tracked_ids(labels: np.ndarray, target: tuple[slice, ...], new: np.ndarray, axis: int,
                 given: set[int], done: set[int] = frozenset()) -> dict[int, int]:  # fmt: skip
    """{object of ``new`` (time point ``target`` of ``labels``), not in ``done``: the id of
    the track it goes on}, found by a ``TimeLinker`` seeded with the time points before it
    (after it, for the first), as far back as gap closing and own motion look. ``given`` is
    updated."""
    frames = labels.shape[axis]
    start, _, _ = target[axis].indices(frames)
    side = -1 if start > 0 else 1
    depth = 2 * MAX_GAP + 2
    seeded = [t for t in (start + side * k for k in range(depth, 0, -1)) if 0 <= t < frames]
    if not seeded:
        return {}

    def point(t: int) -> np.ndarray:  # time point t of the target's region, no time axis
        return labels[(*target[:axis], t, *target[axis + 1:])]

    linker = TimeLinker(frames)
    for t in seeded:
        linker.seed(t, point(t))
    found: dict[int, int] = {}
    for now, then in linker.matches_at(start, np.take(new, 0, axis=axis)).items():
        if now not in done and then not in given:
            found[now] = then
            given.add(then)
    return found


def _covering_ids(before: np.ndarray, new: np.ndarray, done: set[int], given: set[int]
                  ) -> dict[int, int]:  # fmt: skip
    """{object of ``new`` not in ``done``: the id of ``before`` that holds most of its pixels
    (at least half), not in ``given``}; an id of ``before`` to one object only, the one with
    the largest share of it."""
    inside = (new > 0) & (before > 0)
    if not inside.any():
        return {}
    nows, thens, counts = _overlaps(new[inside], before[inside])
    sizes = dict(zip(*np.unique(new[new > 0], return_counts=True)))
    found: dict[int, int] = {}
    for index in np.argsort(-counts, kind="stable"):  # largest overlaps first
        now, then = nows[index], thens[index]
        if now in done or now in found or then in given or 2 * counts[index] < sizes[now]:
            continue
        found[now] = then
        given.add(then)
    return found


def _overlaps(now: np.ndarray, then: np.ndarray) -> tuple[list[int], list[int], np.ndarray]:
    """(id now, id then, pixels) of each distinct pair of ``now`` and ``then`` (the ids of
    the pixels that overlap, one length), for ids of any size (``id_pairs``)."""
    # (a 1-D sort of packed pairs, without holding the GIL, where unique over columns froze
    # the GUI thread for a second on a 2048² plane)
    nows, thens, counts = distinct_pairs(now, then, counts=True)
    return nows.tolist(), thens.tolist(), counts


def adopt_kept_ids(labels: np.ndarray, target: tuple[slice, ...], kept: np.ndarray,
                   axis: int) -> None:
    """A whole series was segmented around reviewed pixels (``kept``, over ``target``):
    each new object next to a kept object in time (the time point before or after, by
    overlap) gives that object's id to its whole track (the engine's id, in every time
    point), so the track goes on through the reviewed time point under the kept id. A
    track takes one kept id; a kept id goes to several tracks only where they never meet
    in a time point (the engine's track broken next to the reviewed time point: the
    parts before and after are one object)."""
    region = labels[target]
    frames = region.shape[axis]
    candidates: dict[int, list[int]] = {}  # kept id -> tracks that continue it, first first
    taken: set[int] = set()
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
                if track not in taken:
                    candidates.setdefault(kept_id, []).append(track)
                    taken.add(track)
    renames = IdRenames(_tracks_apart(region, kept, axis, candidates), region.dtype, region.size)
    for t in range(frames):  # a time point at a time: no whole-stack temporaries
        here = _at(whole, axis, t)
        _rename(region[here], renames, kept[here])


def _tracks_apart(region: np.ndarray, kept: np.ndarray, axis: int,
                  candidates: dict[int, list[int]]) -> dict[int, int]:  # fmt: skip
    """{track: kept id}: each kept id's first track, and any later one that shares no time
    point (outside ``kept``) with those already given it. The time points of the tracks
    in question are read in one pass, only when a kept id has more than one."""
    shared = sorted({t for tracks in candidates.values() if len(tracks) > 1 for t in tracks})
    seen: dict[int, set[int]] = {track: set() for track in shared}
    if shared:
        whole = (slice(None),) * region.ndim
        for t in range(region.shape[axis]):
            here = _at(whole, axis, t)
            values = region[here][~kept[here]]
            for track in np.unique(values[np.isin(values, shared)]).tolist():
                seen[track].add(t)
    renames: dict[int, int] = {}
    for kept_id, tracks in candidates.items():
        renames[tracks[0]] = kept_id
        used = set(seen.get(tracks[0], ()))
        for track in tracks[1:]:
            if not used & seen[track]:
                renames[track] = kept_id
                used |= seen[track]
    return renames


def _rename(block: np.ndarray, renames: IdRenames, kept) -> None:
    """Ids of ``block`` renamed by ``renames`` (in place), outside ``kept``."""
    if renames:
        np.copyto(block, renames.applied(block), where=True if kept is None else ~kept)
