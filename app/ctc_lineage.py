"""The tracks of a time series as the Cell Tracking Challenge counts them (Qt-free).

Our labels keep an object's id from one time point to the next (``models.time_links``); a
division's second daughter gets a new id and no parent is recorded, and an object missed
for a time point or two keeps its id across the gap. The CTC format wants more: every
track continuous in time, and each track's parent. Here, seeing one time point after the
other (only the ids present and the overlaps of the objects that appear; nothing the size
of the series), the ids are cut into CTC tracks:

- a run of consecutive time points of one id is one track;
- an id that comes back after a gap starts a new track whose parent is its previous run;
- a track starting at a time point t after the first whose object lies mostly (at least
  ``MIN_INSIDE`` of its pixels) in one object of t-1 is a daughter of that object: if
  that object's id goes on at t (it is the other daughter), its track is cut at t, the
  part from t on a new track, and both are daughters of the part up to t-1; if it ends at
  t-1 (both daughters have new ids, or the object was renumbered), it is the parent.

Tracks are numbered 1..N in the order they start (then by id), so a parent's number is
always below its daughters'.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Share of a new object's pixels that must lie in one object of the time point before for
# that object to be its parent (a daughter lies in its mother's outline, mostly).
MIN_INSIDE = 0.5


@dataclass
class Track:
    """One CTC track: ``label`` (given by :meth:`Lineage.finish`), the id it has in the
    labels, its first and last time point, and the index of its parent track (None)."""

    id: int
    begin: int
    end: int
    parent: int | None = None
    label: int = 0


@dataclass
class Lineage:
    """Tracks built a time point at a time: :meth:`add` each time point's ids in order."""

    tracks: list[Track] = field(default_factory=list)
    open: dict[int, int] = field(default_factory=dict)  # id present at t-1 -> its track
    last: dict[int, int] = field(default_factory=dict)  # id -> its latest track
    gaps: int = 0  # tracks that are an id's return after a gap
    divisions: int = 0  # tracks given a parent by overlap
    continued: int = 0  # mothers whose id goes on after a division: cut, a daughter too
    frames: int = 0

    def add(self, t: int, ids: np.ndarray, parents: dict[int, int]) -> None:
        """Time point ``t``: ``ids`` present (sorted, > 0), ``parents`` {id new at t: the
        id of t-1 holding most of its pixels, when at least ``MIN_INSIDE`` of them}."""
        present = set(ids.tolist())
        cut: dict[int, int] = {}  # mother id going on at t -> her track up to t-1
        started: dict[int, int] = {}
        for new in (i for i in ids.tolist() if i not in self.open):
            parent = None
            if new in self.last:  # back after a gap: the same object (our ids say so)
                parent = self.last[new]
                self.gaps += 1
            elif new in parents:
                mother = parents[new]
                if mother in present:  # she goes on at t: the part from t is a daughter
                    if mother not in cut:
                        cut[mother] = self.open[mother]
                    parent = cut[mother]
                else:
                    parent = self.open[mother]
                self.divisions += 1
            started[new] = self._start(new, t, parent)
        self.continued += len(cut)
        for mother, track in cut.items():
            self.tracks[track].end = t - 1
            self.open[mother] = self._start(mother, t, track)
        for gone in [i for i in self.open if i not in present]:
            self.tracks[self.open.pop(gone)].end = t - 1
        self.open.update(started)
        self.last.update(self.open)
        self.frames = t + 1

    def _start(self, id_: int, t: int, parent: int | None) -> int:
        self.tracks.append(Track(id_, t, t, parent))
        return len(self.tracks) - 1

    def finish(self) -> list[Track]:
        """The tracks, numbered 1..N by (first time point, id); the ones still open end at
        the last time point."""
        for track in self.open.values():
            self.tracks[track].end = self.frames - 1
        self.open.clear()
        order = sorted(range(len(self.tracks)), key=lambda i: (self.tracks[i].begin,
                                                               self.tracks[i].id))
        for label, index in enumerate(order, start=1):
            self.tracks[index].label = label
        return self.tracks

    def parent_label(self, track: Track) -> int:
        return 0 if track.parent is None else self.tracks[track.parent].label


def mother_ids(previous: np.ndarray, current: np.ndarray, new_ids: np.ndarray) -> dict[int, int]:
    """{id of ``new_ids`` (objects of ``current`` absent from ``previous``): the id of
    ``previous`` holding most of its pixels, when that is at least ``MIN_INSIDE`` of them}.
    ``previous``, ``current``: two consecutive time points, same shape."""
    if not new_ids.size:
        return {}
    inside = np.isin(current, new_ids)
    now, then = current[inside].astype(np.int64), previous[inside].astype(np.int64)
    ids, sizes = np.unique(now, return_counts=True)
    pairs, counts = np.unique(np.stack([now[then > 0], then[then > 0]]), axis=1,
                              return_counts=True)
    mothers: dict[int, int] = {}
    best: dict[int, int] = {}
    for (new, mother), count in zip(pairs.T.tolist(), counts.tolist()):
        if count > best.get(new, 0):
            best[new], mothers[new] = count, mother
    size = dict(zip(ids.tolist(), sizes.tolist()))
    return {new: mother for new, mother in mothers.items()
            if best[new] >= MIN_INSIDE * size[new]}
