""""Stop, keep done" on a Segment run over a time series, in a real viewer: the time points
whose final labels were written stay (as an uninterrupted run's, the time point on screen,
labelled first, under ids of its own), the others are put back as they were, reviewed
pixels are untouched, and the autosave stores it; stopped before any time point was done,
the labels are left as they were."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt

REVIEWED = (0, slice(0, 12), slice(0, 12))  # reviewed pixels of the first time point
USER_ID = 1000  # the object the user drew there


@pytest.fixture
def movie(studio, nuclei_crop):
    """A TYX series of 4 time points, its labels empty but for a reviewed object at t=0, the
    viewer at t=2 (labelled first: a preview under ids of its own). Returns the labels."""
    return _open_movie(studio, nuclei_crop[0][3:7, :48, :48])


def _open_movie(studio, frames: np.ndarray) -> np.ndarray:
    studio.viewer.add_image(frames, name="movie", metadata={"axes": "TYX"})
    before = np.zeros(frames.shape, np.int32)
    before[0, 2:10, 2:10] = USER_ID
    studio.session.show_labels(before)
    studio.session.ensure_reviewed().mark_region(REVIEWED)
    studio.viewer.dims.set_current_step(0, 2)
    return before.copy()


def _same_objects(ours: np.ndarray, reference: np.ndarray) -> dict[int, int]:
    """Assert both hold the same objects (ids may differ); returns {our id: reference id}."""
    pairs = set(zip(ours.ravel().tolist(), reference.ravel().tolist()))
    forward = dict(pairs)
    assert len(forward) == len(pairs) == len({v for _, v in pairs}), "not the same objects"
    assert forward.get(0, 0) == 0
    return forward


def _panel(studio, segment_panel_of):
    panel = segment_panel_of(studio)
    panel.scope_stack.setChecked(True)
    panel.tile_combo.setCurrentText("16")  # 9 tiles a time point: time to stop
    return panel


def test_stop_keep_done_keeps_the_time_points_done(studio, qtbot, movie, segment_panel_of,
                                                   run_segment, saved_labels, stop_keep_after):
    panel = _panel(studio, segment_panel_of)
    run_segment(panel)  # uninterrupted, as reference
    labels = studio.host.current_labels()
    reference = labels.copy()
    labels[...] = movie  # (the same array: its reviewed marks hold) as before that run
    studio.host.refresh_labels()
    done = stop_keep_after(panel, 2)

    linked = sorted({t for t, is_linked in done if is_linked})
    kept = sorted({t for t, _ in done})
    assert done[0] == (2, False) and 0 in linked and len(kept) < 4  # (preview, then t=0)
    assert panel.status.text() == (f"Stopped: {len(kept)} of 4 time points kept; the others "
                                   "were left as they were.")
    labels = studio.host.current_labels()
    np.testing.assert_array_equal(labels[REVIEWED], movie[REVIEWED])  # reviewed: untouched
    for t in set(range(4)) - set(kept):
        np.testing.assert_array_equal(labels[t], movie[t])
    # The linked time points kept hold the reference's objects and tracks (one mapping of
    # ids over all of them).
    if linked:
        _same_objects(labels[linked], reference[linked])
    # The preview (t=2, kept before its turn to be linked) holds the reference's objects and
    # continues the tracks of the time points kept around it: one mapping of ids over all
    # the time points kept (under ids of its own, a full run after the stop broke tracks).
    _same_objects(labels[2], reference[2])
    _same_objects(labels[kept], reference[kept])
    np.testing.assert_array_equal(saved_labels(studio.session), labels)  # autosaved


def test_stop_keep_done_before_any_time_point_leaves_the_labels(studio, qtbot, nuclei_crop,
                                                                segment_panel_of):
    movie = _open_movie(studio, nuclei_crop[0][3:6])  # (96x96: 36 tiles a time point)
    panel = _panel(studio, segment_panel_of)
    panel.run()
    # At once: the worker stops at its first step (loading, reading), before any tile.
    # (Pressed at the first tile instead, a loaded machine let the worker finish the time
    # point on screen before the press reached it: then that one is rightly kept.)
    panel.stop_keep_button.click()
    with qtbot.waitSignal(panel.cancelled, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: panel.worker is None, timeout=10_000)
    np.testing.assert_array_equal(studio.host.current_labels(), movie)
    assert panel.status.text() == ("Stopped before any time point was done; the labels were "
                                   "left as they were.")
