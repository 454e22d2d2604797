"""Correction tools in a real napari viewer: each action is one napari undo step, edits
are recorded as reviewed and saved, and napari's own brush is seen too."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def _inside(labels, label_id, z=6):
    """A (z, y, x) coordinate in the middle of ``label_id`` on plane ``z``."""
    points = np.argwhere(labels[z] == label_id)
    y, x = points[len(points) // 2]
    return (float(z), float(y), float(x))


def _panel(studio):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    return CorrectPanel(studio.session)


def _assert_one_undo_restores(studio, before):
    """One undo gives ``before`` back exactly; redo then undo again: exact both ways."""
    layer = studio.host.labels_layer()
    after = layer.data.copy()
    assert not np.array_equal(after, before)
    layer.undo()
    np.testing.assert_array_equal(layer.data, before)
    layer.redo()
    np.testing.assert_array_equal(layer.data, after)
    layer.undo()
    np.testing.assert_array_equal(layer.data, before)


def test_delete_by_click_is_one_undo_step(corrected, qtbot):
    from unet_studio.app.host import ViewerHost

    assert isinstance(corrected.host, ViewerHost)  # napari's host keeps the panels' protocol
    panel = _panel(corrected)
    qtbot.addWidget(panel)
    labels = corrected.host.current_labels()
    before = labels.copy()
    panel.tool_buttons["delete"].click()
    corrected.host.click(_inside(labels, 7))
    assert not (labels == 7).any() and (before == 7).any()
    assert (labels[before != 7] == before[before != 7]).all()
    _assert_one_undo_restores(corrected, before)


def test_merge_and_split_are_one_undo_step_each(corrected, qtbot):
    panel = _panel(corrected)
    qtbot.addWidget(panel)
    host = corrected.host
    labels = host.current_labels()
    before = labels.copy()
    panel.tool_buttons["merge"].click()
    host.click(_inside(labels, 7))
    host.click(_inside(labels, 8))
    assert panel.apply_button.isEnabled()
    panel.apply_button.click()
    assert not (labels == 8).any() and (labels == 7).sum() == ((before == 7) | (before == 8)).sum()
    _assert_one_undo_restores(corrected, before)

    panel.tool_buttons["split"].click()
    points = np.argwhere(labels == 11)
    far_a, far_b = points[0], points[-1]  # two far apart voxels of one object
    host.click(tuple(map(float, far_a)))
    host.click(tuple(map(float, far_b)))
    panel.apply_button.click()
    parts = np.unique(labels[before == 11])
    assert len(parts) == 2 and 11 in parts  # one object became two, the first keeps its id
    _assert_one_undo_restores(corrected, before)


def _punch_hole(layer):
    """A 3 x 3 hole in object 14 on one plane, as one napari history step of its own:
    (the hole's pixels, a copy of the labels with it)."""
    z, y, x = map(int, _inside(layer.data, 14))
    hole = (np.full(9, z), np.repeat(np.arange(y - 1, y + 2), 3), np.tile(np.arange(x - 1, x + 2), 3))
    layer.data_setitem(hole, 0)
    return hole, layer.data.copy()


def test_fill_relabel_and_fresh_label(corrected, qtbot):
    panel = _panel(corrected)
    qtbot.addWidget(panel)
    host = corrected.host
    layer = host.labels_layer()
    labels = layer.data
    hole, with_hole = _punch_hole(layer)
    panel.fill_button.click()
    assert (labels[hole] == 14).all()
    _assert_one_undo_restores(corrected, with_hole)

    regions = corrected.session.ensure_reviewed()
    reviewed, changed = regions.mask.copy(), regions.changed.copy()
    panel.relabel_button.click()
    assert set(np.unique(labels)) == set(range(6))
    # New numbers, the same outlines: nothing more is reviewed (nor learnt from as changed).
    np.testing.assert_array_equal(regions.mask, reviewed)
    np.testing.assert_array_equal(regions.changed, changed)
    _assert_one_undo_restores(corrected, with_hole)

    panel.fresh_button.click()
    assert layer.selected_label == int(labels.max()) + 1 and layer.mode == "paint"


def test_fill_and_relabel_of_a_big_stack_are_computed_in_the_background(corrected, qtbot,
                                                                      monkeypatch):  # fmt: skip
    """Labels above the size done at the click (here: any): Fill holes and Relabel 1..N are
    computed in a worker thread, each still one napari undo step. A stroke of napari's brush
    while the fill is computed stays, and the fill (computed without it) is dropped."""
    import threading

    from scipy import ndimage as ndi

    from unet_studio.app.qt import stack_edit_runner

    monkeypatch.setattr(stack_edit_runner, "SYNC_PIXELS", 0)
    opened, threads, label = threading.Event(), [], ndi.label

    def held_label(*args, **kwargs):  # (the fill's labelling waits until opened)
        threads.append(threading.current_thread())
        opened.wait(timeout=2)
        return label(*args, **kwargs)

    monkeypatch.setattr(ndi, "label", held_label)
    panel = _panel(corrected)
    qtbot.addWidget(panel)
    runner, layer = panel.tools.stack_edits, corrected.host.labels_layer()
    labels = layer.data
    hole, with_hole = _punch_hole(layer)
    panel.fill_button.click()
    layer.brush_size = 3
    layer.paint((6, 10, 10), 99)  # napari's brush, while the fill is computed
    opened.set()
    qtbot.waitUntil(lambda: not runner.busy, timeout=10000)
    assert threads and threading.main_thread() not in threads
    assert panel.tool_status.text().startswith("The labels changed while filling the holes")
    assert (labels[hole] == 0).all() and labels[6, 10, 10] == 99
    layer.undo()  # (the stroke)
    np.testing.assert_array_equal(labels, with_hole)
    panel.fill_button.click()
    qtbot.waitUntil(lambda: not runner.busy, timeout=10000)
    assert panel.tool_status.text() == "Filled the holes of every object."
    assert (labels[hole] == 14).all()
    _assert_one_undo_restores(corrected, with_hole)
    panel.relabel_button.click()
    qtbot.waitUntil(lambda: not runner.busy, timeout=10000)
    assert set(np.unique(labels)) == set(range(6))
    _assert_one_undo_restores(corrected, with_hole)


def test_napari_brush_edits_are_recorded_and_autosaved(corrected, qtbot):
    session, host = corrected.session, corrected.host
    layer = host.labels_layer()
    layer.brush_size = 3
    layer.paint((6, 10, 10), 99)  # napari's own brush, outside any object
    qtbot.waitUntil(lambda: session.reviewed is not None and session.reviewed.changed.any())
    regions = session.reviewed
    assert regions.changed[6, 10, 10] and regions.mask[6, 10, 10]  # auto-reviewed around the edit
    project = session.project  # created on the first edit: nothing is ever unsaved
    assert project is not None and project.flush(10)
    restored = type(project).open(project.path)
    try:
        image_id = restored.images[0].id
        assert restored.labels(image_id)[6, 10, 10] == 99
    finally:
        restored.close()
    layer.undo()  # undo is saved too
    assert project.flush(10)
    again = type(project).open(project.path)
    try:
        assert again.labels(again.images[0].id)[6, 10, 10] == 0
    finally:
        again.close()


def test_mark_reviewed_slice_and_drawn_region_show_overlay(corrected, qtbot):
    panel = _panel(corrected)
    qtbot.addWidget(panel)
    viewer, session = corrected.viewer, corrected.session
    viewer.dims.set_point(0, 3 * 0.29)  # world coordinates: plane z=3
    panel.mark_slice_button.click()
    mask = session.reviewed.mask
    assert mask[3].all() and not mask[2].any() and not mask[4].any()
    assert "reviewed" in viewer.layers and viewer.layers["reviewed"].data[3].all()
    assert panel.reviewed_label.text().startswith("Reviewed: ")
    assert "of the voxels" in panel.reviewed_label.text()  # (a Z stack)

    viewer.dims.set_point(0, 8 * 0.29)
    square = np.array([[8, 10, 10], [8, 10, 40], [8, 40, 40], [8, 40, 10]], dtype=float)
    corrected.host.add_drawn_region(square)
    panel.mark_drawn_button.click()
    assert mask[8, 20, 20] and not mask[8, 60, 60] and not mask[7].any()
    regions = viewer.layers["review regions"]  # consumed: emptied and hidden, not removed
    assert len(regions.data) == 0 and not regions.visible  # (a removal collects garbage)
    assert corrected.host.drawn_regions() == []
    # (the labels are the active layer again: napari left none, its layer controls empty)
    assert viewer.layers.selection.active is corrected.host.labels_layer()
    # Drawn in the XY view, marked after turning the view to ZX: the plane it was drawn in.
    square = np.array([[10, 50, 50], [10, 50, 70], [10, 70, 70], [10, 70, 50]], dtype=float)
    corrected.host.add_drawn_region(square)
    viewer.dims.order = (1, 0, 2)
    panel.mark_drawn_button.click()
    assert mask[10, 50:70, 50:70].sum() >= 19 * 19 and not mask[9].any() and not mask[11].any()
    viewer.dims.order = (0, 1, 2)

    panel.overlay_check.setChecked(False)
    assert "reviewed" not in viewer.layers or not viewer.layers["reviewed"].visible


def test_undo_of_a_tool_edit_is_saved_and_auto_review_can_be_off(corrected, qtbot, saved_labels):
    panel = _panel(corrected)
    qtbot.addWidget(panel)
    session, host = corrected.session, corrected.host
    labels = host.current_labels()
    before = labels.copy()
    panel.auto_check.setChecked(False)  # edits no longer mark their region as reviewed
    panel.tool_buttons["delete"].click()
    z, y, x = map(int, _inside(labels, 7))
    host.click((z, y, x))
    assert labels[z, y, x] == 0
    assert session.reviewed.changed[z, y, x] and not session.reviewed.any()
    host.labels_layer().undo()  # napari's Ctrl+Z on the panel's edit: saved as well
    np.testing.assert_array_equal(saved_labels(session), before)


def test_new_labels_never_overwrite_reviewed_regions(corrected, qtbot):
    panel = _panel(corrected)
    qtbot.addWidget(panel)
    viewer, session, host = corrected.viewer, corrected.session, corrected.host
    panel.tool_buttons["delete"].click()
    host.click(_inside(host.current_labels(), 7))  # an edit in napari's history
    viewer.dims.set_point(0, 5 * 0.29)
    panel.mark_slice_button.click()  # plane z=5 reviewed
    reviewed, current = session.reviewed.mask.copy(), host.current_labels().copy()
    assert reviewed[5].all() and reviewed.sum() > reviewed[5].size  # the slice + the edit
    live = session.show_labels(np.full(current.shape, 3, np.int32))  # a new prediction
    np.testing.assert_array_equal(live[reviewed], current[reviewed])  # kept as reviewed
    assert (live[~reviewed] == 3).all()  # elsewhere: the prediction
    assert session.reviewed.mask[5].all() and "reviewed" in viewer.layers
    layer, shown = host.labels_layer(), live.copy()
    layer.undo()  # the replaced labels start a fresh history: the delete does not come back
    np.testing.assert_array_equal(layer.data, shown)


def test_tracks_of_a_stack_without_time_are_refused_with_a_message(corrected, qtbot, caplog):
    panel = _panel(corrected)
    qtbot.addWidget(panel)
    with caplog.at_level("WARNING"):
        assert panel.show_tracks() is None
    assert "tracks need a time series" in caplog.text
    assert not [layer for layer in corrected.viewer.layers if layer.name.endswith("tracks")]
