"""Undo takes back the reviewed and changed marks with the labels, in napari's window: of
every brush stroke napari can undo (not only of the last 100 dabs), per image (an undo on
one image's labels after edits of another's), and the user's own marks (Mark this slice,
Mark drawn region) are undo steps themselves; the status line says what was undone."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt

Z_SCALE = 0.29  # (the nuclei crop's Z step, as the `corrected` fixture adds it)


def _state(session):
    """(labels, reviewed, changed) copies of the current labels and their marks."""
    regions = session.ensure_reviewed()
    return (session.host.current_labels().copy(), np.array(regions.mask), np.array(regions.changed))


def _assert_same(state, expected):
    for name, now, then in zip(("labels", "reviewed", "changed"), state, expected):
        assert np.count_nonzero(now != then) == 0, f"{name} differ at {np.count_nonzero(now != then)} pixels"


def _stroke(layer, z: int, y: int, label: int, dabs: int = 8) -> None:
    """One brush stroke of napari's paint tool along row ``y`` of plane ``z``: a dab per
    point, one undo step (a drag paints inside ``block_history``, as here)."""
    with layer.block_history():
        for i in range(dabs):
            layer.paint((z, y, 10 + 3 * i), label, refresh=False)


def _panel(session, qtbot):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    return panel


def _settle(qtbot):
    qtbot.wait(10)  # (painted strokes are reported, and marks shown, a turn later)


@pytest.mark.slow
def test_undoing_many_strokes_takes_back_all_their_marks(corrected, qtbot):
    session = corrected.session
    panel = _panel(session, qtbot)
    layer = session.host.labels_layer()
    layer.brush_size = 3
    states = [_state(session)]
    for k in range(20):  # 160 dabs: more than 100, each reported as an edit
        _stroke(layer, z=k % 12, y=8 + 4 * k, label=500 + k)
        _settle(qtbot)
        states.append(_state(session))
    for k in range(20, 0, -1):
        panel.undo_button.click()
        _settle(qtbot)
        _assert_same(_state(session), states[k - 1])
    for _ in range(20):
        panel.redo_button.click()
        _settle(qtbot)
    _assert_same(_state(session), states[-1])


@pytest.mark.slow
def test_undo_on_one_image_after_editing_another_takes_back_its_marks(studio, nuclei_crop, qtbot, tmp_path):
    session, viewer = studio.session, studio.viewer
    session.open_project(tmp_path / "project", create=True)
    panel = _panel(session, qtbot)
    image, labels = nuclei_crop
    viewer.add_image(image, name="first", metadata={"axes": "ZYX"})
    session.show_labels(labels.copy())
    first = session.host.labels_layer()
    before = _state(session)
    _stroke(first, z=6, y=30, label=900)
    _settle(qtbot)
    assert np.count_nonzero(_state(session)[1] != before[1])  # (the stroke marked)

    second_image = viewer.add_image(image[:, ::-1].copy(), name="second", metadata={"axes": "ZYX"})
    viewer.layers.selection.active = second_image
    session.show_labels(labels[:, ::-1].copy())
    _stroke(session.host.labels_layer(), z=6, y=50, label=901)
    _settle(qtbot)

    viewer.layers.selection.active = first
    _settle(qtbot)
    assert session.host.labels_layer() is first
    panel.undo_button.click()
    _settle(qtbot)
    _assert_same(_state(session), before)
    assert session.project.flush(10)  # (and so saved: a second opening reads no mark of it)
    again = type(session.project).open(session.project.path)
    try:
        saved = again.reviewed(again.images[0].id)
        assert saved is None or not saved.mask.any() and not saved.changed.any()
    finally:
        again.close()


def test_marking_a_slice_is_undone_before_the_edit_before_it(corrected, qtbot):
    session, viewer = corrected.session, corrected.viewer
    panel = _panel(session, qtbot)
    layer = session.host.labels_layer()
    start = _state(session)
    _stroke(layer, z=2, y=30, label=900)  # (an edit on a slice that will be off screen)
    _settle(qtbot)
    edited = _state(session)
    viewer.dims.set_point(0, 8 * Z_SCALE)
    panel.mark_slice_button.click()
    marked = _state(session)
    assert marked[1][8].all()

    panel.undo_button.click()  # the mark goes; the edit off screen stays
    _settle(qtbot)
    _assert_same(_state(session), edited)
    assert panel.tool_status.text() == "Undone: slice 8 marked as reviewed."
    panel.redo_button.click()
    _settle(qtbot)
    _assert_same(_state(session), marked)
    assert panel.tool_status.text() == "Redone: slice 8 marked as reviewed."
    panel.undo_button.click()
    panel.undo_button.click()  # then the edit, with its marks
    _settle(qtbot)
    _assert_same(_state(session), start)
    assert panel.tool_status.text() == "Undone: painting."


@pytest.mark.slow
def test_mark_drawn_region_is_told_and_undone(corrected, qtbot):
    session, viewer = corrected.session, corrected.viewer
    panel = _panel(session, qtbot)
    viewer.dims.set_point(0, 8 * Z_SCALE)
    panel.mark_slice_button.click()  # (the status line said so: now it must not stay)
    viewer.dims.set_point(0, 4 * Z_SCALE)
    before = _state(session)
    corrected.host.add_drawn_region(np.array([[4, 10, 10], [4, 10, 40], [4, 40, 40], [4, 40, 10]], float))
    panel.mark_drawn_button.click()
    assert panel.tool_status.text() == "Marked the drawn region in the plane it was drawn in."
    assert session.reviewed.mask[4, 20, 20]
    panel.undo_button.click()
    _settle(qtbot)
    _assert_same(_state(session), before)
    assert panel.tool_status.text() == "Undone: marked the drawn region in the plane it was drawn in."


def test_undoing_an_object_tool_edit_says_what_was_undone(corrected, qtbot):
    session = corrected.session
    panel = _panel(session, qtbot)
    labels = session.host.current_labels()
    points = np.argwhere(labels[6] == 7)
    panel.tool_buttons["delete"].click()
    panel._on_click((6.0, *map(float, points[len(points) // 2])))
    assert not (labels == 7).any()
    panel.undo_button.click()
    _settle(qtbot)
    assert (labels == 7).any()
    assert panel.tool_status.text() == "Undone: delete 7. Click an object to delete it."
