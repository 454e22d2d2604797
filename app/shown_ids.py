"""Ids of the labels shown before, kept through a new prediction of the whole image (Qt-free).

The engine numbers its objects afresh at every run (1, 2, 3… and its own tracks over time).
Segmenting labels again that the user has seen (after Accept, or a second Segment) then
renames nearly every object: colours change, a measurement table's label column and the
tracks mean something else, and the user's track decisions (a cut, a join) are lost where
the engine links a track through them. Here each new object that is the same object as one
shown before (overlap IoU >= 0.5, one to one, per time point) lends that object's id to its
track: a track of the run takes one id, the one it shares most pixels with (an id no reviewed
object holds, to one track only), so the labels shown before rename the run's tracks but
never cut or join them (an earlier run at other settings, linked otherwise, made a new run's
33 tracks 35). A track changes id only across a time point where a reviewed object holds its
id (the user's cut or join there). A track without a partner keeps a reviewed object's id
that the run gave it (``time_ids.adopt_kept_ids``, ``kept_ids.adopt_touching_ids``) or an
engine id no object shown before held, else takes a fresh id. Ids that reviewed objects hold
at a time point are never given to another there.

Pixels are read a slab of planes at a time (a 64x1024x1024 stack does not fit in memory
twice); pairs of ids are counted on runs of equal pixels, so the sort is short.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from unet_studio.app.id_renames import IdRenames
from unet_studio.models.slab_label import SLAB_PIXELS, slabs

SAME_OBJECT_IOU = 0.5  # an overlap that makes two objects one (one to one from above it)


@dataclass
class _Group:
    """What one time point (the whole region without a T axis) holds, before and after."""

    new_sizes: dict[int, int] = field(default_factory=dict)  # new object -> pixels (not kept)
    old_sizes: dict[int, int] = field(default_factory=dict)  # object shown before -> pixels
    overlaps: dict[tuple[int, int], int] = field(default_factory=dict)  # (new, old) -> shared
    kept_sizes: dict[int, int] = field(default_factory=dict)  # reviewed id -> its pixels here

    @property
    def kept_ids(self) -> set[int]:
        return set(self.kept_sizes)


def keep_shown_ids(labels: np.ndarray, before: np.ndarray | None, target: tuple[slice, ...],
                   kept: np.ndarray | None, time_axis: int | None, *,
                   slab_pixels: int = SLAB_PIXELS) -> None:  # fmt: skip
    """In place: the new objects of ``labels[target]`` (outside ``kept``, the reviewed pixels
    of the target or None) take the ids of the objects of ``before`` (the target's labels
    before the run, or None for a first prediction: nothing to keep) they are the same
    object as. ``time_axis``: the labels' T axis (objects matched per time point), or None
    (the region's objects matched whole: a stack's objects are 3D). Ids past 2**31 (no
    int32 labels hold them) are left as the run wrote them."""
    if before is None:
        return
    region = labels[target]
    if np.shape(before) != region.shape:
        raise ValueError(f"labels before of shape {np.shape(before)} for a region of {region.shape}")
    largest = _largest(region, before, slab_pixels)
    if region.ndim == 0 or largest >= 1 << 31:
        return
    groups = _group_indices(region.ndim, region.shape, time_axis)
    found = [_read_group(region[g], before[g], None if kept is None else kept[g], slab_pixels)
             for g in groups]  # fmt: skip
    open_ids = _only_reviewed(found)
    matches = [_matched(group, open_ids) for group in found]
    renames = _renames(found, matches, largest)
    for g, rename in zip(groups, renames):
        _rename(region[g], None if kept is None else kept[g], rename, slab_pixels)


def _group_indices(ndim: int, shape: tuple[int, ...], time_axis: int | None) -> list[tuple]:
    """Basic indices (views) of the time points along ``time_axis``, or the whole region."""
    if time_axis is None:
        return [(slice(None),) * ndim]
    return [(slice(None),) * time_axis + (t,) for t in range(shape[time_axis])]


def _read_group(new: np.ndarray, old: np.ndarray, kept: np.ndarray | None,
                slab_pixels: int) -> _Group:  # fmt: skip
    """The sizes and overlaps of one group's objects, from one key per pixel (new id, old
    id) counted on runs of equal keys: objects are runs along a row, so only the runs are
    sorted, and the sizes come from the same counts."""

    group = _Group()
    keys, counts = [], []
    for core, _ in slabs(new.shape, slab_pixels):
        block = np.asarray(new[core])
        if kept is not None:
            keep = np.asarray(kept[core])
            values = block[keep]
            for i, n in _summed_dict(values, np.ones(values.size, np.int64)).items():
                group.kept_sizes[i] = group.kept_sizes.get(i, 0) + n
            block = np.where(keep, 0, block)
        pixel_keys = (block.astype(np.int64).ravel() << 32) | np.asarray(old[core]).astype(np.int64).ravel()
        found, pixels = _run_counts(pixel_keys)
        keys.append(found)
        counts.append(pixels)
    found, pixels = _summed(np.concatenate(keys), np.concatenate(counts))
    news, olds = found >> 32, found & 0xFFFFFFFF
    group.new_sizes = _summed_dict(news, pixels)
    group.old_sizes = _summed_dict(olds, pixels)
    both = (news > 0) & (olds > 0)
    group.overlaps = {(int(a), int(b)): int(n) for a, b, n in
                      zip(news[both].tolist(), olds[both].tolist(), pixels[both].tolist())}  # fmt: skip
    return group


def _run_counts(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct keys, pixels of each) of a row of keys, counted on its runs."""
    if keys.size == 0:
        return keys, np.zeros(0, np.int64)
    starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    lengths = np.diff(np.append(starts, keys.size))
    return _summed(keys[starts], lengths)


