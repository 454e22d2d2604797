"""A whole series segmented again keeps the ids shown before and the user's track decisions
(``app.shown_ids``), through the steps a streamed run takes (``LiveLabelsDestination``)."""

from __future__ import annotations

import numpy as np
from skimage.draw import disk
from skimage.measure import label

from unet_studio.app.label_edit import apply_edit
from unet_studio.app.qt.live_labels import LiveLabelsDestination
from unet_studio.app.reviewed import ReviewedRegions
from unet_studio.app.shown_ids import keep_shown_ids
from unet_studio.app.track_edit import cut_track_edit, join_tracks_edit
from unet_studio.models.time_links import TimeLinker

SHAPE = (4, 64, 96)  # (T, Y, X)
# Disc centres per time point: the first two cross in raster order (a run starting at the
# last time point numbers them the other way round); the last one is gone after time
# point 1 and the one before it appears far away at time point 2 (a track the linking loses).
DISCS = [
    [(10, 20), (14, 20), (18, 20), (22, 20)],
    [(20, 60), (16, 60), (12, 60), (8, 60)],
    [(45, 15), (46, 18), (47, 21), (48, 24)],
    [(50, 50), (50, 50), (50, 50), (50, 50)],
    [None, None, (40, 85), (42, 85)],
    [(30, 40), (32, 40), None, None],
]


def _foreground() -> np.ndarray:
    mask = np.zeros(SHAPE, bool)
    for track in DISCS:
        for t, centre in enumerate(track):
            if centre is not None:
                mask[t][disk(centre, 6, shape=SHAPE[1:])] = True
    return mask


def _engine_run(foreground: np.ndarray, first: int) -> np.ndarray:
    """What the engine writes: each time point labelled 1..N, linked over time from the
    time point on screen (``first``) outwards."""
    frames = foreground.shape[0]
    labels = np.zeros(foreground.shape, np.int32)
    linker = TimeLinker(frames)
    order = sorted(range(frames), key=lambda t: (abs(t - first), t))
    for t in order:
        labels[t] = label(foreground[t])
        linker.link(t, labels[t])
    return labels


def _segment_again(shown: np.ndarray, regions: ReviewedRegions | None, new: np.ndarray) -> np.ndarray:
    """A streamed run of the whole series into ``shown`` around ``regions``: written a time
    point at a time, tidied (``finish``), then the ids shown before kept."""
    live = shown.copy()
    target = (slice(None),) * live.ndim
    destination = LiveLabelsDestination(live, target, regions, time_axis=0)
    for t in range(new.shape[0]):
        destination[t] = new[t]
    destination.finish()
    kept = None if regions is None or not regions.any() else regions.mask
    keep_shown_ids(live, destination.backup, target, kept, 0)
    return live


def _at(labels: np.ndarray, track: int) -> list[int]:
    """The id at the centre of disc ``track`` at each time point (0 where it is absent)."""
    return [0 if c is None else int(labels[t][c]) for t, c in enumerate(DISCS[track])]


def test_the_same_labels_segmented_again_keep_every_id():
    foreground = _foreground()
    shown = _engine_run(foreground, first=0)
    new = _engine_run(foreground, first=3)
    assert not np.array_equal(new, shown)  # (the engine numbers them otherwise)
    np.testing.assert_array_equal(_segment_again(shown, None, new), shown)


def test_an_object_without_a_partner_takes_a_fresh_id_one_per_track():
    """A nucleus the new run finds where none was shown (time points 2-3) is no object
    shown before: it gets an id none of them held, the same at both time points."""
    foreground = _foreground()
    shown = _engine_run(foreground, first=0)
    shown[2:][shown[2:] == shown[2][DISCS[4][2]]] = 0  # (not found by the first run)
    again = _segment_again(shown, None, _engine_run(foreground, first=3))
    found = _at(again, 4)[2:]
    assert found[0] == found[1] and found[0] not in np.unique(shown)
    np.testing.assert_array_equal(again[shown > 0], shown[shown > 0])


def test_a_cut_track_stays_cut_after_the_series_is_segmented_again():
    foreground = _foreground()
    shown = _engine_run(foreground, first=0)
    track = int(shown[0][DISCS[0][0]])
    cut = cut_track_edit(shown, 0, track, 2, int(shown.max()) + 1)
    regions = ReviewedRegions(SHAPE)
    regions.record_edit(cut)  # (the cut time point only: the later ones unseen)
    shown = apply_edit(shown, cut)
    assert _at(shown, 0) == [track, track, cut.new_values[0], cut.new_values[0]]
    again = _segment_again(shown, regions, _engine_run(foreground, first=3))
    assert _at(again, 0) == _at(shown, 0)
    np.testing.assert_array_equal(again, shown)


def test_a_joined_track_stays_joined_and_its_neighbours_keep_their_ids():
    foreground = _foreground()
    shown = _engine_run(foreground, first=0)
    early, late = int(shown[1][DISCS[5][1]]), int(shown[2][DISCS[4][2]])
    assert early != late  # (the linking lost the nucleus that moved far)
    join = join_tracks_edit(shown, 0, [(early, 1), (late, 2)])
    regions = ReviewedRegions(SHAPE)
    regions.record_edit(join)
    shown = apply_edit(shown, join)
    again = _segment_again(shown, regions, _engine_run(foreground, first=3))
    assert _at(again, 5)[:2] == _at(again, 4)[2:] == [early, early]
    np.testing.assert_array_equal(again, shown)


def test_ids_of_reviewed_objects_are_not_given_to_another_object_at_their_time_point():
    """Reviewed nucleus 99 at time point 1 (drawn in a corner) had been shown on disc 0 at
    that time point as well: the new object there keeps out of 99's way and goes on under
    the id its track was shown with at the other time points."""
    foreground = _foreground()
    shown = _engine_run(foreground, first=0)
    regions = ReviewedRegions(SHAPE)
    box = (slice(1, 2), slice(0, 8), slice(0, 8))
    shown[box] = 99
    regions.mark_region(box)
    track = int(shown[0][DISCS[0][0]])
    shown[1][shown[1] == track] = 99
    again = _segment_again(shown, regions, _engine_run(foreground, first=3))
    assert _at(again, 0) == [track] * 4
    assert (again[1][box[1:]] == 99).all()
