"""The same id for the same object from one time point to the next.

Each time point of a time series is labelled on its own (ids 1..N in each), so a nucleus
would change its id, and its colour in the viewer, from frame to frame, and a table of
measurements over time could not follow it. Here each time point's objects take the ids of
the objects they overlap most in the time point next to it (intersection over union, each
id used once, the best-overlapping pairs first). Objects left over (moved more than about
half their size: fast cells, or a stage drift shifting every object past its own outline)
are then paired by position, once the drift common to all objects is taken off: the
pairing with the least total distance (a linear assignment among the objects left over, as
LAP trackers solve it, ``link_assignment``), between objects of similar size no farther
apart than a diameter and a few times the typical step of the objects that overlap, and
only where it is clearly cheaper than any pairing without that pair, so that crowded
objects moving far get new ids rather than each other's. An object that moved steadily
before (a migrating cell, a cell in a flow) is also looked for where its own last step
would take it, and one that has just appeared where another just vanished is looked for a
step further on the same line (two equal steps in a row: the same object moving fast),
so steady movers faster than the gate keep their ids. Two objects still left over that
overlap each other and nothing else, however little, and lie within their diameter of
each other are one object (moved half its size where the others barely move, or its
outline changed). Objects still left over may take the
id of an object missed at the time points in between (out of focus, missed by the
network: up to ``max_gap`` of them), where it is clearly the nearest to where that object
was heading and no object of the time point before lies about as near. Objects with no
partner (new ones, or the second daughter of a division) get ids never used before. This
is a light tracking, right when objects move less than their size between frames (the
usual frame rate for nuclei and cells) or move steadily, measured with known motion in
``benchmarks/bench_link_accuracy.py``.

Whole time points may be larger than RAM: overlaps and centres are counted and ids
replaced a slab of planes at a time; of the time points before, only the labels of the
neighbour and a few numbers per object (``track_history``) are kept.
"""

from __future__ import annotations

import numpy as np

from unet_studio.models.link_assignment import CLEAR_MARGIN, assigned
from unet_studio.models.link_pairs import (
    MAX_SIZE_RATIO,
    MAX_STEP,
    MIN_IOU,
    Guesses,
    common_drift,
    counted,
    guessed_pairs,
    matched_by_motion,
    matched_by_overlap,
    matched_one_to_one,
    objects_of,
    slab_parts,
    step_gate,
    typical_reach,
)
from unet_studio.models.scratch import scratch_zeros
from unet_studio.models.track_history import Objects, Sightings, TrackHistory

# An object that has just appeared within START_REACH diameters of one that has just
# vanished may be that object moving fast: it is looked for as far again on the same line,
# within START_GATE diameters (two steps this alike rarely happen by chance).
START_REACH = 3.0
START_GATE = 0.25
# A track's own last step is followed this far (diameters from where it points): a steady
# mover lands near there; a random walker's last step says little, and a wider gate there
# only adds wrong candidates (bench_link_accuracy.py: 0.5 keeps the steady movers).
OWN_STEP_GATE = 0.5
# An object missed at up to this many time points in a row takes up its id again after.
MAX_GAP = 2
KEPT_RAM_BYTES = 256 << 20  # a time point's labels kept for the next: in RAM up to this


def matched_ids(previous, current, *, min_iou: float = MIN_IOU,
                max_step: float | None = None) -> dict[int, int]:  # fmt: skip
    """{id in ``current``: id in ``previous``}: first the pairs of overlapping objects with
    intersection over union at least ``min_iou``, best first; then, of the objects left,
    the pairs nearest once the common drift is taken off, up to ``max_step`` diameters apart
    (None: :data:`MAX_STEP`; 0: overlap only); then the pairs left that overlap each other
    and nothing else, however little, within their diameter (``matched_one_to_one``). Each
    id in one pair at most.
    ``previous`` and ``current``: label arrays of one shape (may be memory-mapped). Two time
    points alone: no track's own motion, no gaps (``TimeLinker`` has those)."""
    keys, counts, before, now = counted(previous, current)
    matches = matched_by_overlap(keys, counts, before, now, min_iou)
    max_step = MAX_STEP if max_step is None else max_step
    drift = None
    if max_step > 0:
        drift = common_drift(before, now)
        step_cap = min(max_step, step_gate(before, now, matches, drift))
        matches.update(matched_by_motion(before, now, matches, step_cap, drift))
    matches.update(matched_one_to_one(keys, counts, matches, before, now, drift))
    return matches


