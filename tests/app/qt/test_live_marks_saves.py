"""A mark added (or taken away) while a Segment run streams changes what the run's saves
hold there (``LiveLabelsDestination.saved_values``: the run's tiles at reviewed pixels, the
labels from before the run at the others) though no label changed: ``RunEdits`` saves that
box again, so that a kill mid-run leaves the marks over the labels the user saw, not over
labels from before the run that she never reviewed."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.host import full_view
from unet_studio.app.label_edit import edit_from_region
from unet_studio.app.project import Project
from unet_studio.app.qt.live_edits import RunEdits
from unet_studio.app.qt.live_labels import LiveLabelsDestination
from unet_studio.models.generators import drain

pytestmark = pytest.mark.qt


class Panel:  # (what RunEdits reads of the Segment panel)
    _live = None


def _streaming(session):
    """The session's labels (an object, saved) with a run streaming into them: a tile (id 9)
    over all of them. Returns the labels as they were before the run, and what RunEdits
    listens with (keep it alive)."""
    labels = session.host.current_labels()
    labels[..., 5:25, 5:25] = 3
    session.project.mark_dirty(session.image_id, None)
    before = labels.copy()
    panel = Panel()
    panel.session = session
    edits = RunEdits(session.host, panel)  # (made after the session, as the panel's is)
    live = LiveLabelsDestination(labels, (slice(None),) * labels.ndim,
                                 session.ensure_reviewed(), 0)
    drain(live.iter_prepare())
    panel._live = live
    live[(slice(None),) * labels.ndim] = np.full(labels.shape, 9)
    return before, (panel, edits)


def _saved(session) -> tuple[np.ndarray, np.ndarray]:
    """The labels and reviewed marks saved (the project as a kill now would leave it)."""
    assert session.project.flush()
    with Project.open(session.project.path) as again:  # (read-only: this session holds it)
        image_id = again.images[0].id
        return again.labels(image_id), again.reviewed(image_id).mask


def test_a_slice_marked_and_unmarked_during_a_run_is_saved_as_she_saw_it(session):
    from unet_studio.app.qt.review_marks import mark_reviewed_view

    before, _listening = _streaming(session)
    labels = session.host.current_labels()
    session.host.view = full_view(labels.shape, (1, 0, 0))
    mark_reviewed_view(session)  # R on slice 1, nothing edited: the tile there is reviewed
    saved, reviewed = _saved(session)
    assert reviewed[1].all() and not reviewed[0].any()
    np.testing.assert_array_equal(saved[1], labels[1])  # (the tile she saw and accepted)
    np.testing.assert_array_equal(saved[0], before[0])  # (not reviewed: as Cancel leaves it)

    mark_reviewed_view(session, reviewed=False)  # Shift+R: Cancel would put it back now
    saved, reviewed = _saved(session)
    assert not reviewed.any()
    np.testing.assert_array_equal(saved, before)


def test_the_marks_around_a_stroke_during_a_run_are_saved_with_the_tile_there(
        session_on, tmp_path, monkeypatch, qtbot):
    """A stroke marks a margin around its pixels: there the tile, which the stroke did not
    change, is saved again once the marks are told (a turn after the stroke). Here the
    margin reaches into the next chunk of the saved labels (512 pixels wide), which the
    stroke's own save does not cover."""
    from unet_studio.app.host import FakeHost

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    host = FakeHost()
    host.add_image(np.zeros((30, 530), np.float32), "YX", name="img")
    session = session_on(host, tmp_path / "home")
    session.show_labels(np.zeros((30, 530), np.int32))
    _, _listening = _streaming(session)
    labels = host.current_labels()
    host.user_paint(edit_from_region(labels, (slice(10, 14), slice(507, 512)), 77))
    qtbot.waitUntil(lambda: not len(session._later))  # (the marks told a turn later)
    saved, reviewed = _saved(session)
    assert reviewed[:, 512:].any()  # (tile pixels marked in the next chunk, not painted)
    np.testing.assert_array_equal(saved[reviewed], labels[reviewed])