def _summed(keys: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct keys, the sum of ``counts`` over each)."""
    unique, inverse = np.unique(keys, return_inverse=True)
    return unique, np.bincount(inverse.ravel(), weights=counts, minlength=unique.size).astype(np.int64)


def _summed_dict(ids: np.ndarray, counts: np.ndarray) -> dict[int, int]:
    """{nonzero id: the sum of ``counts`` over it}."""
    unique, sums = _summed(ids, counts)
    return {int(i): int(n) for i, n in zip(unique.tolist(), sums.tolist()) if i != 0}


def _matched(group: _Group, open_ids: set[int]) -> dict[int, int]:
    """{new id: old id} of the same objects: IoU of at least ``SAME_OBJECT_IOU``, the best
    first, one to one; never an id a reviewed object holds here (that object is another),
    nor for an object the run gave a reviewed id of ``open_ids`` (the labels shown before
    do not say where that track goes on: the run's linking does)."""
    scored = []
    for (new, old), shared in group.overlaps.items():
        if old in group.kept_sizes or new in open_ids:
            continue
        union = group.new_sizes[new] + group.old_sizes[old] - shared
        if shared >= SAME_OBJECT_IOU * union:
            scored.append((-shared / union, new, old))
    matches: dict[int, int] = {}
    given: set[int] = set()
    for _, new, old in sorted(scored):
        if new not in matches and old not in given:
            matches[new] = old
            given.add(old)
    return matches


def _only_reviewed(groups: list[_Group]) -> set[int]:
    """Reviewed ids that the labels shown before hold at reviewed pixels only (an id the
    user gave there, or an earlier run's): the tracks they go on as are the run's to find
    (``adopt_kept_ids``). A cut's new id is not one: it goes on at the later time points."""
    kept: dict[int, int] = {}
    for group in groups:
        for i, n in group.kept_sizes.items():
            kept[i] = kept.get(i, 0) + n
    shown = {i: sum(group.old_sizes.get(i, 0) for group in groups) for i in kept}
    return {i for i, n in kept.items() if shown[i] <= n}


def _renames(groups: list[_Group], matches: list[dict[int, int]], largest: int
             ) -> list[dict[int, int]]:  # fmt: skip
    """{id now: id to take} per group. The run's tracks stay as the run made them: each
    piece of a track (``_pieces``) takes one id, the one shown before that it matches over
    most pixels (``_voted_ids``), else its own where that is a reviewed id (given by the
    run) or no id shown before (a first prediction keeps the engine's), else a fresh id
    above ``largest``, one per track. Where a reviewed object here holds a track's id,
    its new part keeps that id."""
    pieces = _pieces(groups, matches)
    kept_anywhere = set().union(*(group.kept_ids for group in groups))
    shown_before = set().union(*(group.old_sizes for group in groups))
    taken = _taken_at(groups)
    chosen = _voted_ids(pieces, kept_anywhere, taken)
    fresh: dict[int, int] = {}
    renames: list[dict[int, int]] = [{} for _ in groups]
    for index, piece in enumerate(pieces):
        given = chosen.get(index)
        if given is None:
            own = piece.track
            free = taken.get(own, set()).isdisjoint(piece.groups)
            if free and (own in kept_anywhere or own not in shown_before):
                given = own
            else:
                given = fresh.setdefault(own, largest + 1 + len(fresh))
            taken.setdefault(given, set()).update(piece.groups)
        if given != piece.track:
            for g in piece.groups:
                renames[g][piece.track] = given
    return renames


@dataclass
class _Piece:
    """A track of the run (its id after the run) over ``groups``, a stretch that no
    reviewed object of the same id interrupts; ``votes``: {id shown before: pixels it shares
    with the track's objects it was matched to there}."""

    track: int
    groups: set[int]
    votes: dict[int, int]


def _pieces(groups: list[_Group], matches: list[dict[int, int]]) -> list[_Piece]:
    """The run's tracks, each cut where a reviewed object holds its id (a time point the user
    checked, a cut or a join there: before and after it, the ids shown may differ, as the
    user decided). Its new objects at such a time point keep the id and are in no piece."""
    reviewed_at: dict[int, list[int]] = {}
    present: dict[int, list[int]] = {}
    for index, group in enumerate(groups):
        for i in group.kept_ids:
            reviewed_at.setdefault(i, []).append(index)
        for track in group.new_sizes:
            if track not in group.kept_ids:
                present.setdefault(track, []).append(index)
    pieces: list[_Piece] = []
    for track, indices in present.items():
        stops = reviewed_at.get(track, [])
        start = 0
        for k in range(1, len(indices) + 1):
            if k < len(indices) and not any(indices[k - 1] < r < indices[k] for r in stops):
                continue
            part = indices[start:k]
            votes: dict[int, int] = {}
            for g in part:
                old = matches[g].get(track)
                if old is not None:
                    votes[old] = votes.get(old, 0) + groups[g].overlaps[track, old]
            pieces.append(_Piece(track, set(part), votes))
            start = k
    return pieces


def _taken_at(groups: list[_Group]) -> dict[int, set[int]]:
    """{id: the groups where a reviewed object holds it}: no new object takes it there."""
    taken: dict[int, set[int]] = {}
    for index, group in enumerate(groups):
        for i in group.kept_ids:
            taken.setdefault(i, set()).add(index)
    return taken


def _voted_ids(pieces: list[_Piece], kept_anywhere: set[int], taken: dict[int, set[int]]
               ) -> dict[int, int]:  # fmt: skip
    """{piece index: the id shown before it takes}, the largest shares first. An id goes to
    no two pieces at one time point, and an id no reviewed object holds goes to one track
    only: the labels shown before (an earlier run with other settings, whose linking went
    otherwise) never join two of the run's tracks nor cut one, so a run gives the tracks a
    fresh run gives. ``taken`` is updated."""
    candidates = sorted((-shared, index, old) for index, piece in enumerate(pieces)
                        for old, shared in piece.votes.items())  # fmt: skip
    owner: dict[int, int] = {}  # id no reviewed object holds -> the track given it
    chosen: dict[int, int] = {}
    for _, index, old in candidates:
        piece = pieces[index]
        if index in chosen or not taken.get(old, set()).isdisjoint(piece.groups):
            continue
        if old not in kept_anywhere and owner.setdefault(old, piece.track) != piece.track:
            continue
        chosen[index] = old
        taken.setdefault(old, set()).update(piece.groups)
    return chosen


def _largest(region: np.ndarray, before: np.ndarray, slab_pixels: int) -> int:
    """The largest id of the region now and before: fresh ids lie above both."""

    if region.size == 0:
        return 0
    return max(max(int(np.asarray(region[core]).max()), int(np.asarray(before[core]).max()), 0)
               for core, _ in slabs(region.shape, slab_pixels))  # fmt: skip


def _rename(block: np.ndarray, kept: np.ndarray | None, renames: dict[int, int],
            slab_pixels: int) -> None:  # fmt: skip
    """Ids of ``block`` renamed by ``renames`` at once (in place, in slabs), outside ``kept``."""

    if not renames:
        return
    renaming = IdRenames(renames, block.dtype, block.size)
    for core, _ in slabs(block.shape, slab_pixels):
        part = block[core]
        np.copyto(part, renaming.applied(part), where=True if kept is None else ~np.asarray(kept[core]))