def relabel_in_slabs(labels, mapping: np.ndarray) -> None:
    """``labels[...] = mapping[labels]`` in place, a slab at a time."""
    for part in slab_parts(tuple(labels.shape)):
        labels[part] = mapping[np.asarray(labels[part])]


class TimeLinker:
    """Links the time points of one prediction as they are labelled, in any order in which
    each time point after the first is next to one already done (a prediction links them
    in time order, ``stack_run.StackRun.order_groups``, so that its ids do not depend on
    the time point on screen; one time point segmented again is linked from the time
    points before it, ``app.time_ids``).

    ``link(t, labels)`` gives ``labels`` (ids 1..N, replaced in place) the ids of the
    neighbouring time point already linked (the one nearer the first), looking for objects
    that moved steadily where their own motion takes them (``own_motion``); objects left
    over may take the id of an object missed at up to ``max_gap`` time points just before
    (0: none); the rest get fresh ids. An id is given to one object of a time point only,
    and only an id missing at the time points in between is taken up again, so two tracks
    never become one. ``min_iou``, ``max_step``: as ``matched_ids`` (``max_step=0``:
    overlap only, no gaps either). It keeps the labels of the ends of the linked run (at
    most two time points) and, of the time points near them, a few numbers per object."""

    def __init__(self, frames: int, min_iou: float = MIN_IOU, max_step: float | None = None,
                 max_gap: int = MAX_GAP, own_motion: bool = True):  # fmt: skip
        if int(max_gap) != max_gap or max_gap < 0:
            raise ValueError(f"max_gap must be a whole number of time points, 0 or more, got {max_gap!r}")
        self.frames, self.min_iou, self.max_step = frames, min_iou, max_step
        self.max_gap, self.own_motion = int(max_gap), own_motion
        self.kept: dict[int, np.ndarray] = {}  # time point -> its linked labels
        self.history = TrackHistory()
        self.done: set[int] = set()
        self.next_id = 1

    def link(self, t: int, labels) -> None:
        count = int(np.max(labels)) if labels.size else 0
        neighbour = next((n for n in (t - 1, t + 1) if n in self.kept), None)
        if neighbour is None:
            matches, now = {}, objects_of(labels)
        else:
            matches, now = self._matched(t, neighbour, labels)
        mapping = np.zeros(count + 1, np.int64)
        for new in range(1, count + 1):
            if new in matches:
                mapping[new] = matches[new]
            else:
                mapping[new] = self.next_id
                self.next_id += 1
        relabel_in_slabs(labels, mapping.astype(labels.dtype))
        self.history.add(t, now.renamed(mapping))
        self._keep(t, labels)

    def seed(self, t: int, labels) -> None:
        """Take time point ``t`` as linked already, under the ids it holds (a series linked
        before, one of whose time points is segmented again): its objects become the history
        that own motion and gap closing look back on. Seed in time order towards the time
        point to link. ``labels`` is read, not copied: it must not change until the link."""
        objects = objects_of(labels)
        for neighbour in (t - 1, t + 1):
            if neighbour in self.history.objects:
                self.history.add_drift(neighbour, t, common_drift(self.history.objects[neighbour], objects))
        self.history.add(t, objects)
        self.kept[t] = labels
        self.done.add(t)
        self.next_id = max(self.next_id, int(objects.ids.max(initial=0)) + 1)

    def matches_at(self, t: int, labels) -> dict[int, int]:
        """{object of ``labels`` (time point ``t``, next to a seeded or linked one): the id
        of the track it goes on}, as ``link`` pairs them, without renaming anything; the
        objects left over are not in it."""
        neighbour = next((n for n in (t - 1, t + 1) if n in self.kept), None)
        return {} if neighbour is None else self._matched(t, neighbour, labels)[0]

    def _matched(self, t: int, neighbour: int, labels) -> tuple[dict[int, int], Objects]:
        """({object of ``labels``: its id}, the objects of ``labels``): by overlap with the
        neighbour, by position (each object of the neighbour looked for where the common
        drift takes it, and where its own motion does), by an overlap with each other alone
        (``matched_one_to_one``), then across gaps."""
        before = self.history.objects[neighbour]
        keys, counts, _, now = counted(self.kept[neighbour], labels, before)
        matches = matched_by_overlap(keys, counts, before, now, self.min_iou)
        drift = common_drift(before, now)
        self.history.add_drift(neighbour, t, drift)
        max_step = MAX_STEP if self.max_step is None else self.max_step
        if max_step <= 0:
            return {**matches, **matched_one_to_one(keys, counts, matches, before, now)}, now
        step_cap = min(max_step, step_gate(before, now, matches, drift))
        guesses = Guesses.at(np.arange(len(before.ids)), before.centres + drift, step_cap)
        if self.own_motion:
            guesses = guesses + self._moving_guesses(t, neighbour, before, drift, step_cap)
        matches.update(matched_by_motion(before, now, matches, step_cap, drift, guesses))
        # (after the position rule, which may clearly pair either with another; before the
        # gaps: an object that overlaps it is nearer than any track missed a while)
        matches.update(matched_one_to_one(keys, counts, matches, before, now, drift))
        if self.max_gap:
            matches.update(self._across_gaps(t, neighbour, now, matches, step_cap,
                                             (before, guesses)))  # fmt: skip
        return matches, now

    def _moving_guesses(self, t: int, neighbour: int, before: Objects, drift,
                        step_cap: float) -> Guesses:  # fmt: skip
        """Where the objects of ``neighbour`` go on to at ``t`` if they keep their own last
        step; for an object with none (it has just appeared), where it goes if it is one
        that has just vanished nearby, moving fast (see :data:`START_REACH`)."""
        direction = t - neighbour
        steps = self.history.own_steps(Sightings.of(before, neighbour), direction, self.max_gap + 1)
        moving = np.flatnonzero(np.isfinite(steps[:, 0]))
        guesses = Guesses.at(moving, before.centres[moving] + drift + steps[moving],
                             min(step_cap, OWN_STEP_GATE))  # fmt: skip
        started = np.flatnonzero(~np.isfinite(steps[:, 0]))
        return guesses + self._starting_guesses(neighbour - direction, neighbour, before,
                                                started, drift, step_cap)  # fmt: skip

    def _starting_guesses(self, previous: int, neighbour: int, before: Objects,
                          started: np.ndarray, drift, step_cap: float) -> Guesses:  # fmt: skip
        """Where the objects ``started`` (rows of ``before``, the objects of ``neighbour``)
        go on to if each is one of the objects of ``previous`` that vanished at
        ``neighbour``, moving on as far again (one guess per such object nearby)."""
        from scipy.spatial import cKDTree

        ndim = before.centres.shape[1]
        none = Guesses.at(np.zeros(0, np.int64), np.zeros((0, ndim)), 0.0)
        ended_at = self.history.objects.get(previous)
        if ended_at is None or not started.size:
            return none
        ended = np.flatnonzero(before.rows_of(ended_at.ids) < 0)
        if not ended.size:
            return none
        origins = ended_at.centres[ended] + self.history.drift(previous, neighbour)
        diameters_ended, diameters_started = ended_at.diameters()[ended], before.diameters()[started]
        reach = START_REACH * typical_reach(diameters_ended, diameters_started)
        pairs = cKDTree(origins).sparse_distance_matrix(
            cKDTree(before.centres[started]), reach, output_type="ndarray")
        i, j = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
        apart = pairs["v"] / ((diameters_ended[i] + diameters_started[j]) / 2)
        ratio = before.sizes[started[j]] / ended_at.sizes[ended[i]]
        keep = (apart <= START_REACH) & (ratio >= 1 / MAX_SIZE_RATIO) & (ratio <= MAX_SIZE_RATIO)
        owner = started[j[keep]]
        step = before.centres[owner] - origins[i[keep]]
        return Guesses.at(owner, before.centres[owner] + drift + step, min(START_GATE, step_cap))

    def _across_gaps(self, t: int, neighbour: int, now: Objects, matches: dict[int, int],
                     step_cap: float, looked_for: tuple[Objects, Guesses]) -> dict[int, int]:  # fmt: skip
        """{object of ``now`` left over: the id of a track last seen 2 to ``max_gap`` + 1
        time points before ``t`` and missing since (so never an id alive at ``t``)}, paired
        as by motion (a least-cost assignment, clear pairs only; how far: ``_gap_guesses``),
        and only where no object of the neighbour (``looked_for``: its objects and where
        they are looked for) comes about as near (``_nearest_costs``)."""
        direction = t - neighbour
        earlier = [neighbour - direction * g for g in range(1, self.max_gap + 1)]
        held = [self.history.objects[k].ids for k in earlier if k in self.history.objects]
        free_now = np.flatnonzero(~np.isin(now.ids, list(matches)))
        if not held or not free_now.size:
            return {}
        last = self.history.last_seen(np.unique(np.concatenate(held)), [neighbour, *earlier])
        gone = last.subset(last.frames != neighbour)  # (missing at the neighbour)
        if not len(gone.ids):
            return {}
        guesses = self._gap_guesses(t, gone, direction, step_cap)
        diameters_gone, diameters_now = gone.diameters(), now.diameters()[free_now]
        reach = guesses.caps.max(initial=0) * typical_reach(diameters_gone, diameters_now)
        rows, cols, cost = guessed_pairs(guesses, diameters_gone, gone.sizes, now.centres[free_now],
                                          diameters_now, now.sizes[free_now], reach)  # fmt: skip
        # (paired on the distance per square root of the time points since: a random walk's
        # spread, so that an object unseen for longer is not crowded out by a nearer guess)
        spread = np.sqrt(np.abs(t - gone.frames[rows]))
        pairs = assigned(rows, cols, cost / spread, step_cap / 2)
        cost_of = dict(zip(zip(rows.tolist(), cols.tolist()), cost.tolist()))
        chosen = [cost_of[pair] for pair in pairs]
        nearest = _nearest_costs(*looked_for, now, free_now[[c for _, c in pairs]],
                                 max(chosen, default=0.0) + CLEAR_MARGIN)  # fmt: skip
        return {int(now.ids[free_now[c]]): int(gone.ids[r])
                for (r, c), other in zip(pairs, nearest) if other - cost_of[r, c] >= CLEAR_MARGIN}

    def _gap_guesses(self, t: int, gone: Sightings, direction: int, step_cap: float) -> Guesses:
        """Where tracks last seen at ``gone.frames`` are at ``t``: moved with the common
        drift since, and (where they moved on their own before) on by their own step per
        time point since; looked for as far as an object seen just before, times the square
        root of the time points since (a random walk spreads so), up to :data:`MAX_STEP`
        (or ``max_step``) diameters."""
        since = np.abs(t - gone.frames)
        still = gone.centres + np.stack([self.history.drift(int(f), t) for f in gone.frames])
        rows = np.arange(len(gone.ids))
        max_step = MAX_STEP if self.max_step is None else self.max_step
        guesses = Guesses.at(rows, still, np.minimum(step_cap * np.sqrt(since), max_step))
        if not self.own_motion:
            return guesses
        steps = self.history.own_steps(gone, direction, self.max_gap + 1)
        moving = rows[np.isfinite(steps[:, 0])]
        return guesses + Guesses.at(moving, still[moving] + since[moving, None] * steps[moving],
                                    min(step_cap, OWN_STEP_GATE))  # fmt: skip

    def _keep(self, t: int, labels) -> None:
        # Set aside while the next time points are predicted and labelled: in the smallest
        # type that holds the ids, and in a temporary file beyond KEPT_RAM_BYTES.
        dtype = np.min_scalar_type(max(self.next_id - 1, 1))
        copy = scratch_zeros(tuple(labels.shape), dtype, ram_bytes=KEPT_RAM_BYTES)
        for part in slab_parts(tuple(labels.shape)):
            copy[part] = labels[part]
        self.kept[t] = copy
        self.done.add(t)
        # Labels: until both neighbours are linked. Objects: while a time point within
        # reach of a gap and a step before it is still to be linked.
        self.kept = {k: v for k, v in self.kept.items() if self._pending_within(k, 1)}
        self.history.forget(lambda k: self._pending_within(k, 2 * self.max_gap + 2))

    def _pending_within(self, t: int, reach: int) -> bool:
        return any(n not in self.done and 0 <= n < self.frames for n in range(t - reach, t + reach + 1))



def _nearest_costs(before: Objects, guesses: Guesses, now: Objects, rows_now: np.ndarray,
                   limit: float) -> np.ndarray:  # fmt: skip
    """For each object ``rows_now`` of ``now``: the cost (diameters) from the nearest place
    an object of ``before`` is looked for (``guesses``), whatever the caps; inf beyond
    ``limit``. An object taken up by a track after a gap must lie clearly nearer to that
    track than to these: else it may as well be one of them moved far, or a second
    daughter, or a piece split off."""
    out = np.full(len(rows_now), np.inf)
    if not len(rows_now) or not len(before.ids):
        return out
    uncapped = Guesses(guesses.owner, guesses.points, np.full(len(guesses.owner), np.inf))
    diameters_before, diameters_now = before.diameters(), now.diameters()[rows_now]
    reach = limit * typical_reach(diameters_before, diameters_now)
    _, cols, cost = guessed_pairs(uncapped, diameters_before, before.sizes, now.centres[rows_now],
                                   diameters_now, now.sizes[rows_now], reach)  # fmt: skip
    np.minimum.at(out, cols, cost)
    return out
