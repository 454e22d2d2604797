"""What the GUI thread does per edit in a napari window: napari's stroke of many dabs redraws
the reviewed marks once, an edit of every object is saved a turn after it is applied (and
still before the project closes), and telling whether napari undid a big step reads a
sample of its pixels."""

from __future__ import annotations

import numpy as np
import pytest
from napari.layers import Labels

pytestmark = pytest.mark.qt


def test_a_brush_stroke_of_many_dabs_redraws_the_marks_once(corrected, qtbot):
    session, viewer = corrected.session, corrected.viewer
    layer = next(lay for lay in viewer.layers if isinstance(lay, Labels))
    shown, overlays = [], []
    session.reviewed_changed.connect(lambda: shown.append(1))
    set_overlay = session.host.set_reviewed_overlay
    session.host.set_reviewed_overlay = lambda mask: (overlays.append(1), set_overlay(mask))
    layer.selected_label, layer.brush_size = 77, 3
    layer._begin_stroke()  # (napari's mouse drag: one stroke, an atom per dab)
    for x in range(10, 60, 5):
        layer.paint((6, 40, x), 77, refresh=True)
    layer._commit_stroke()
    qtbot.wait(50)
    assert len(shown) == 1 and len(overlays) == 1  # (was one per dab: 10)
    assert session.reviewed.mask[6, 40, 10:55].all() and session.reviewed.changed[6, 40, 10:55:5].all()
    shown.clear()
    layer.undo()  # (reported as an edit per dab too)
    qtbot.wait(50)
    assert len(shown) == 1 and not session.reviewed.changed[6, 40, 10:55].any()


def _every_other_object_deleted(labels):
    from unet_studio.app.label_edit import edit_from_region

    return edit_from_region(labels, (), np.where(labels % 2 == 1, 0, labels), "many")


def test_an_edit_of_every_object_is_saved_a_turn_later_and_before_closing(
        corrected, qtbot, monkeypatch, saved_labels):  # fmt: skip
    from unet_studio.app.qt import session_edits as session_module

    monkeypatch.setattr(session_module, "SAVE_LATER_PIXELS", 100)  # (the crop's edits: big)
    session = corrected.session
    project = session.project
    recorded = []
    record_edit = project.record_edit
    monkeypatch.setattr(project, "record_edit", lambda *a: (recorded.append(1), record_edit(*a)))
    labels = session.host.current_labels()
    before = labels.copy()
    edit = _every_other_object_deleted(labels)
    assert edit.size > 100
    session.apply_edit(edit)
    assert recorded == []  # (not in the turn that applied it)
    qtbot.waitUntil(lambda: recorded == [1], timeout=1000)
    np.testing.assert_array_equal(saved_labels(session), labels)
    session.host.labels_layer().undo()  # (the undo: saved a turn later too)
    np.testing.assert_array_equal(labels, before)
    qtbot.wait(20)
    np.testing.assert_array_equal(saved_labels(session), before)
    session.apply_edit(_every_other_object_deleted(labels))
    path, expected = project.path, np.array(labels)
    session.close_project()  # (at once: the snapshot waiting is taken first)
    from unet_studio.app.project import Project

    with Project.open(path) as reopened:
        np.testing.assert_array_equal(reopened.labels(reopened.images[0].id), expected)


def test_telling_an_undo_reads_a_sample_of_a_big_step():
    from unet_studio.app.label_edit import LabelEdit
    from unet_studio.plugins.napari_undo_steps import HOLDS_SAMPLE as sample
    from unet_studio.plugins.napari_undo_steps import holds_values as _holds

    class Counted:
        def __init__(self, data):
            self.data, self.read = data, 0

        def __getitem__(self, index):
            self.read += np.size(index[0])
            return self.data[index]

    data = np.zeros((8, 200, 200), np.int32)
    indices = tuple(i.ravel() for i in np.indices(data.shape))
    edit = LabelEdit(indices, np.zeros(data.size, np.int32), np.full(data.size, 5, np.int32))
    counted = Counted(data)
    assert _holds(counted, edit, edit.old_values) and not _holds(counted, edit, edit.new_values)
    assert counted.read <= 2 * sample  # (was every pixel: 2 x 320000)
    data[3] = 5  # (a step half undone is not undone: napari never leaves one so, but it tells)
    assert not _holds(counted, edit, edit.old_values)
