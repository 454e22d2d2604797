"""While a Segment run streams provisional tiles into the live labels, the autosave saves
the labels as a cancel of the run would leave them (``LiveLabelsDestination.saved_values``):
a stroke made meanwhile is saved, the tiles around it are not (a kill mid-run left them in
the project as the user's labels); once the run is over, saves hold the labels again."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.label_edit import edit_from_region
from unet_studio.app.project import Project
from unet_studio.app.qt.live_labels import LiveLabelsDestination
from unet_studio.app.reviewed import ReviewedRegions
from unet_studio.models.generators import drain

SHAPE = (4, 40, 40)
TARGET = (slice(1, 3), slice(None), slice(None))  # (planes 1 and 2 segmented again)
TILE = (slice(0, 2), slice(0, 40), slice(0, 20))  # (of the target: the left half)


def _labels() -> np.ndarray:
    """Labels shown before the run: an object in every plane."""
    labels = np.zeros(SHAPE, np.int32)
    labels[:, 5:15, 5:15] = 3
    labels[:, 25:35, 25:35] = 4
    return labels


def _streaming(labels: np.ndarray) -> LiveLabelsDestination:
    """A run over ``TARGET`` of ``labels`` (saved as the image's), its backup taken and its
    first tile (id 9) written."""
    live = LiveLabelsDestination(labels, TARGET, ReviewedRegions(SHAPE), id_offset=0)
    drain(live.iter_prepare())
    live[TILE] = np.full((2, 40, 20), 9)
    assert (labels[1:3, :, :20] == 9).all()
    return live


def _saved(folder, image_id: str) -> np.ndarray:
    with Project.open(folder) as again:
        return again.labels(image_id)


def test_a_stroke_during_a_run_is_saved_without_the_runs_tiles(tmp_path):
    labels, before = _labels(), _labels()
    with Project.create(tmp_path / "p", autosave_delay=60) as project:
        ref = project.add_image(tmp_path / "a.tif", axes="ZYX")
        project.attach_labels(ref.id, labels)
        assert project.flush()
        live = _streaming(labels)
        stroke = (slice(1, 2), slice(20, 24), slice(2, 6))  # (in the tile's plane and box)
        edit = edit_from_region(labels, stroke, 77)
        edit.apply_to(labels)
        live.regions.mark_region(stroke)  # (the session marks a stroke before saving it)
        project.record_edit(ref.id, edit)
        assert project.flush()
        expected = before.copy()
        expected[stroke] = 77
        np.testing.assert_array_equal(_saved(tmp_path / "p", ref.id), expected)

        live.finish()  # the run is over: its labels are what is saved from now on
        project.mark_dirty(ref.id, TARGET)
        assert project.flush()
        np.testing.assert_array_equal(_saved(tmp_path / "p", ref.id), labels)


def test_a_lazy_save_queued_before_the_run_reads_no_tile(tmp_path, monkeypatch):
    """A big stack's saves copy their chunks when written (a second later): one queued
    just before Run, written after the first tiles, saved them."""
    from unet_studio.app import project_arrays

    monkeypatch.setattr(project_arrays, "LAZY_SNAPSHOT_BYTES", 1)  # (every save lazy)
    labels, before = _labels(), _labels()
    with Project.create(tmp_path / "p", autosave_delay=60) as project:
        ref = project.add_image(tmp_path / "a.tif", axes="ZYX")
        project.attach_labels(ref.id, labels)  # (queued, read when written: below)
        live = _streaming(labels)
        assert project.flush()
        np.testing.assert_array_equal(_saved(tmp_path / "p", ref.id), before)

        live.restore()  # cancelled: put back, and saved as the labels hold them again
        labels[0, 0, 0] = 5  # (an edit after the run)
        project.mark_dirty(ref.id, (slice(0, 1), slice(0, 1), slice(0, 1)))
        assert project.flush()
        np.testing.assert_array_equal(_saved(tmp_path / "p", ref.id), labels)


@pytest.mark.qt
def test_a_stroke_a_tile_wrote_over_is_saved_again_once_painted_again(session):
    """napari writes a stroke a turn before the session hears of it; a tile written in
    between went over it. ``RunEdits`` paints it again once marked, and has it saved again:
    the session saved it with the tile in it."""
    from unet_studio.app.qt.live_edits import RunEdits

    class Panel:  # (what RunEdits reads of the Segment panel)
        _live = None

    panel, labels = Panel(), session.host.current_labels()
    panel.session = session
    RunEdits(session.host, panel)  # (made after the session: it hears edits after it)
    live = LiveLabelsDestination(labels, (slice(None),) * 3, session.ensure_reviewed(), 0)
    drain(live.iter_prepare())
    panel._live = live
    tile = (slice(None), slice(0, 30), slice(0, 15))
    session.host.edit_listeners.insert(0, lambda *_: live.__setitem__(tile, 9))  # (between)
    stroke = (slice(0, 1), slice(10, 14), slice(2, 6))
    session.host.user_paint(edit_from_region(labels, stroke, 77))
    assert (labels[stroke] == 77).all()  # (painted again)
    path = session.project.path
    assert session.project.flush()
    with Project.open(path) as again:  # (read-only: this session holds it)
        saved = again.labels(again.images[0].id)
    assert (saved[stroke] == 77).all()
