"""An object keeps its id from one time point to the next (frame-to-frame overlap)."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.models import link_assignment, link_pairs, time_links
from unet_studio.models.time_links import TimeLinker, matched_ids
from unet_studio.models.track_history import Objects


def disc(shape, centre, radius):
    yy, xx = np.indices(shape)
    return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius**2


def frames_of_moving_cells(n_frames=4, shape=(60, 80)):
    """Ids 1..N in each frame, in a shuffled order: three cells drifting right (2 px per
    frame), one appearing in frame 2, and cell A dividing in frame 3."""
    frames = []
    rng = np.random.default_rng(0)
    for t in range(n_frames):
        cells = [((15, 12 + 2 * t), 7), ((40, 20 + 2 * t), 8), ((30, 55 + 2 * t), 6)]
        if t >= 2:
            cells.append(((50, 70), 5))  # appears
        if t == 3:  # A divides: two daughters above and below where it was
            cells[0:1] = [((11, 17), 5), ((20, 17), 5)]
        labels = np.zeros(shape, np.int32)
        for new_id, (centre, radius) in zip(rng.permutation(len(cells)) + 1, cells):
            labels[disc(shape, centre, radius)] = new_id
        frames.append(labels)
    return frames


def test_overlap_matches_best_pairs_once_each():
    before = np.zeros((10, 30), np.int32)
    before[2:8, 2:8], before[2:8, 20:26] = 1, 2
    after = np.zeros_like(before)
    after[2:8, 3:9], after[2:8, 12:16], after[2:8, 21:27] = 5, 6, 7
    assert matched_ids(before, after) == {5: 1, 7: 2}  # 6 overlaps nothing: no partner
    with pytest.raises(ValueError, match="shapes"):
        matched_ids(before, after[:5])


@pytest.mark.parametrize("order", [[0, 1, 2, 3], [2, 1, 3, 0]])
def test_objects_keep_their_ids_in_any_outward_order(order, monkeypatch):
    monkeypatch.setattr(link_pairs, "SLAB_PIXELS", 500)  # overlaps counted a few rows at a time
    monkeypatch.setattr(time_links, "KEPT_RAM_BYTES", 1)  # time points set aside on disk
    frames = frames_of_moving_cells()
    pixels_before = [f > 0 for f in frames]
    linker = TimeLinker(len(frames))
    for t in order:
        linker.link(t, frames[t])
    for t, labels in enumerate(frames):
        np.testing.assert_array_equal(labels > 0, pixels_before[t])  # the same objects
        assert len(np.unique(labels[labels > 0])) == len(np.unique(labels)) - 1
    b = frames[0][40, 20]  # B and C drift and keep their ids all along
    c = frames[0][30, 55]
    assert all(f[40, 20 + 2 * t] == b and f[30, 55 + 2 * t] == c for t, f in enumerate(frames))
    new = frames[2][50, 70]  # the newcomer has an id no one had before, and keeps it
    assert frames[3][50, 70] == new and new not in frames[0] and new not in frames[1]
    a = frames[2][15, 16]
    daughters = {int(frames[3][11, 17]), int(frames[3][20, 17])}
    assert len(daughters) == 2 and a in daughters  # one daughter goes on as A, one is new
    ids = [set(np.unique(f)) - {0} for f in frames]
    assert len(set().union(*ids)) == 3 + 1 + 1  # A, B, C, the newcomer, a second daughter
    assert len(linker.kept) <= 2  # only the ends of the linked run are kept
    assert all(isinstance(k, np.memmap) and k.dtype == np.uint8 for k in linker.kept.values())


def test_objects_that_moved_past_their_own_outline_are_linked_by_position():
    """The whole field drifts by more than a nucleus (a stage drift: no overlap at all) and
    each nucleus moves a little more on its own: they keep their ids; a newcomer does not
    take one."""
    shape = (80, 120)
    centres = [(15, 15), (15, 60), (40, 35), (60, 80), (60, 20)]
    own = [(1, 0), (0, -2), (-1, 1), (2, 1), (0, 0)]
    before, after = np.zeros(shape, np.int32), np.zeros(shape, np.int32)
    for label, ((y, x), (dy, dx)) in enumerate(zip(centres, own), start=1):
        before[disc(shape, (y, x), 5)] = label
        after[disc(shape, (y + 3 + dy, x + 14 + dx), 5)] = 6 - label  # ids reversed
    after[disc(shape, (40, 105), 5)] = 9  # a newcomer, far from everyone
    assert matched_ids(before, after, max_step=0) == {}  # no overlap: nothing to go by
    assert matched_ids(before, after) == {6 - label: label for label in range(1, 6)}
    moments = [link_pairs._moments(a, (0, 0)) for a in (before, after)]
    drift = link_pairs.common_drift(*(Objects.summed([m]) for m in moments))
    np.testing.assert_allclose(drift, (3, 14), atol=1.5)


def test_a_pair_too_close_to_call_stays_unlinked():
    """Two nuclei side by side move so far that the one after lies as near to either: an
    id given to it would be a guess, so it gets a new one; an object of another size is no
    partner either."""
    shape = (60, 90)
    before, after = np.zeros(shape, np.int32), np.zeros(shape, np.int32)
    before[disc(shape, (30, 20), 5)], before[disc(shape, (30, 44), 5)] = 1, 2
    after[disc(shape, (30, 32), 5)] = 1  # midway between where 1 and 2 were
    assert matched_ids(before, after) == {}
    before = np.zeros(shape, np.int32)
    before[disc(shape, (30, 20), 5)] = 1
    after = np.zeros(shape, np.int32)
    after[disc(shape, (30, 40), 14)] = 1  # near (not touching), but 7x the area
    assert matched_ids(before, after) == {}
    after = np.zeros(shape, np.int32)
    after[disc(shape, (30, 30), 5)] = 1  # same size, 10 px on (a diameter of 11): linked
    assert matched_ids(before, after) == {1: 1}


@pytest.mark.parametrize("order", [[0, 1, 2, 3], [3, 2, 1, 0], [1, 2, 0, 3]])
def test_a_nucleus_missed_in_one_frame_keeps_its_id_after_it(order):
    """Two nuclei drift right; the network misses A in frame 1 and B in frame 2: after the
    gap each goes on with its own id (linked to the frame before the gap), in any outward
    order; without gap closing it gets a new one."""
    shape = (40, 100)

    def frames():
        out = []
        for t in range(4):
            labels = np.zeros(shape, np.int32)
            if t != 1:
                labels[disc(shape, (12, 10 + 4 * t), 6)] = 1  # A
            if t != 2:
                labels[disc(shape, (28, 60 + 4 * t), 6)] = 2 if t != 1 else 1  # B
            out.append(labels)
        return out

    for close_gaps in (True, False):
        series = frames()
        linker = TimeLinker(4, max_gap=1 if close_gaps else 0)
        for t in order:
            linker.link(t, series[t])
        a = [series[t][12, 10 + 4 * t] for t in (0, 2, 3)]
        b = [series[t][28, 60 + 4 * t] for t in (0, 1, 3)]
        assert (len(set(a)) == 1 and len(set(b)) == 1) == close_gaps, (close_gaps, a, b)
        assert a[0] != b[0]
        assert len(linker.kept) <= 2


def test_crowded_objects_that_moved_far_are_paired_as_a_whole():
    """A moves almost a diameter towards B, and ends nearer to where B was than to where it
    was itself; B moves on too. Nearest by nearest, A after would be a guess between A and
    B; paired as a whole (the least total distance) it is clearly A, and B is B."""
    shape = (60, 90)
    before, after = np.zeros(shape, np.int32), np.zeros(shape, np.int32)
    before[disc(shape, (30, 20), 6)], before[disc(shape, (30, 40), 6)] = 1, 2
    after[disc(shape, (30, 31), 6)], after[disc(shape, (30, 47), 6)] = 2, 1  # A, B
    assert matched_ids(before, after, max_step=0) == {}  # (no overlap to go by)
    assert matched_ids(before, after) == {2: 1, 1: 2}


def test_where_objects_barely_move_a_newcomer_near_one_that_left_gets_a_new_id():
    """Six nuclei stay put (matched by overlap); one leaves and a new one appears a
    diameter from where it was (not touching it: overlapping it alone, it would be the
    same nucleus): the step is far beyond what the others move, so it is no partner; the
    same step in a field where every nucleus moves that much is one."""
    shape = (60, 160)
    places = [(15, 15 + 26 * i) for i in range(6)]
    before, after = np.zeros(shape, np.int32), np.zeros(shape, np.int32)
    for label, centre in enumerate(places, start=1):
        before[disc(shape, centre, 6)] = after[disc(shape, centre, 6)] = label
    before[disc(shape, (45, 70), 6)] = 7  # leaves
    after[disc(shape, (50, 81), 6)] = 8  # appears 12 px on (a diameter of ~12)
    assert matched_ids(before, after) == {label: label for label in range(1, 7)}
    moving = np.zeros_like(after)
    for label, (y, x) in enumerate(places, start=1):
        moving[disc(shape, (y + 5, x + 11), 6)] = label
    moving[disc(shape, (50, 81), 6)] = 8
    assert matched_ids(before, moving)[8] == 7


@pytest.mark.parametrize("objects", [40, 100, 700])
def test_crowds_too_big_to_check_each_pair_are_linked_only_where_clear(objects):
    """A ring of candidates (each object near its own partner and the next one's), one
    group of 80 to 1,400 objects: assigned with a check per pair, with a cheap check, or
    cheapest first; every way, clear partners are paired, and where both ways round the
    ring cost the same (a true tie) none is."""
    own = np.arange(objects)
    rows, cols = np.concatenate([own, own]), np.concatenate([own, (own + 1) % objects])
    clear = np.concatenate([np.full(objects, 0.1), np.full(objects, 0.6)])
    assert sorted(link_assignment.assigned(rows, cols, clear, 0.5)) == [(i, i) for i in own]
    tied = np.full(2 * objects, 0.3)
    assert link_assignment.assigned(rows, cols, tied, 0.5) == []


def field_of_nuclei(n_frames, *, seed=0, shape=(160, 220), count=20, radius=5, hidden=None,
                    wobble=1.0):  # fmt: skip
    """Frames of ``count`` nuclei spread over ``shape``, all drifting (2, 3) px per frame
    and each wobbling on its own; ``hidden``: {nucleus: frames where the network missed
    it}. Ids 1..N in a shuffled order per frame, and per frame {nucleus: its id there}."""
    rng = np.random.default_rng(seed)
    places = []
    while len(places) < count:  # (4 radii apart: none touch as they wobble)
        p = rng.uniform((15, 15), (shape[0] - 35, shape[1] - 45))
        if all(np.hypot(*(p - q)) > 4 * radius for q in places):
            places.append(p)
    places = np.array(places)
    frames, truth = [], []
    for t in range(n_frames):
        places = places + (2, 3) + rng.normal(0, wobble, places.shape)
        seen = [k for k in range(count) if t not in (hidden or {}).get(k, ())]
        ids = dict(zip(seen, rng.permutation(len(seen)) + 1))
        labels = np.zeros(shape, np.int32)
        for k in seen:
            labels[disc(shape, places[k], radius)] = ids[k]
        frames.append(labels)
        truth.append(ids)
    return frames, truth


@pytest.mark.parametrize("order", [[0, 1, 2, 3, 4, 5], [3, 2, 4, 1, 5, 0]])
def test_nuclei_missed_for_one_or_two_frames_take_up_their_ids_again(order):
    """In a field of 20 drifting nuclei, the network misses three in frame 2 and
    three more in frames 2 and 3: each comes back with its own id, in any outward order;
    no frame holds an id twice, and no id is taken by another nucleus."""
    hidden = {0: (2,), 1: (2,), 2: (2,), 3: (2, 3), 4: (2, 3), 5: (2, 3)}
    frames, truth = field_of_nuclei(6, hidden=hidden)
    copies = [f.copy() for f in frames]
    linker = TimeLinker(len(frames))
    for t in order:
        linker.link(t, frames[t])
    given = [{k: int(f[c == own][0]) for k, own in ids.items()}
             for f, c, ids in zip(frames, copies, truth)]
    for ids in given:
        assert len(set(ids.values())) == len(ids)  # one id per nucleus in each frame
    for k in range(20):  # each nucleus has one id all along, and no other has it
        assert len({ids[k] for ids in given if k in ids}) == 1, k
    assert len(set().union(*(ids.values() for ids in given))) == 20
    assert len(linker.kept) <= 2 and len(linker.history.objects) <= 2 * (2 * 2 + 2) + 1


def test_a_gap_is_bridged_only_where_the_nucleus_is_clearly_the_one_missed():
    """Two nuclei side by side are missed in frames 1 and 2; in frame 3 one nucleus is
    back halfway between where either would be: it could be either, so it gets a new id.
    A third nucleus missed the same frames, far from both, gets its id back; and without
    gap closing (``max_gap=0``) it does not."""
    shape = (60, 120)

    def frames():
        out = []
        for t in range(4):
            labels = np.zeros(shape, np.int32)
            labels[disc(shape, (45, 10 + 2 * t), 5)] = 1  # always seen
            labels[disc(shape, (45, 60 + 2 * t), 5)] = 2  # always seen
            if t in (0, 3):
                labels[disc(shape, (45, 100 + 2 * t), 5)] = 3  # C: missed in 1 and 2
            if t == 0:
                labels[disc(shape, (10, 30), 5)], labels[disc(shape, (22, 30), 5)] = 4, 5
            if t == 3:
                labels[disc(shape, (16, 36), 5)] = 4  # midway between A and B, drifted
            out.append(labels)
        return out

    for max_gap, bridged in ((2, True), (0, False)):
        series = frames()
        linker = TimeLinker(4, max_gap=max_gap)
        for t in range(4):
            linker.link(t, series[t])
        a, b = series[0][10, 30], series[0][22, 30]
        back = series[3][16, 36]
        assert back not in (a, b) and back not in series[0]
        assert (series[3][45, 106] == series[0][45, 100]) == bridged


@pytest.mark.parametrize("speed", [6, 9])
def test_nuclei_moving_steadily_faster_than_the_gate_keep_their_ids(speed):
    """Five nuclei sit still (so an object may move a quarter of a diameter, the gate) and
    two move steadily 6-9 px a frame (over half a diameter of 11: hardly overlapping
    themselves, and nothing else), one right and one down-left: each keeps one id (by
    its own motion once two steps show it, and by overlapping itself alone); none takes
    another's."""
    shape = (100, 160)
    still = [(15, 15), (15, 140), (85, 15), (85, 140), (50, 150)]
    frames = []
    for t in range(6):
        labels = np.zeros(shape, np.int32)
        for k, centre in enumerate(still, start=1):
            labels[disc(shape, centre, 5)] = k
        labels[disc(shape, (30, 30 + speed * t), 5)] = 6
        labels[disc(shape, (20 + speed * t * 0.6, 110 - speed * t * 0.8), 5)] = 7
        frames.append(labels)
    linker = TimeLinker(len(frames))
    for t, labels in enumerate(frames):
        linker.link(t, labels)
    right = [f[30, 30 + speed * t] for t, f in enumerate(frames)]
    down_left = [f[round(20 + speed * t * 0.6), round(110 - speed * t * 0.8)] for t, f in enumerate(frames)]
    assert len(set(right)) == 1 and len(set(down_left)) == 1 and right[0] != down_left[0]
    assert all(f[c] == frames[0][c] for f in frames for c in still)  # the still ones: theirs


def test_a_tracks_own_step_is_its_motion_less_the_drift_per_time_point():
    """Track 1 is seen at time points 0 and 3 (missed at 1 and 2), track 2 at 2 and 3; the
    objects as a whole drift (1, 2) a time point. Their own steps forward: (2, 0) a time
    point for 1 (over the three), (0, 0) for 2; none for a track seen once (3)."""
    from unet_studio.models.track_history import Sightings, TrackHistory

    history = TrackHistory()
    at = {0: {1: (10, 10)}, 1: {}, 2: {2: (40, 40)}, 3: {1: (19, 16), 2: (41, 42), 3: (5, 5)}}
    for t, objects in at.items():
        ids = np.array(sorted(objects), np.int64)
        centres = np.array([objects[i] for i in ids], float).reshape(-1, 2)
        history.add(t, Objects(ids, np.full(len(ids), 50.0), centres))
        if t:
            history.add_drift(t - 1, t, np.array([1.0, 2.0]))
    np.testing.assert_allclose(history.drift(3, 0), (-3, -6))
    steps = history.own_steps(Sightings.of(history.objects[3], 3), +1, depth=3)
    np.testing.assert_allclose(steps[:2], [(2, 0), (0, 0)])
    assert np.isnan(steps[2]).all()
    last = history.last_seen(np.array([1, 2, 9]), [2, 1, 0])
    assert last.frames.tolist() == [0, 2, -1]
